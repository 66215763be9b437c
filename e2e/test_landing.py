"""Land where the work is (issue #11): signing in takes a patient to the diary and a doctor to
My patients; a doctor reading a patient sees the shared notes first and whose time is shown."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, expect

from e2e.test_chat import PASSWORD, sign_in


def test_patient_and_doctor_land_where_their_work_is(
    browser: Browser, base_url: str, daphne_server
) -> None:
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"pat{suffix}", f"doc{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        "from diary import services as d\n"
        "from diary.models import BodyPart\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        "p.timezone = 'America/New_York'\n"
        "p.save()\n"
        f"doc = s.register_user(username='{doctor}', email='{doctor}@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[doc], role='doctor')\n"
        "s.change_link(link=s.request_link(patient=p, doctor=doc), by=doc, status='active')\n"
        "for n in range(3):\n"
        "    d.record_pain(owner=p, body_part=BodyPart.objects.get(name='knee-left'), "
        "pain_type='stabbing', intensity=5 + n)\n"
        "d.create_note(owner=p, title='Can I keep running?', shared=True)\n"
    )
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        # The patient is on the diary, the map ready; no Hello page, no API card.
        expect(pat).to_have_url(re.compile(r"/diary/$"))
        expect(pat.get_by_role("link", name="Diary")).to_have_attribute("aria-current", "page")
        expect(pat.get_by_text("API documentation")).to_have_count(0)

        # The doctor is on My patients; the Chat action is a real (primary) button.
        expect(doc).to_have_url(re.compile(r"/diary/patients/$"))
        row = doc.locator(f'tr[data-patient="{patient}"]')
        expect(row.get_by_role("link", name="Chat")).to_have_class(re.compile(r"\bbtn-primary\b"))
        # The brand link and /diary/ both bring the doctor back here.
        doc.goto("/diary/")
        expect(doc).to_have_url(re.compile(r"/diary/patients/$"))

        # The patient's diary: the shared question first, the patient's zone named.
        row.get_by_role("link", name="Diary").click()
        expect(doc.locator("#shared-notes")).to_contain_text("Can I keep running?")
        expect(doc.locator("#zone-note")).to_contain_text("America/New_York")
        notes_top = doc.locator("#shared-notes").bounding_box()["y"]
        entries_top = doc.locator("#entry-list").bounding_box()["y"]
        assert notes_top < entries_top

        # Developer access lives on the profile.
        doc.goto("/accounts/profile/")
        card = doc.locator("#developer-access")
        expect(card).to_contain_text("/api/auth/login/")
        expect(card.get_by_role("link", name="API documentation")).to_have_attribute(
            "href", "/api/docs/"
        )
    finally:
        pat_context.close()
        doc_context.close()


def test_sign_in_follows_next_over_the_landing(browser: Browser, base_url: str, daphne_server):
    username = f"nxt{uuid.uuid4().hex[:6]}"
    daphne_server.shell(
        "from accounts import services as s\n"
        f"s.register_user(username='{username}', email='{username}@example.com', "
        f"password='{PASSWORD}')\n"
    )
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    try:
        page.goto("/diary/notes/")  # signed out: sent to sign in, with next=
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/diary/notes/$"))
    finally:
        context.close()
