"""Offline in real Chromium: the app installs (manifest, service worker), the diary opens from
the worker's cache without a connection, pain recorded offline waits on the device and reaches
the server exactly once when the connection returns, and a refused recording says why."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from e2e.live_server import LiveServer
from e2e.test_chat import PASSWORD, send, sign_in, wait_for_socket
from e2e.test_diary import register

SHOTS = Path("/tmp/offline-shots")
AXE = Axe()
# What the worker keeps, asked of the page's Cache Storage (a promise: see settled()).
KEPT = (
    "caches.open('painmap-pages').then(c => Promise.all(["
    "c.match('/diary/'), c.match('/diary/entries/new/?offline-form', {ignoreVary: true})]))"
    ".then(found => found.every(Boolean))"
)


def entries_on_server(server, username: str) -> list[tuple[str, int]]:
    code = (
        "import json; from diary.models import PainEntry; print(json.dumps(list("
        f"PainEntry.objects.filter(owner__username='{username}')"
        ".values_list('body_part__name', 'intensity'))))"
    )
    return [tuple(row) for row in json.loads(server.shell(code).strip().splitlines()[-1])]


def settled(page: Page, promise: str, seconds: float = 10) -> None:
    """Waits until a promise evaluated in the page resolves to something truthy.

    wait_for_function cannot: it takes the promise object itself as the truthy answer and
    returns at once. page.evaluate awaits it (and, unlike a polled expression, is not refused
    by the page's CSP)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(promise):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s: {promise}")
        page.wait_for_timeout(100)


def ready_for_offline(page: Page, kept: str = KEPT) -> None:
    """The worker controls the page and has kept what it keeps for offline (by default the
    diary and the entry form)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    settled(page, kept)


def axe_violations(page: Page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} {[n['target'] for n in v['nodes'][:3]]}" for v in results.response["violations"]
    ]


def record_offline(page: Page, region: str, kind: str, level: int) -> None:
    page.locator(f"#region-{region}").click()
    panel = page.locator("#entry-panel")
    expect(panel.locator("form[data-offline=entry]")).to_be_visible()
    panel.get_by_text(kind, exact=True).click()
    panel.locator(f"label[for=id_intensity_{level}]").click()
    panel.get_by_role("button", name="Save entry").click()
    expect(page.locator("#offline-kept")).to_contain_text("Kept on this device")


def test_manifest_and_service_worker_are_installed(page: Page) -> None:
    register(page)
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["start_url"] == "/diary/"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).headers["content-type"] == "image/png"
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    registration = page.evaluate(
        "navigator.serviceWorker.getRegistration().then(r => "
        "({scope: r.scope, script: r.active.scriptURL, state: r.active.state}))"
    )
    assert registration["scope"].endswith("/")
    assert registration["script"].endswith("/sw.js")
    assert registration["state"] == "activated"
    response = page.request.get("/sw.js")
    assert response.headers["service-worker-allowed"] == "/"


def test_a_page_loaded_before_the_worker_took_over_is_kept_too(
    page: Page, context: BrowserContext
) -> None:
    # The first diary after signing up can load while the worker is still installing (it began
    # on the sign-up page): such a page is not the worker's, and nothing kept it for offline.
    # A hard reload makes the same kind of page on purpose: the browser loads it around the
    # worker, which is active by then.
    register(page)
    ready_for_offline(page)
    page.evaluate("caches.delete('painmap-pages')")
    browser_side = context.new_cdp_session(page)
    with page.expect_navigation():
        browser_side.send("Page.reload", {"ignoreCache": True})
    browser_side.detach()
    ready_for_offline(page)
    context.set_offline(True)
    page.reload()
    expect(page.locator("#offline-status")).to_contain_text("You are offline")
    expect(page.locator("#region-knee-left")).to_be_visible()


def test_two_entries_recorded_offline_reach_the_server_once(
    page: Page, context: BrowserContext, daphne_server
) -> None:
    SHOTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    username = register(page)
    expect(page).to_have_url(re.compile(r"/diary/$"))
    ready_for_offline(page)

    context.set_offline(True)
    page.reload()  # from the worker's cache: the last version seen
    status = page.locator("#offline-status")
    expect(status).to_contain_text("You are offline")
    expect(page.locator("#region-knee-left")).to_be_visible()
    expect(page.locator("#entry-list-empty")).to_be_visible()

    record_offline(page, "knee-left", "Stabbing", 7)
    expect(page.locator("#entry-panel-heading")).to_have_count(0)
    # the panel's prompt again, as after a save online
    page.locator("#region-head").click()
    expect(page.locator("#entry-panel-heading")).to_have_text("Record pain: Top of the head")
    panel = page.locator("#entry-panel")
    panel.get_by_text("Burning", exact=True).click()
    panel.locator("label[for=id_intensity_3]").click()
    panel.get_by_role("button", name="Save entry").click()

    items = page.locator("#offline-outbox .offline-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Left knee, stabbing, 7/10")
    expect(items.nth(1)).to_contain_text("Top of the head, burning, 3/10")
    expect(items.nth(0)).to_contain_text("waiting to sync")
    expect(status).to_contain_text("2 waiting to sync")
    # The diary is no longer empty: its first-entry prompt does not sit under what waits.
    expect(page.locator("#entry-list-empty")).to_be_hidden()
    assert entries_on_server(daphne_server, username) == []
    assert axe_violations(page) == []
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"diary-offline-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    context.set_offline(False)
    expect(page.locator("#offline-outbox")).to_have_count(0)
    expect(status).to_be_hidden()
    entries = page.locator("#entry-list .entry")
    expect(entries).to_have_count(2)
    expect(page.locator("#region-knee-left")).to_have_attribute("class", "body-region level-7")
    assert sorted(entries_on_server(daphne_server, username)) == [("head", 3), ("knee-left", 7)]

    # Syncing again (another tab, a reload) finds nothing to send and stores nothing.
    page.reload()
    page.evaluate("window.painmapOffline.sync()")
    expect(page.locator("#entry-list .entry")).to_have_count(2)
    assert len(entries_on_server(daphne_server, username)) == 2
    assert blocked == []


def test_the_answer_lost_and_the_page_closed_mid_sync_still_stores_once(
    browser: Browser, base_url: str, daphne_server
) -> None:
    # Playwright's routing cannot see requests a service worker handles: none here.
    context = browser.new_context(base_url=base_url, service_workers="block")
    context.set_default_timeout(10_000)
    page = context.new_page()
    username = register(page)
    page.locator("#region-elbow-left").click()
    panel = page.locator("#entry-panel")
    expect(panel.locator("form[data-offline=entry]")).to_be_visible()
    panel.get_by_text("Throbbing", exact=True).click()
    panel.locator("label[for=id_intensity_5]").click()
    context.set_offline(True)
    panel.get_by_role("button", name="Save entry").click()
    item = page.locator("#offline-outbox .offline-item")
    expect(item).to_contain_text("waiting to sync")

    # The server stores it, and its answer never reaches the page.
    def lose_the_answer(route: Route) -> None:
        route.fetch()
        route.abort("connectionreset")

    context.route("**/diary/entries/new/", lose_the_answer)
    context.set_offline(False)
    expect(item).to_have_attribute("data-attempts", "1")
    expect(item).to_contain_text("waiting to sync")
    assert entries_on_server(daphne_server, username) == [("elbow-left", 5)]
    page.close()
    context.unroute("**/diary/entries/new/")

    page = context.new_page()
    page.goto("/diary/")
    expect(page.locator("#entry-list .entry")).to_have_count(1)
    expect(page.locator("#offline-outbox")).to_have_count(0)
    assert entries_on_server(daphne_server, username) == [("elbow-left", 5)]
    context.close()


def test_a_refused_entry_stays_with_the_reason(
    page: Page, context: BrowserContext, daphne_server
) -> None:
    username = register(page)
    ready_for_offline(page)
    context.set_offline(True)
    page.reload()
    page.locator("#region-knee-right").click()
    panel = page.locator("#entry-panel")
    panel.get_by_text("Cutting", exact=True).click()
    panel.locator("label[for=id_intensity_4]").click()
    # A time the server refuses (the future): kept offline, refused on sync.
    later = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    panel.locator("#id_date_recorded").fill(later)
    panel.get_by_role("button", name="Save entry").click()
    expect(page.locator("#offline-outbox .offline-item")).to_contain_text("waiting to sync")

    context.set_offline(False)
    item = page.locator("#offline-outbox .offline-item")
    expect(item).to_contain_text("not saved")
    expect(item.locator(".offline-reason")).to_contain_text("This time is in the future")
    expect(page.locator("#offline-status")).to_contain_text("1 could not be saved")
    assert entries_on_server(daphne_server, username) == []
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"diary-refused-{width}.png"), full_page=True)

    # Still there after a reload: never dropped silently, only by the patient.
    page.reload()
    expect(item.locator(".offline-reason")).to_contain_text("This time is in the future")
    item.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#offline-outbox")).to_have_count(0)
    expect(page.locator("#offline-status")).to_be_hidden()


def test_notes_written_offline_are_sent_once(
    page: Page, context: BrowserContext, daphne_server
) -> None:
    register(page)
    page.goto("/diary/notes/")
    ready_for_offline(
        page, "caches.open('painmap-pages').then(c => c.match('/diary/notes/')).then(Boolean)"
    )
    context.set_offline(True)
    page.reload()
    expect(page.locator("#offline-status")).to_contain_text("You are offline")
    page.locator("#id_title").fill("Bad night")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#offline-outbox .offline-item")).to_contain_text("Note: Bad night")
    expect(page.locator("#note-list-empty")).to_be_hidden()  # no "No notes yet." under it
    context.set_offline(False)
    expect(page.locator("#offline-outbox")).to_have_count(0)
    expect(page.locator("#note-list")).to_contain_text("Bad night")
    expect(page.locator("#note-list").get_by_text("Bad night")).to_have_count(1)


def test_other_pages_say_they_need_a_connection_and_chat_says_it_reconnects(
    page: Page, context: BrowserContext
) -> None:
    register(page)
    ready_for_offline(page)
    context.set_offline(True)
    page.goto("/diary/digest/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    page.goto("/diary/")
    expect(page.locator("#offline-status")).to_contain_text("You are offline")
    context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden()


def test_signing_out_forgets_the_kept_pages(page: Page, context: BrowserContext) -> None:
    register(page)
    ready_for_offline(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    settled(page, "caches.open('painmap-pages').then(c => c.keys()).then(k => k.length === 0)")
    context.set_offline(True)
    page.goto("/diary/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()


@pytest.fixture
def chat_pair(daphne_server) -> tuple[str, str]:
    """A patient and a doctor who may chat (as e2e/test_chat.py's `people`)."""
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"pat{suffix}", f"doc.{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        f"d = s.register_user(username='{doctor}', email='{suffix}d@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[d], role='doctor')\n"
        "s.change_link(link=s.request_link(patient=p, doctor=d), by=d, status='active')\n"
    )
    return patient, doctor


def test_the_chat_says_it_is_offline_and_works_again_after(browser, base_url, chat_pair) -> None:
    patient, doctor = chat_pair
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        pat.goto(f"/chat/{doctor}/")
        doc.goto(f"/chat/{patient}/")
        wait_for_socket(pat)
        wait_for_socket(doc)
        pat_context.set_offline(True)
        status = pat.locator("#offline-status")
        expect(status).to_contain_text("You are offline")
        expect(status).to_contain_text("The chat reconnects by itself")
        pat_context.set_offline(False)
        expect(status).to_be_hidden()
        send(doc, "are you back?")
        # The extension's own reconnect waits a random, growing delay (at most 64 s).
        expect(pat.locator(".chat-bubble")).to_have_text(["are you back?"], timeout=70_000)
    finally:
        pat_context.close()
        doc_context.close()


def test_profile_says_push_is_off_without_keys(page: Page) -> None:
    # The live server has no VAPID keys: the profile says so instead of offering a button.
    register(page)
    page.goto("/accounts/profile/")
    section = page.locator("#push")
    expect(section.get_by_role("heading")).to_have_text("Notifications on this device")
    expect(section.locator("#push-disabled")).to_contain_text("not set up on this server")
    expect(section.locator("#push-disabled")).to_contain_text("reminders come by email")
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        section.screenshot(path=str(SHOTS / f"profile-push-{width}.png"))


def test_profile_offers_push_with_keys(browser: Browser, daphne_server, tmp_path) -> None:
    """A second server process on the same database, with VAPID keys in its environment."""
    keys = daphne_server.manage("vapid_keys").splitlines()
    env = dict(line.split("  #")[0].split("=", 1) for line in keys if line.startswith("VAPID_"))
    server = LiveServer(tmp_path, extra_env=env, same_database_as=daphne_server)
    server.start()
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        register(page)
        page.goto("/accounts/profile/")
        section = page.locator("#push")
        expect(section.locator("#push-state")).to_have_text(
            "Notifications are off for this device."
        )
        expect(section.get_by_role("button", name="Turn on notifications")).to_be_visible()
        expect(section.locator("#push-devices")).to_have_text("0 devices subscribed")
        SHOTS.mkdir(exist_ok=True)
        for width, height in ((1366, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            section.screenshot(path=str(SHOTS / f"profile-push-on-{width}.png"))
        section.get_by_role("button", name="Send a test notification").click()
        expect(page.locator("#messages")).to_contain_text("No device of yours is subscribed")
        assert axe_violations(page) == []
        assert errors == []
    finally:
        context.close()
        server.stop()
