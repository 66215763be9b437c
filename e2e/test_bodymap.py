"""The body map for everyone, in a real browser: keyboard only, a finger on a phone, and the numbers
that carry the level for eyes that do not see the colours. Screenshots go to /tmp/bodymap-shots/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.live_server import LiveServer
from e2e.test_diary import register

SHOTS = Path("/tmp/bodymap-shots")

# Every level 0..10 on the map at once, on regions big and small, on both views.
SEED = """
from django.utils import timezone
from accounts.models import User
from diary.models import BodyPart, PainEntry
patient = User.objects.get(username="{patient}")
for part, intensity in [
    ("face", 0), ("neck", 1), ("chest-left", 2), ("ribs-right", 3), ("belly", 4), ("knee-left", 5),
    ("hand-right", 6), ("elbow-left", 7), ("feet-left", 8), ("column", 9), ("loin", 10),
    ("nape", 3), ("buttock", 6),
]:
    PainEntry.objects.create(
        owner=patient, body_part=BodyPart.objects.get(name=part), pain_type="burning",
        intensity=intensity, date_recorded=timezone.now(),
    )
"""


def seed_every_level(page: Page, server: LiveServer) -> None:
    username = register(page)
    server.shell(SEED.format(patient=username))
    page.goto("/diary/")


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement.id")


def test_keyboard_only_journey_with_arrows_enter_and_escape(page: Page) -> None:
    register(page)
    page.goto("/diary/")
    # One Tab stop: exactly one region is in the tab order.
    assert page.locator('#body-map .body-region[tabindex="0"]').count() == 1
    page.get_by_role("link", name="Notes →").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused_id(page).startswith("region-"):
            break
    else:
        raise AssertionError("no body region could be reached with Tab")
    first = focused_id(page)
    caption = page.locator("#body-map-focus")
    first_label = page.locator(f"#{first}").get_attribute("aria-label")
    assert first_label.endswith(", no pain recorded")
    expect(caption).to_have_text(first_label)

    # Arrows move between regions; the focused one is named beside the map and is the Tab stop.
    visited = {first}
    for key in ["ArrowDown"] * 6 + ["ArrowRight"] * 2 + ["ArrowUp"]:
        page.keyboard.press(key)
        visited.add(focused_id(page))
    assert len(visited) >= 6
    here = focused_id(page)
    assert here.startswith("region-")
    assert page.locator('#body-map .body-region[tabindex="0"]').count() == 1
    expect(page.locator(f"#{here}")).to_have_attribute("tabindex", "0")
    label = page.locator(f"#{here}").get_attribute("aria-label")
    expect(caption).to_have_text(label)
    # Right from the front view ends up on the back view: the two views are one map.
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    back = page.evaluate("document.activeElement.closest('figure').dataset.view")
    assert back == "back"
    page.keyboard.press("ArrowLeft")
    here = focused_id(page)
    label = page.locator(f"#{here}").get_attribute("data-label")

    # Tab leaves the map in one press, Shift+Tab comes back to the same region.
    page.keyboard.press("Tab")
    assert not focused_id(page).startswith("region-")
    page.keyboard.press("Shift+Tab")
    assert focused_id(page) == here

    # Enter opens the form for that region, Escape closes it and gives the focus back.
    page.keyboard.press("Enter")
    expect(page.locator("#entry-panel-heading")).to_contain_text(label)
    expect(page.locator("#id_pain_type_0")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#entry-panel form")).to_have_count(0)
    expect(page.locator(f"#{here}")).to_be_focused()
    # Escape on the region itself closes a form opened from it, too.
    page.keyboard.press("Enter")
    expect(page.locator("#id_pain_type_0")).to_be_focused()  # the form has settled
    page.locator(f"#{here}").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#entry-panel form")).to_have_count(0)
    expect(page.locator(f"#{here}")).to_be_focused()


# Measures, for each region, the widest and tallest run of screen pixels through its centre that a
# tap would deliver to it (the region itself or its widened hit area), with elementFromPoint.
HIT_RUNS = """
() => Array.from(document.querySelectorAll('#body-map .body-region')).map((region) => {
  const name = region.dataset.bodyPart;
  const mine = (x, y) => {
    const el = document.elementFromPoint(x, y);
    return el === region || (el && el.dataset && el.dataset.hitFor === name);
  };
  region.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
  const box = region.getBoundingClientRect();
  let best = { w: 0, h: 0 };
  // Try a few anchor points inside the box: narrow or bent shapes miss their box centre.
  for (const fx of [0.15, 0.3, 0.5, 0.7, 0.85]) for (const fy of [0.15, 0.3, 0.5, 0.7, 0.85]) {
    const x = box.left + box.width * fx, y = box.top + box.height * fy;
    if (!mine(x, y)) continue;
    let l = x, r = x, t = y, b = y;
    while (mine(l - 0.5, y) && l > x - 100) l -= 0.5;
    while (mine(r + 0.5, y) && r < x + 100) r += 0.5;
    while (mine(x, t - 0.5) && t > y - 100) t -= 0.5;
    while (mine(x, b + 0.5) && b < y + 100) b += 0.5;
    const w = r - l, h = b - t;
    if (Math.min(w, h) > Math.min(best.w, best.h)) best = { w, h };
  }
  return { name, box: [box.width, box.height], ...best };
})
"""


def test_every_region_is_a_24px_target_on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    register(page)
    page.goto("/diary/")
    page.locator("#body-map").scroll_into_view_if_needed()
    runs = page.evaluate(HIT_RUNS)
    assert len(runs) == 44
    small = [run for run in runs if min(run["w"], run["h"]) < 24]
    assert small == [], [(run["name"], run["w"], run["h"]) for run in small]
    # A tap on a small region's widened rim (outside its own shape) opens that region's form.
    spine = page.locator("#region-column").bounding_box()
    page.mouse.click(spine["x"] + spine["width"] + 3, spine["y"] + spine["height"] / 2)
    expect(page.locator("#entry-panel-heading")).to_contain_text("Spine")


def test_recorded_levels_are_numbered_and_screenshots(
    page: Page, daphne_server: LiveServer
) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    seed_every_level(page, daphne_server)
    knee = page.locator("#region-knee-left")
    expect(knee).to_have_attribute("class", "body-region level-5")
    # Unrecorded regions have an empty number, kept for a save to fill in.
    numbers = page.locator("#body-map text.body-region-level:not(:empty)")
    expect(numbers).to_have_count(13)
    # The knee's number is drawn over the knee, readable (11 px or more), not in a click's way.
    box = knee.bounding_box()
    five = numbers.filter(has_text="5").first
    number_box = five.bounding_box()
    centre = (number_box["x"] + number_box["width"] / 2, number_box["y"] + number_box["height"] / 2)
    assert box["x"] <= centre[0] <= box["x"] + box["width"]
    assert box["y"] <= centre[1] <= box["y"] + box["height"]
    assert number_box["height"] >= 11
    assert five.evaluate("el => getComputedStyle(el).pointerEvents") == "none"
    # The legend shows the same scale as the regions.
    for level in (0, 5, 10):
        swatch = page.locator(f".pain-legend-scale .level-{level}")
        region_fill = page.locator(f"#body-map .body-region.level-{level}").first
        region_fill.evaluate("el => getComputedStyle(el).fill")
        assert swatch.evaluate(
            "el => getComputedStyle(el).backgroundColor"
        ) == region_fill.evaluate("el => getComputedStyle(el).fill")
    page.locator("#body-map").screenshot(path=str(SHOTS / "map-1366.png"))
    page.screenshot(path=str(SHOTS / "diary-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#body-map").screenshot(path=str(SHOTS / "map-390.png"))
    page.screenshot(path=str(SHOTS / "diary-390.png"), full_page=True)
    # The wide views scroll inside the map, never the page sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#region-loin").scroll_into_view_if_needed()
    page.locator("#body-map").screenshot(path=str(SHOTS / "map-390-back.png"))
    # A keyboard focus ring and the caption, as a sighted keyboard user sees them.
    page.locator("#region-knee-left").focus()
    page.keyboard.press("ArrowUp")
    page.locator("#body-map").screenshot(path=str(SHOTS / "map-390-focus.png"))


def test_arrow_keys_also_walk_the_digest_heatmap(page: Page, daphne_server: LiveServer) -> None:
    # The digest draws the same map read-only: one Tab stop there too, so arrows must work.
    seed_every_level(page, daphne_server)
    page.goto("/diary/digest/")
    first = page.locator('#body-map .body-region[tabindex="0"]')
    expect(first).to_have_count(1)
    first.focus()
    start = focused_id(page)
    page.keyboard.press("ArrowDown")
    assert focused_id(page) != start
    assert focused_id(page).startswith("region-")
    expect(page.locator("#body-map-focus")).to_contain_text(" of 10")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "digest-390.png"), full_page=True)
