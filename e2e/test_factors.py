"""Factors in the browser: tap a chip, add one's own words, see them on the entry and, once
there are three, compared in the digest. Screenshots of both at a laptop's and a phone's width
are saved under test-results/factors/ for a reviewer."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.live_server import ROOT, LiveServer
from e2e.test_diary import register

SHOTS = ROOT / "test-results" / "factors"
SEED = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from diary import services
from diary.models import BodyPart
owner = User.objects.get(username="{username}")
head = BodyPart.objects.get(name="head")
for hours, intensity, factors in [(30, 8, ["poor sleep"]), (28, 6, ["poor sleep", "stress"]),
                                  (26, 2, [])]:
    services.record_pain(owner=owner, body_part=head, pain_type="throbbing",
                         intensity=intensity, factors=factors,
                         date_recorded=timezone.now() - timedelta(hours=hours))
"""


def test_record_pain_with_factors_and_read_them_in_the_digest(
    page: Page, daphne_server: LiveServer
) -> None:
    username = register(page)
    daphne_server.shell(SEED.format(username=username))
    page.goto("/diary/")
    page.locator("#region-knee-left").click()
    panel = page.locator("#entry-panel")
    panel.get_by_text("Stabbing", exact=True).click()
    panel.locator("label[for=id_intensity_7]").click()
    chip = panel.locator(".factor-chip", has_text="poor sleep")
    chip.click()
    expect(panel.locator("input[name=factors][value='poor sleep']")).to_be_checked()
    panel.get_by_label("Something else").fill("cold draught")
    page.set_viewport_size({"width": 1366, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SHOTS / "form-1366.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    panel.screenshot(path=str(SHOTS / "form-390.png"))
    panel.get_by_role("button", name="Save entry").click()

    expect(page.locator("#entry-saved")).to_contain_text("Left knee")
    tags = page.locator(".entry[data-body-part=knee-left] .factor-tag")
    expect(tags).to_have_text(["poor sleep", "cold draught"])

    # The third "poor sleep" entry brings it to the digest: 8, 6, 7 against 2 -> 7.0 vs 2.0.
    page.goto("/diary/digest/?days=7")
    factors = page.locator("#digest-factors")
    expect(factors).to_contain_text(
        "On days with poor sleep your pain averaged 7.0, otherwise 2.0 (3 entries on"
    )
    expect(factors).not_to_contain_text("stress")  # only one entry: left out
    page.locator("section:has(#factors-heading)").screenshot(path=str(SHOTS / "digest-390.png"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(SHOTS / "digest-1366.png"), full_page=True)
