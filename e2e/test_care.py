"""The care-link journey: request, accept, read the diary, chat, end, and the access log."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, expect

from e2e.test_chat import PASSWORD, send, sign_in, wait_for_socket


def test_link_diary_chat_end_and_access_log(browser: Browser, base_url: str, daphne_server) -> None:
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"pat{suffix}", f"doc{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        "from diary import services as d\n"
        "from diary.models import BodyPart\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        f"doc = s.register_user(username='{doctor}', email='{doctor}@example.com', "
        f"password='{PASSWORD}')\n"
        "doc.first_name, doc.last_name = 'Dana', 'Doctor'\n"
        "doc.save()\n"
        "s.set_role(users=[doc], role='doctor')\n"
        "d.record_pain(owner=p, body_part=BodyPart.objects.get(name='knee-left'), "
        "pain_type='stabbing', intensity=8, description='after running')\n"
    )
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        # The patient finds the doctor and asks for a link.
        pat.get_by_role("link", name="Find a doctor").click()
        pat.get_by_label("Name or username").fill("dana")
        pat.get_by_role("button", name="Search").click()
        pat.get_by_role("button", name="Ask to be my doctor").click()
        expect(pat.locator("#pending-links")).to_contain_text(doctor)

        # The doctor sees the badge, accepts, and reads the diary (read-only).
        doc.reload()
        expect(doc.locator("#pending-link-badge")).to_have_text("1")
        doc.locator("#nav-care-team").click()
        doc.get_by_role("button", name="Accept").click()
        expect(doc.locator("#active-links")).to_contain_text(patient)
        doc.get_by_role("link", name="My patients").click()
        row = doc.locator(f'tr[data-patient="{patient}"]')
        expect(row).to_contain_text("8")
        row.get_by_role("link", name="Diary").click()
        expect(doc.get_by_text("read-only")).to_be_visible()
        expect(doc.locator("#entry-list")).to_contain_text("after running")
        expect(doc.locator("#region-knee-left")).to_have_class(re.compile(r"\blevel-8\b"))

        # Both chat live.
        doc.get_by_role("link", name=re.compile("^Chat with")).click()
        wait_for_socket(doc)
        pat.goto(f"/chat/{doctor}/")
        wait_for_socket(pat)
        send(doc, "How is the knee today?")
        expect(pat.locator(".chat-message.theirs")).to_contain_text("How is the knee today?")
        send(pat, "Better, thanks")
        expect(doc.locator(".chat-message.theirs")).to_contain_text("Better, thanks")

        # The patient ends the link (after a confirmation): sending is closed, reading is not.
        pat.goto("/accounts/care/")
        pat.get_by_role("link", name="End link").click()
        expect(pat.get_by_role("heading", name="End this link?")).to_be_visible()
        pat.get_by_role("button", name="End link").click()
        expect(pat.get_by_text("The link has ended.")).to_be_visible()
        doc.goto(f"/chat/{patient}/")
        expect(doc.locator("#cannot-send")).to_contain_text("Sending is closed")
        expect(doc.locator("#chat-form")).to_have_count(0)
        expect(doc.locator(".chat-message")).to_have_count(2)
        doc.goto(f"/diary/patients/{patient}/")
        expect(doc.get_by_role("heading", name="Page not found")).to_be_visible()

        # The patient sees who viewed the diary.
        pat.goto("/accounts/access-log/")
        expect(pat.locator("#access-log")).to_contain_text(doctor)
        expect(pat.locator("#access-log")).to_contain_text("diary page")
    finally:
        pat_context.close()
        doc_context.close()
