"""Browser journey through the clinical panels: a rescue medication from the Medications page,
taken in one tap on the diary, "did it help?" answered in place, the weekly PEG check-in, and
all of it in the digest."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.live_server import LiveServer
from e2e.test_diary import register

# The relief question comes RELIEF_ASK_AFTER (3 h) after a dose: the test moves the dose back
# instead of waiting, so nothing depends on the clock.
BACKDATE = """
from datetime import timedelta
from django.utils import timezone
from clinical.models import DoseTaken
n = DoseTaken.objects.filter(medication__patient__username="{username}").update(
    taken_at=timezone.now() - timedelta(hours=4)
)
assert n == 1, n
"""


def test_rescue_dose_relief_checkin_and_digest(page: Page, daphne_server: LiveServer) -> None:
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    username = register(page)
    expect(page).to_have_url(re.compile(r"/diary/$"))

    # No rescue medication yet: the panel points to the Medications page.
    page.locator("#rescue-card").get_by_role("link", name="Medications").first.click()
    expect(page).to_have_url(re.compile(r"/clinical/medications/$"))
    expect(page.locator("#medication-list-empty")).to_be_visible()
    page.get_by_label("Name").fill("Ibuprofen")
    page.get_by_label("Usual dose").fill("400")
    page.get_by_label("Rescue (taken as needed)").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("article.medication")).to_contain_text("Ibuprofen")

    # One tap on the diary, swapped in place.
    page.goto("/diary/")
    page.get_by_role("button", name="I took Ibuprofen 400 mg").click()
    expect(page.locator("#dose-saved")).to_contain_text("Recorded Ibuprofen 400 mg")
    expect(page.locator("#relief-card")).to_have_count(0)

    daphne_server.shell(BACKDATE.format(username=username))
    page.goto("/diary/")
    relief = page.locator("#relief-card")
    expect(relief).to_contain_text("Did it help?")
    relief.get_by_role("button", name="Relief 7 of 10").click()
    expect(page.locator("#relief-saved")).to_contain_text("relief 7/10")
    expect(page.locator("#relief-card")).to_have_count(0)

    # The check-in day is Monday by default, so a check-in is due any day of the week.
    card = page.locator("#checkin-card")
    expect(card).to_be_visible()
    for field, value in (("average", "6"), ("enjoyment", "7"), ("activity", "5")):
        card.locator(f"label[for='id_{field}_{value}']").click()
    card.get_by_role("button", name="Save check-in").click()
    expect(page.locator("#checkin-saved")).to_contain_text("6.0 of 10")
    expect(page.locator("#checkin-card")).to_have_count(0)

    page.goto("/diary/digest/?days=7")
    section = page.locator("#clinical-digest")
    expect(section.locator("#figure-rescue-doses")).to_have_text("1")
    expect(section.locator("#figure-relief")).to_contain_text("7.0")
    expect(section.locator("#clinical-weeks")).to_contain_text("6.0")
    assert blocked == []
