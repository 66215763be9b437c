"""The clinical journey end to end, in real Chromium: a patient records pain with factors, takes a
rescue dose, answers "did it help?", completes the weekly PEG check-in and shares a question;
their doctor opens the 60-second brief from My patients and reads all of it. Screenshots of the
brief at a laptop's and a phone's width are saved under test-results/brief/ for a reviewer."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.live_server import ROOT, LiveServer
from e2e.test_diary import PASSWORD, register
from e2e.test_pages import WIDTHS, Audit, check, open_context

SHOTS = ROOT / "test-results" / "brief"
# The doctor, linked; two earlier "poor sleep" entries this month (a factor needs 3 entries to
# be compared) and one in the 30 days before, so the brief has something to compare with.
SEED = """
from datetime import timedelta
from django.utils import timezone
from accounts import services as accounts
from accounts.models import User
from diary import services
from diary.models import BodyPart
patient = User.objects.get(username="{p}")
doctor = accounts.register_user(username="{d}", email="{d}@example.com", password="{pw}")
accounts.set_role(users=[doctor], role="doctor")
accounts.change_link(link=accounts.request_link(patient=patient, doctor=doctor), by=doctor,
                     status="active")
knee = BodyPart.objects.get(name="knee-left")
for days, intensity, factors in [(3, 5, ["poor sleep"]), (2, 6, ["poor sleep"]), (40, 3, [])]:
    services.record_pain(owner=patient, body_part=knee, pain_type="stabbing",
                         intensity=intensity, factors=factors,
                         date_recorded=timezone.now() - timedelta(days=days))
