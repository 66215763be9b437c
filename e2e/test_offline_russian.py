"""The scripts' words in Russian, in real Chromium with a Russian browser (locale ru-RU): the
offline banner and the "waiting to sync" states come from the catalog inline in the page, the
worker's offline page is the server's in the browser's language, and in one conversation a
Russian and an English participant each see their own words.

Elements are found by id and attribute, never by words, so that these tests hold whatever the
other pages' translations say. Screenshots at 1366 and 390 px go under the --output folder's
russian/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.live_server import LiveServer
from e2e.test_chat import PASSWORD, wait_for_socket
from e2e.test_offline import ready_for_offline

WIDTHS = ((1366, 900), (390, 844))


@pytest.fixture
def shots(pytestconfig) -> Path:
    folder = Path(pytestconfig.getoption("output")) / "russian"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(page: Page, folder: Path, name: str) -> None:
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def make_people(server: LiveServer, *people: tuple[str, str, str]) -> None:
    """(username, role, profile language) each; every patient linked to every doctor."""
    lines = ["from accounts import services as s", "made = {}"]
    for username, role, language in people:
        lines += [
            f"u = s.register_user(username='{username}', email='{username}@example.com', "
            f"password='{PASSWORD}')",
            f"u.language = '{language}'",
            "u.save(update_fields=['language'])",
            f"made['{username}'] = u",
        ]
        if role == "doctor":
            lines.append("s.set_role(users=[u], role='doctor')")
    doctors = [name for name, role, _ in people if role == "doctor"]
    patients = [name for name, role, _ in people if role == "patient"]
    for patient in patients:
        for doctor in doctors:
            lines.append(
                f"s.change_link(link=s.request_link(patient=made['{patient}'], "
                f"doctor=made['{doctor}']), by=made['{doctor}'], status='active')"
            )
    server.shell("\n".join(lines) + "\n")


def signed_in(browser: Browser, base_url: str, username: str, locale: str):
    context = browser.new_context(base_url=base_url, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    return context, page


def entries_on_server(server: LiveServer, username: str) -> int:
    code = (
        "from diary.models import PainEntry; "
        f"print(PainEntry.objects.filter(owner__username='{username}').count())"
    )
    return int(server.shell(code).strip().splitlines()[-1])


def record(page: Page, region: str, pain_type: str, level: int) -> None:
    page.locator(f"#region-{region}").click()
    form = page.locator("#entry-panel form[data-offline=entry]")
    expect(form).to_be_visible()
    radio = form.locator(f"input[name=pain_type][value={pain_type}]")
    form.locator(f"label[for='{radio.get_attribute('id')}']").click()
    form.locator(f"label[for=id_intensity_{level}]").click()
    form.locator("button[type=submit]").click()


def test_offline_diary_in_russian_waits_then_syncs(
    browser: Browser, base_url: str, daphne_server: LiveServer, shots: Path
) -> None:
    # A patient who chose no language: everything follows the Russian browser.
    username = f"ru{uuid.uuid4().hex[:8]}"
    make_people(daphne_server, (username, "patient", ""))
    context, page = signed_in(browser, base_url, username, "ru-RU")
    try:
        page.goto("/diary/")
        ready_for_offline(page)
        context.set_offline(True)
        page.reload()
        status = page.locator("#offline-status")
        expect(status).to_contain_text("Нет подключения.")
        expect(status).to_contain_text("сохранится на этом устройстве")
        record(page, "knee-left", "stabbing", 7)
        expect(page.locator("#offline-kept")).to_contain_text("Сохранено на этом устройстве")
        record(page, "head", "burning", 3)
        items = page.locator("#offline-outbox .offline-item")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("ждёт отправки")
        expect(items.nth(0)).to_contain_text("7/10")
        expect(status).to_contain_text("2 записи ждут отправки.")
        expect(page.locator("#offline-outbox-heading")).to_have_text(
            "На этом устройстве, ещё не в дневнике"
        )
        assert "waiting to sync" not in status.inner_text()
        assert entries_on_server(daphne_server, username) == 0
        screenshots(page, shots, "diary-offline-ru")

        # A page the worker did not keep: its offline page, the server's, in Russian.
        page.goto("/diary/digest/")
        expect(page.locator("h1")).to_have_text("Нет подключения")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        screenshots(page, shots, "offline-page-ru")
        page.goto("/diary/")

        context.set_offline(False)
        expect(page.locator("#offline-outbox")).to_have_count(0)
        expect(status).to_be_hidden()
        # Gone from the device once the server took them: both are stored, once.
        assert entries_on_server(daphne_server, username) == 2
    finally:
        context.close()


def test_a_russian_and_an_english_person_chat_each_in_their_own_words(
    browser: Browser, base_url: str, daphne_server: LiveServer, shots: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"ru{suffix}", f"en.{suffix}"
    # Profile languages win over the browsers': the English doctor uses a Russian browser.
    make_people(daphne_server, (patient, "patient", "ru"), (doctor, "doctor", "en"))
    pat_context, pat = signed_in(browser, base_url, patient, "en-US")
    doc_context, doc = signed_in(browser, base_url, doctor, "ru-RU")
    try:
        pat.goto(f"/chat/{doctor}/")
        doc.goto(f"/chat/{patient}/")
        wait_for_socket(pat)
        wait_for_socket(doc)
        expect(pat.locator("#chat-input")).to_have_attribute(
            "placeholder", re.compile(r"^Сообщение… \(Enter — отправить")
        )
        expect(doc.locator("#chat-input")).to_have_attribute(
            "placeholder", re.compile(r"^Write a message… \(Enter sends")
        )
        expect(pat.locator("#chat-form button[type=submit]")).to_have_text("Отправить")

        pat.locator("#chat-input").fill("Болит левое колено")
        pat.locator("#chat-input").press("Enter")
        mine = pat.locator(".chat-message.mine .chat-status")
        expect(mine).to_have_count(1)
        # Read at once by the doctor's open box: the ticks pushed to the patient are Russian.
        expect(mine).to_have_attribute("title", "Прочитано")
        expect(doc.locator(".chat-message.theirs .chat-bubble")).to_have_text("Болит левое колено")

        doc.locator("#chat-input").fill("Since when?")
        doc.locator("#chat-input").press("Enter")
        expect(doc.locator(".chat-message.mine .chat-status")).to_have_attribute("title", "Read")
        expect(pat.locator(".chat-message.theirs .chat-bubble")).to_have_text("Since when?")
        # Each side's date is in its own language (the short month's name).
        month_ru = pat.locator(".chat-message.theirs time").inner_text()
        month_en = doc.locator(".chat-message.mine time").inner_text()
        assert month_ru != month_en, (month_ru, month_en)

        # An error frame, each in its own words.
        for page, words in ((pat, "Сообщение пустое."), (doc, "The message is empty.")):
            page.evaluate(
                "() => document.getElementById('chat')['htmx-internal-data']"
                ".webSocket.send(JSON.stringify({message: '   '}))"
            )
            expect(page.locator("#chat-error")).to_have_text(words)
        screenshots(pat, shots, "chat-ru")
        pat.goto("/chat/")
        expect(pat.locator("h1")).to_have_text("Чат")
        screenshots(pat, shots, "inbox-ru")
        pat.goto(f"/chat/{doctor}/delete/")
        screenshots(pat, shots, "delete-ru")

        # Offline, the chat's banner is Russian too (the catalog is in the page).
        pat.goto(f"/chat/{doctor}/")
        wait_for_socket(pat)
        pat_context.set_offline(True)
        pat.evaluate("() => window.dispatchEvent(new Event('offline'))")
        expect(pat.locator("#offline-status")).to_contain_text("Чат подключится сам")
        pat_context.set_offline(False)
    finally:
        pat_context.close()
        doc_context.close()
