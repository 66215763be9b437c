"""Browser journeys through the diary: the body map, pain entries and notes."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Page, expect

PASSWORD = "e2e-long-secret-pass-42"


def register(page: Page) -> str:
    username = f"pat{uuid.uuid4().hex[:8]}"
    page.goto("/accounts/register/")
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(f"{username}@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    return username


def test_click_a_region_record_pain_and_see_it_coloured(page: Page) -> None:
    # Anything the strict CSP blocks (an inline style or script) would show up here.
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    register(page)
    expect(page).to_have_url(re.compile(r"/diary/$"))  # a new patient lands on the diary
    expect(page.locator("#entry-list-empty")).to_be_visible()
    knee = page.locator("#region-knee-left")
    expect(knee).to_have_attribute("class", "body-region")
    neutral_fill = knee.evaluate("el => getComputedStyle(el).fill")

    # Cancel closes the form again.
    knee.click()
    page.locator("#entry-panel").get_by_role("link", name="Cancel").click()
    expect(page.locator("#entry-panel")).to_contain_text("Click where it hurts")

    knee.click()
    panel = page.locator("#entry-panel")
    expect(panel.get_by_role("heading")).to_contain_text("Left knee")

    # Saving without choices shows inline errors and stores nothing.
    panel.get_by_role("button", name="Save entry").click()
    expect(panel.locator(".invalid-feedback").first).to_be_visible()
    expect(page.locator("#entry-list-empty")).to_be_visible()

    panel.get_by_text("Stabbing", exact=True).click()
    panel.locator("label[for=id_intensity_7]").click()
    panel.locator("#id_description").fill("Climbing the stairs")
    panel.get_by_role("button", name="Save entry").click()

    expect(page.locator("#entry-saved")).to_contain_text("Left knee, stabbing, 7/10")
    entry = page.locator("#entry-list .entry").first
    expect(entry).to_contain_text("Left knee")
    expect(entry).to_contain_text("Climbing the stairs")
    expect(page.locator("#entry-list")).to_contain_text("Today")
    knee = page.locator("#region-knee-left")
    expect(knee).to_have_attribute("class", "body-region level-7")
    # The fill changes over a 0.15 s transition: wait for it rather than read it mid-way.
    page.wait_for_function(
        "([el, neutral]) => getComputedStyle(el).fill !== neutral",
        arg=[knee.element_handle(), neutral_fill],
    )

    # The region's history shows only its entries.
    page.locator("#region-head").click()
    page.locator("label[for=id_pain_type_3]").click()
    page.locator("label[for=id_intensity_2]").click()
    page.get_by_role("button", name="Save entry").click()
    expect(page.locator("#region-head")).to_have_attribute("class", "body-region level-2")
    page.locator("#filter-part").select_option("knee-left")
    expect(page.locator("#entry-list-heading")).to_have_text("History: Left knee")
    expect(page.locator("#entry-list .entry")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?part=knee-left$"))
    assert blocked == []


def test_keyboard_only_records_pain(page: Page) -> None:
    register(page)
    page.goto("/diary/")
    # Tab from the page heading's last link (Notes) until a region has the focus.
    page.get_by_role("link", name="Notes →").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused.startswith("region-"):
            break
    else:
        raise AssertionError("no body region could be reached with Tab")
    region = page.locator(f"#{focused}")
    expect(region).to_be_focused()
    label = region.get_attribute("data-label")

    page.keyboard.press("Enter")
    expect(page.locator("#entry-panel-heading")).to_contain_text(label)
    # Focus moved into the form: its first choice.
    expect(page.locator("#id_pain_type_0")).to_be_focused()
    page.keyboard.press("Space")  # choose "Burning"
    page.keyboard.press("Tab")  # on to the intensity radios
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(page.locator("#id_intensity_5")).to_be_checked()
    page.locator("#id_description").focus()
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Save button

    expect(page.locator("#entry-list .entry").first).to_contain_text("typed with the keyboard")
    # The focus stays in the panel, on the confirmation, instead of falling back to the page.
    expect(page.locator("#entry-saved")).to_be_focused()
    expect(page.locator(f"#{focused}")).to_have_attribute("class", "body-region level-5")


def test_select_several_regions_and_record_them_at_once(page: Page) -> None:
    register(page)
    page.goto("/diary/")
    toggle = page.locator("#map-select-toggle")
    status = page.locator("#map-select-status")
    left, right = page.locator("#region-knee-left"), page.locator("#region-knee-right")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    left.click()
    right.click()
    expect(status).to_have_text("2 parts selected: Left knee, Right knee")
    expect(left).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#entry-panel form")).to_have_count(0)  # a click selects, opens nothing
    page.locator("#map-select-record").click()
    panel = page.locator("#entry-panel")
    expect(panel.get_by_role("heading")).to_contain_text("Left knee and Right knee")
    panel.get_by_text("Throbbing", exact=True).click()
    panel.locator("label[for=id_intensity_6]").click()
    panel.get_by_role("button", name="Save 2 entries").click()
    expect(page.locator("#entry-saved")).to_contain_text(
        "Saved 2 entries: Left knee and Right knee, throbbing, 6/10"
    )
    expect(left).to_have_attribute("class", "body-region level-6")
    expect(right).to_have_attribute("class", "body-region level-6")
    expect(page.locator("#entry-list .entry")).to_have_count(2)
    expect(toggle).to_have_attribute("aria-pressed", "false")  # the save ends the selection
    expect(status).to_have_text("")

    # The same with the keyboard only: Enter on the toggle, Enter on each region, then record.
    # The form opens with the last type and intensity used there, so saving is one more key.
    toggle.focus()
    page.keyboard.press("Enter")
    left.focus()
    page.keyboard.press("Enter")
    page.locator("#region-head").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("2 parts selected: Left knee, Top of the head")
    page.keyboard.press("Enter")  # Enter again on Head deselects it
    expect(status).to_have_text("1 part selected: Left knee")
    page.locator("#map-select-record").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_pain_type_3")).to_be_checked()
    expect(page.locator("#id_intensity_6")).to_be_checked()
    page.locator("#entry-panel").get_by_role("button", name="Save entry").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#entry-saved")).to_be_focused()
    expect(page.locator("#entry-list .entry")).to_have_count(3)


def test_edit_and_delete_an_entry(page: Page) -> None:
    register(page)
    page.goto("/diary/")
    page.locator("#region-nape").click()
    page.locator("label[for=id_pain_type_1]").click()
    page.locator("label[for=id_intensity_4]").click()
    page.get_by_role("button", name="Save entry").click()
    expect(page.locator("#region-nape")).to_have_attribute("class", "body-region level-4")

    entry = page.locator("#entry-list .entry").first
    entry.get_by_role("link", name=re.compile("^Edit")).click()
    editing = page.locator(".entry-editing")
    editing.locator("label[for$=intensity_9]").click()
    editing.get_by_role("button", name="Save changes").click()
    expect(page.locator(".entry-editing")).to_have_count(0)
    expect(page.locator("#entry-list .entry-intensity").first).to_have_text("9")
    expect(page.locator("#region-nape")).to_have_attribute("class", "body-region level-9")

    page.locator("#entry-list .entry").first.get_by_role("link", name=re.compile("^Delete")).click()
    expect(page.get_by_text("Delete this entry?")).to_be_visible()
    page.locator(".entry-confirm").get_by_role("link", name="Cancel").click()
    expect(page.locator("#entry-list .entry")).to_have_count(1)
    page.locator("#entry-list .entry").first.get_by_role("link", name=re.compile("^Delete")).click()
    page.locator(".entry-confirm").get_by_role("button", name="Delete").click()
    expect(page.locator("#entry-list-empty")).to_be_visible()
    expect(page.locator("#region-nape")).to_have_attribute("class", "body-region")


def test_future_time_is_refused_inline(page: Page) -> None:
    register(page)
    page.goto("/diary/")
    page.locator("#region-belly").click()
    page.locator("label[for=id_pain_type_2]").click()
    page.locator("label[for=id_intensity_3]").click()
    page.locator("#id_date_recorded").fill("2099-01-01T10:00")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_text("This time is in the future")).to_be_visible()
    expect(page.locator("#entry-list-empty")).to_be_visible()


def test_create_edit_and_delete_a_note(page: Page) -> None:
    register(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notes").click()
    expect(page.locator("#note-list-empty")).to_be_visible()

    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#note-form .invalid-feedback")).to_be_visible()

    page.locator("#id_title").fill("Questions for my doctor")
    page.locator("#id_body").fill("Is running bad for my knee?")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#note-saved")).to_be_visible()
    expect(page.locator("#id_title")).to_have_value("")
    note = page.locator("#note-list .note").first
    expect(note).to_contain_text("Questions for my doctor")

    note.get_by_role("link", name=re.compile("^Edit")).click()
    editing = page.locator(".note-editing")
    editing.locator("input[name=title]").fill("Questions for Dr. Who")
    editing.get_by_role("button", name="Save changes").click()
    expect(page.locator(".note-editing")).to_have_count(0)
    expect(page.locator("#note-list .note-title").first).to_have_text("Questions for Dr. Who")

    page.reload()
    expect(page.locator("#note-list .note-title").first).to_have_text("Questions for Dr. Who")

    page.locator("#note-list .note").first.get_by_role("link", name=re.compile("^Delete")).click()
    page.locator(".note-confirm").get_by_role("button", name="Delete").click()
    expect(page.locator("#note-list-empty")).to_be_visible()


def test_everything_works_without_javascript(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        register(page)
        page.goto("/diary/")
        page.get_by_role("link", name="Choose the body part from a list").click()
        page.locator("#id_body_part").select_option("loin")
        page.locator("label[for=id_pain_type_0]").click()
        page.locator("label[for=id_intensity_6]").click()
        page.get_by_role("button", name="Save entry").click()
        expect(page).to_have_url(re.compile(r"/diary/$"))
        expect(page.get_by_text("Saved: Lower back, burning, 6/10.")).to_be_visible()
        expect(page.locator("#region-loin")).to_have_attribute("class", "body-region level-6")

        page.locator("#entry-list .entry").first.get_by_role(
            "link", name=re.compile("^Delete")
        ).click()
        expect(page.get_by_role("heading", name="Delete entry")).to_be_visible()
        page.get_by_role("button", name="Delete").click()
        expect(page.get_by_text("The entry was deleted.")).to_be_visible()
        expect(page.locator("#entry-list-empty")).to_be_visible()

        page.goto("/diary/notes/")
        page.locator("#id_title").fill("Written without JavaScript")
        page.get_by_role("button", name="Save note").click()
        expect(page.locator("#note-list")).to_contain_text("Written without JavaScript")
    finally:
        context.close()