"""
# "Did it help?" is asked RELIEF_ASK_AFTER (3 h) after a dose: the dose is moved back instead of
# waiting, so nothing depends on the clock.
BACKDATE = """
from datetime import timedelta
from django.utils import timezone
from clinical.models import DoseTaken
n = DoseTaken.objects.filter(medication__patient__username="{p}").update(
    taken_at=timezone.now() - timedelta(hours=4)
)
assert n == 1, n
"""


def patient_records_everything(page: Page, server: LiveServer, doctor: str) -> str:
    username = register(page)
    server.shell(SEED.format(p=username, d=doctor, pw=PASSWORD))

    # Pain with a factor, from the body map.
    page.goto("/diary/")
    page.locator("#region-knee-left").click()
    panel = page.locator("#entry-panel")
    panel.get_by_text("Stabbing", exact=True).click()
    panel.locator("label[for=id_intensity_8]").click()
    panel.locator(".factor-chip", has_text="poor sleep").click()
    panel.get_by_role("button", name="Save entry").click()
    expect(page.locator("#entry-saved")).to_contain_text("Left knee")

    # A rescue medication, taken in one tap.
    page.goto("/clinical/medications/")
    page.get_by_label("Name").fill("Ibuprofen")
    page.get_by_label("Usual dose").fill("400")
    page.get_by_label("Rescue (taken as needed)").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("article.medication")).to_contain_text("Ibuprofen")
    page.goto("/diary/")
    page.get_by_role("button", name="I took Ibuprofen 400 mg").click()
    expect(page.locator("#dose-saved")).to_contain_text("Recorded Ibuprofen 400 mg")

    # Did it help?
    server.shell(BACKDATE.format(p=username))
    page.goto("/diary/")
    relief = page.locator("#relief-card")
    expect(relief).to_contain_text("Did it help?")
    relief.get_by_role("button", name="Relief 7 of 10").click()
    expect(page.locator("#relief-saved")).to_contain_text("relief 7/10")

    # The weekly check-in (due any day: the default day is Monday).
    card = page.locator("#checkin-card")
    for field, value in (("average", "6"), ("enjoyment", "7"), ("activity", "5")):
        card.locator(f"label[for='id_{field}_{value}']").click()
    card.get_by_role("button", name="Save check-in").click()
    expect(page.locator("#checkin-saved")).to_contain_text("6.0 of 10")

    # A question for the visit, shared with the doctor.
    page.goto("/diary/notes/")
    page.get_by_label("Title").fill("Can I take ibuprofen every day?")
    page.get_by_label("Note", exact=True).fill("It helps, but the knee keeps me awake.")
    page.get_by_label("Shared with my doctors").check()
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".note-title").first).to_contain_text("Can I take ibuprofen every day?")
    return username


def test_the_doctor_reads_what_the_patient_recorded_in_the_brief(
    page: Page, browser: Browser, base_url: str, daphne_server: LiveServer
) -> None:
    doctor = f"doc{uuid.uuid4().hex[:8]}"
    patient = patient_records_everything(page, daphne_server, doctor)

    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    brief = context.new_page()
    brief.set_default_timeout(10_000)
    brief.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    brief.goto("/accounts/login/")
    brief.locator("#id_username").fill(doctor)
    brief.locator("#id_password").fill(PASSWORD)
    brief.get_by_role("button", name="Sign in").click()
    expect(brief.locator("#signed-in-as")).to_contain_text(doctor)
    brief.goto("/diary/patients/")
    brief.locator(f"tr[data-patient='{patient}']").get_by_role("link", name="Brief").click()
    expect(brief).to_have_url(re.compile(rf"/clinical/patients/{patient}/brief/$"))
    expect(brief.locator("h1")).to_contain_text("what changed")
    expect(brief.locator("#zone-note")).to_contain_text("Times in")

    # What changed: 3 entries now (5, 6, 8: mean 6.3) against 1 before (3).
    changes = brief.locator("#brief-changes")
    expect(changes).to_contain_text("3 entries on 3 days (before: 1 on 1).")
    expect(changes).to_contain_text("Mean pain 6.3, before 3.0 (up +3.3).")
    expect(changes).to_contain_text("Worse: left knee.")
    # Both maps, the left knee coloured by its mean in each.
    expect(brief.get_by_role("img", name=re.compile(r"^Now, front: left knee 6$"))).to_be_visible()
    expect(
        brief.get_by_role("img", name=re.compile(r"^Before, front: left knee 3$"))
    ).to_be_visible()
    knee = brief.locator("#brief-regions tr[data-body-part=knee-left]")
    expect(knee).to_contain_text("6.3")
    expect(knee).to_contain_text("▲ worse +3.3")
    # The check-in, the dose and its relief, the factor, the question, the worst day.
    expect(brief.locator("#brief-peg-latest")).to_contain_text("Latest 6.0")
    expect(brief.locator("#brief-rescue")).to_contain_text("(1 in 30 days)")
    expect(brief.locator("#brief-relief")).to_contain_text("Ibuprofen")
    expect(brief.locator("#brief-relief")).to_contain_text("relief 7.0/10 (1 answer)")
    expect(brief.locator("#brief-factors li[data-factor='poor sleep']")).to_contain_text(
        "with 6.3, nothing without (3 entries on 3 days)"
    )
    expect(brief.locator("#brief-notes-heading + article")).to_contain_text(
        "Can I take ibuprofen every day?"
    )
    expect(brief.locator("#brief-worst-days li").first).to_contain_text("8")

    SHOTS.mkdir(parents=True, exist_ok=True)
    brief.screenshot(path=str(SHOTS / "brief-1366.png"), full_page=True)
    brief.set_viewport_size({"width": 390, "height": 844})
    expect(brief.locator("#brief-changes")).to_be_visible()
    assert brief.evaluate("document.documentElement.scrollWidth") <= 390
    brief.screenshot(path=str(SHOTS / "brief-390.png"), full_page=True)

    # The patient's diary, read-only, says what they take.
    brief.set_viewport_size({"width": 1366, "height": 900})
    brief.goto(f"/diary/patients/{patient}/")
    panel = brief.locator("#patient-medications")
    expect(panel).to_contain_text("Rescue doses: 0.2 a week (1 in 28 days).")
    expect(panel.locator("tr", has_text="Ibuprofen")).to_contain_text("7.0/10 (1)")
    expect(panel.locator("button, form, input")).to_have_count(0)
    panel.screenshot(path=str(SHOTS / "patient-medications-1366.png"))
    brief.set_viewport_size({"width": 390, "height": 844})
    panel.screenshot(path=str(SHOTS / "patient-medications-390.png"))

    # The printed report starts with the brief, then a page break before the digest.
    brief.goto(f"/diary/patients/{patient}/digest/")
    expect(brief.locator(".brief-print")).to_be_hidden()
    brief.emulate_media(media="print")
    expect(brief.locator(".brief-print")).to_be_visible()
    expect(brief.locator(".brief-print #brief-changes")).to_contain_text("Mean pain 6.3")
    assert brief.evaluate(
        "getComputedStyle(document.querySelector('.brief-print')).breakAfter"
    ) in ("page", "always")
    brief.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    brief.screenshot(path=str(SHOTS / "digest-print.png"), full_page=True)
    context.close()
    assert errors == []


def test_a_dose_is_deleted_only_after_confirming_in_place(
    page: Page, daphne_server: LiveServer
) -> None:
    register(page)
    page.goto("/clinical/medications/")
    page.get_by_label("Name").fill("Naproxen")
    page.get_by_label("Usual dose").fill("250")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("article.medication").get_by_role("link", name="Doses", exact=True).click()
    page.get_by_role("button", name="Record dose").click()
    row = page.locator("#dose-list tbody tr")
    expect(row).to_have_count(1)

    row.get_by_role("link", name=re.compile("^Delete the dose")).click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete the dose of 250 mg")
    dialog.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(row).to_have_count(1)

    row.get_by_role("link", name=re.compile("^Delete the dose")).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#dose-list").screenshot(path=str(SHOTS / "dose-confirm.png"))
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#dose-status")).to_contain_text("Deleted the dose")
    expect(page.locator("#dose-list tbody tr")).to_have_count(0)
    page.reload()
    expect(page.locator("#dose-list-empty")).to_be_visible()


DOSE = """
from decimal import Decimal
from accounts.models import User
from clinical import services
patient = User.objects.get(username="{p}")
medication = services.add_medication(patient=patient, name="Naproxen", usual_dose=Decimal(250))
print(medication.pk, services.take_dose(medication=medication, relief=4).pk)
"""


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_delete_confirmation_pages_pass_the_audit(
    browser: Browser, base_url: str, daphne_server: LiveServer, width: str
) -> None:
    """Without JavaScript, Delete opens a page that asks (a dose's, a medication's): audited
    like every other page."""
    context = open_context(browser, base_url, width)
    username = register(context.new_page())
    medication, dose = daphne_server.shell(DOSE.format(p=username)).split()[-2:]
    audit = Audit()
    check(context, audit, "dose-delete", f"/clinical/doses/{dose}/delete/", width)
    check(context, audit, "medication-delete", f"/clinical/medications/{medication}/delete/", width)
    context.close()
    assert audit.problems == []
    assert audit.axe == {f"dose-delete@{width}": {}, f"medication-delete@{width}": {}}
