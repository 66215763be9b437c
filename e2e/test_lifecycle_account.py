"""The end of an account: download everything from the profile, then delete the account with
the password, land signed out, and find that the old password opens nothing. The doctor the
patient talked with then sees a "deleted user"."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from e2e.test_chat import PASSWORD, sign_in

SHOTS = Path(os.environ.get("EXPORTDELETE_SHOTS", "/tmp/exportdelete-shots"))
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at a desktop and a phone width, to look at by eye."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_export_then_delete_the_account(browser: Browser, base_url: str, daphne_server) -> None:
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"pat{suffix}", f"doc{suffix}"
    daphne_server.shell(
        "from datetime import datetime, UTC\n"
        "from accounts import services as s\n"
        "from diary import services as d\n"
        "from diary.models import BodyPart\n"
        "from messaging.models import Message\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        "p.first_name, p.last_name, p.timezone = 'Pat', 'Example', 'Asia/Tokyo'\n"
        "p.save()\n"
        f"doc = s.register_user(username='{doctor}', email='{doctor}@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[doc], role='doctor')\n"
        "link = s.request_link(patient=p, doctor=doc)\n"
        "s.change_link(link=link, by=doc, status='active')\n"
        "d.record_pain(owner=p, body_part=BodyPart.objects.get(name='knee-left'), "
        "pain_type='stabbing', intensity=8, description='after running', "
        "date_recorded=datetime(2026, 1, 15, 14, 30, tzinfo=UTC))\n"
        "d.create_note(owner=p, title='my note', body='for me')\n"
        "Message.objects.create(sender=p, receiver=doc, text='my knee again')\n"
        "Message.objects.create(sender=doc, receiver=p, text='rest it for a week')\n"
    )
    context, page = sign_in(browser, base_url, patient)
    try:
        page.get_by_role("link", name=patient).click()
        expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
        expect(page.get_by_role("heading", name="Download everything")).to_be_visible()
        shoot(page, "profile")

        # Download everything.
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download my data").click()
        download = download_info.value
        assert re.fullmatch(
            rf"painmap-{patient}-account-\d{{4}}-\d{{2}}-\d{{2}}\.json", download.suggested_filename
        )
        document = json.loads(Path(download.path()).read_text(encoding="utf-8"))
        assert document["format"] == "painmap-account-export"
        assert document["time_zone"] == "Asia/Tokyo"
        assert document["profile"]["username"] == patient
        assert document["profile"]["first_name"] == "Pat"
        [entry] = document["pain_entries"]
        assert entry["date_recorded"] == "2026-01-15T23:30:00+09:00"
        assert entry["description"] == "after running"
        assert [note["title"] for note in document["notes"]] == ["my note"]
        assert [(m["direction"], m["peer"]) for m in document["messages"]] == [
            ("sent", doctor),
            ("received", doctor),
        ]
        assert [link["status"] for link in document["care_links"]] == ["active"]
        assert document["exported_at"].endswith("+09:00")

        # Delete the account: the page says what goes, a wrong password is refused inline.
        page.get_by_role("link", name="Delete my account…").click()
        expect(page).to_have_url(re.compile(r"/accounts/delete/$"))
        expect(page.locator("#delete-removed")).to_contain_text("Your pain diary: 1 entry.")
        expect(page.locator("#delete-kept")).to_contain_text("deleted user")
        page.get_by_label("Your password").fill("not my password")
        page.get_by_role("button", name="Delete my account").click()
        expect(page.locator(".invalid-feedback")).to_contain_text("entered incorrectly")
        shoot(page, "delete-confirmation")

        page.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Delete my account").click()
        expect(page.get_by_text("Your account and your data were deleted.")).to_be_visible()
        expect(page.locator("#signed-in-as")).to_have_count(0)
        shoot(page, "after-delete")

        # The old credentials open nothing any more.
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(patient)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
        page.goto("/accounts/profile/")
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
    finally:
        context.close()

    # The doctor's inbox and chat say "deleted user"; the doctor's own message is still there.
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        doc.goto("/chat/")
        row = doc.locator(".conversation-row").first
        expect(row).to_contain_text("deleted user")
        expect(row).to_contain_text("rest it for a week")
        row.click()
        expect(doc.locator("#message-list")).to_contain_text("rest it for a week")
        expect(doc.locator("#message-list")).not_to_contain_text("my knee again")
        expect(doc.locator("#cannot-send")).to_contain_text("deleted their account")
        expect(doc.locator("#chat-input")).to_have_count(0)
        shoot(doc, "doctor-chat-with-deleted-user")
        doc.goto("/accounts/care/")
        expect(doc.get_by_text("deleted user — ended")).to_be_visible()
    finally:
        doc_context.close()
