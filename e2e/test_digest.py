"""Browser journey through the digest: a patient reads their period, a linked doctor the same."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from e2e.live_server import LiveServer
from e2e.test_diary import PASSWORD, register

SEED = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from accounts import services as accounts
from diary.models import BodyPart, PainEntry
from diary import services
patient = User.objects.get(username="{patient}")
now = timezone.now()
# Entries over 60 days: the last week, the last month, and earlier.
for days_ago, part, intensity in [
    (0, "knee-left", 7), (1, "knee-left", 6), (3, "head", 3), (12, "knee-left", 4),
    (20, "loin", 5), (45, "loin", 8), (59, "head", 2),
]:
    PainEntry.objects.create(
        owner=patient, body_part=BodyPart.objects.get(name=part), pain_type="burning",
        intensity=intensity, date_recorded=now - timedelta(days=days_ago, hours=1),
    )
services.create_note(owner=patient, title="For my doctor", shared=True)
services.create_note(owner=patient, title="Only mine")
doctor = accounts.register_user(
    username="{doctor}", email="{doctor}@example.com", password="{password}"
)
accounts.set_role(users=[doctor], role="doctor")
link = accounts.request_link(patient=patient, doctor=doctor)
accounts.change_link(link=link, by=doctor, status="active")
"""


def test_patient_and_linked_doctor_read_the_digest(
    page: Page, browser: Browser, daphne_server: LiveServer, base_url: str
) -> None:
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    patient = register(page)
    doctor = f"doc{uuid.uuid4().hex[:8]}"
    daphne_server.shell(SEED.format(patient=patient, doctor=doctor, password=PASSWORD))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Digest").click()
    expect(page).to_have_url(re.compile(r"/diary/digest/$"))
    expect(page.locator("#digest-summary")).to_contain_text("Most pain:")
    expect(page.locator("#figure-entries")).to_have_text("5")  # the last 30 days
    # The chart is drawn on the server, with a line for the consecutive days.
    chart = page.locator("svg#timeline-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.chart-line-max")).to_have_count(1)
    # The heatmap: the knee coloured by its mean, (7 + 6 + 4) / 3 = 5.7 -> 6.
    expect(page.locator("#region-knee-left")).to_have_attribute("class", "body-region level-6")
    expect(page.locator("#pain-legend-title")).to_contain_text("Mean intensity")
    expect(page.get_by_text("For my doctor")).to_be_visible()

    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"days=7"))
    expect(page.locator("#digest-period")).to_contain_text("7 days")
    expect(page.locator("#figure-entries")).to_have_text("3")
    page.get_by_role("link", name="90 days").click()
    expect(page).to_have_url(re.compile(r"days=90"))
    expect(page.locator("#digest-period")).to_contain_text("90 days")
    expect(page.locator("#figure-entries")).to_have_text("7")
    expect(page.get_by_role("link", name="90 days")).to_have_attribute("aria-current", "page")

    page.get_by_role("link", name="Number of entries").click()
    expect(page).to_have_url(re.compile(r"days=90&color=count"))
    expect(page.locator("#pain-legend-title")).to_contain_text("Number of entries")
    expect(page.locator("#region-knee-left")).to_have_attribute("class", "body-region level-10")

    page.get_by_text("Show the numbers").click()
    expect(page.locator("#daily-table tbody tr")).to_have_count(90)
    expect(page.get_by_role("button", name="Print / Save as PDF")).to_be_visible()
    assert blocked == []

    # The CSV download: a header row, then one row per entry (all 7 of them).
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV (entries)").click()
    download = download_info.value
    assert download.suggested_filename == f"painmap-{patient}-entries.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert rows[0][:3] == ["id", "date_recorded", "body_part_id"]
    assert len(rows) == 8

    # The linked doctor opens the same patient's digest from "My patients".
    context = browser.new_context(base_url=base_url)
    try:
        doctor_page = context.new_page()
        doctor_page.set_default_timeout(10_000)
        doctor_page.goto("/accounts/login/")
        doctor_page.locator("#id_username").fill(doctor)
        doctor_page.locator("#id_password").fill(PASSWORD)
        doctor_page.get_by_role("button", name="Sign in").click()
        doctor_page.goto("/diary/patients/")
        row = doctor_page.locator(f"tr[data-patient='{patient}']")
        row.get_by_role("link", name="Digest").click()
        expect(doctor_page).to_have_url(re.compile(rf"/diary/patients/{patient}/digest/$"))
        expect(doctor_page.locator("#figure-entries")).to_have_text("5")
        expect(doctor_page.locator("svg#timeline-chart polyline").first).to_be_visible()
        # The notes section (the printed brief, hidden on screen, lists the note too).
        notes = doctor_page.locator("section[aria-labelledby=notes-heading]")
        expect(notes.get_by_text("For my doctor")).to_be_visible()
        expect(doctor_page.get_by_text("Only mine")).to_have_count(0)
    finally:
        context.close()


def test_digest_fits_a_phone(page: Page, daphne_server: LiveServer) -> None:
    """Issue #11, bug 3: at 390 px nothing scrolls sideways, the chart shows the whole period
    (the recent days included) and the part table keeps its Trend column in view."""
    patient = register(page)
    doctor = f"doc{uuid.uuid4().hex[:8]}"
    daphne_server.shell(SEED.format(patient=patient, doctor=doctor, password=PASSWORD))
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto("/diary/digest/")
        sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert sizes[0] <= sizes[1], sizes
        # The Trend column is in view, not behind the table's sideways scroll.
        table = page.locator("#part-table")
        assert table.locator("xpath=..").evaluate("el => el.scrollWidth <= el.clientWidth")
        trend = table.get_by_role("columnheader", name="Trend")
        expect(trend).to_be_visible()
        cell = table.locator('tr[data-body-part="knee-left"] td').last
        expect(cell).to_have_text("no trend yet")
        for element in (trend, cell):
            box = element.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= width
        # The chart shows the whole period: no box scrolling sideways, today's date on screen.
        visible = page.locator(".timeline-chart-wrap:visible")
        expect(visible).to_have_count(1)
        assert visible.evaluate("el => el.scrollWidth <= el.clientWidth")
        expect(page.locator("svg#timeline-chart-compact")).to_be_visible()
        box = visible.locator(".chart-date-label").last.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width
