"""Browser journey in Russian: a patient with a Russian browser signs up, records pain on the
body map and reads the digest in Russian, then switches to English with the header's switcher.

Screenshots of the Russian pages at 1366 and 390 px land in the run's output folder (--output),
under i18n/, to be looked at: Russian runs about a quarter longer than English.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

PASSWORD = "e2e-long-secret-pass-42"
WIDE, PHONE = 1366, 390


@pytest.fixture
def shots(pytestconfig: pytest.Config) -> Path:
    folder = Path(pytestconfig.getoption("--output")) / "i18n"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def register(page: Page) -> str:
    """Sign up through the form, whatever language its labels are in."""
    username = f"ru{uuid.uuid4().hex[:8]}"
    page.goto("/accounts/register/")
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(f"{username}@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    return username


def fits(page: Page, width: int) -> None:
    """Nothing scrolls the page sideways at this width."""
    page.set_viewport_size({"width": width, "height": 900})
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, (page.url, width, scroll, inner)


def shoot(page: Page, folder: Path, name: str) -> None:
    for width in (WIDE, PHONE):
        fits(page, width)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    # A phone's page is long: also in screen-high slices, readable one by one.
    height = page.evaluate("document.documentElement.scrollHeight")
    for index, top in enumerate(range(0, height, 900)):
        clip = {"x": 0, "y": top, "width": PHONE, "height": min(900, height - top)}
        page.screenshot(path=str(folder / f"{name}-{PHONE}-{index}.png"), clip=clip, full_page=True)
    page.set_viewport_size({"width": WIDE, "height": 900})


def test_a_russian_patient_records_pain_and_reads_the_digest_then_switches_to_english(
    browser: Browser, base_url: str, shots: Path
) -> None:
    context = browser.new_context(locale="ru-RU", base_url=base_url)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.set_viewport_size({"width": WIDE, "height": 900})
        register(page)
        expect(page).to_have_url(re.compile(r"/diary/$"))
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ваш дневник боли")
        expect(page.locator("#entry-list-empty")).to_contain_text("Ваш дневник пока пуст.")
        knee = page.locator("#region-knee-left")
        expect(knee).to_have_attribute("data-label", "Левое колено")
        expect(page.locator(".body-map-caption").first).to_have_text("Спереди")

        # The body map opens the form, in Russian; its values stay the API's English ones.
        knee.click()
        panel = page.locator("#entry-panel")
        expect(panel.get_by_role("heading")).to_contain_text("Записать боль: Левое колено")
        for label in ("Характер боли", "Насколько сильная", "Когда"):
            expect(panel).to_contain_text(label)
        burning = panel.get_by_text("Жгучая", exact=True)
        expect(burning).to_be_visible()
        expect(panel.locator("input[name=pain_type][value=burning]")).to_have_count(1)
        shoot(page, shots, "diary-form-ru")

        burning.click()
        panel.locator("label[for=id_intensity_6]").click()
        panel.get_by_text("плохой сон", exact=True).click()
        panel.get_by_role("button", name="Сохранить запись").click()
        expect(page.locator("#entry-saved")).to_contain_text(
            "Сохранено: Левое колено, жгучая, 6/10."
        )
        entry = page.locator("#entry-list .entry").first
        expect(entry).to_contain_text("Левое колено")
        expect(entry).to_contain_text("Жгучая")
        expect(entry).to_contain_text("плохой сон")
        expect(page.locator("#entry-list")).to_contain_text("Сегодня")
        expect(knee).to_have_attribute("class", "body-region level-6")
        shoot(page, shots, "diary-ru")

        # "Select several": the bar's words come from the script catalog.
        page.locator("#map-select-toggle").click()
        page.locator("#region-knee-right").click()
        expect(page.locator("#map-select-status")).to_contain_text(
            "Выбрана 1 часть тела: Правое колено"
        )
        page.locator("#region-elbow-left").click()
        expect(page.locator("#map-select-status")).to_contain_text("Выбрано 2 части тела")
        page.locator("#map-select-toggle").click()

        # The digest: a Russian summary sentence with Russian plurals.
        page.get_by_role("link", name="Сводка", exact=True).first.click()
        expect(page).to_have_url(re.compile(r"/diary/digest/"))
        expect(page.locator("#digest-heading")).to_have_text("Ваша сводка боли")
        summary = page.locator("#digest-summary")
        expect(summary).to_contain_text("Сильнее всего болит: левое колено, в среднем 6.0")
        expect(summary).to_contain_text("1 запись, дней с записями: 1 из 30, максимум 6/10.")
        expect(summary).to_contain_text("Чаще всего боль жгучая.")
        expect(page.locator("#digest-period")).to_contain_text("30 дней")
        expect(page.locator("#part-table")).to_contain_text("мало данных")
        shoot(page, shots, "digest-ru")
        # On a phone the Russian Trend column stays in view, as the English one does.
        page.set_viewport_size({"width": PHONE, "height": 900})
        cell = page.locator('#part-table tr[data-body-part="knee-left"] td').last
        expect(cell).to_have_text("мало данных")
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE, box
        page.set_viewport_size({"width": WIDE, "height": 900})

        # The notes page, in Russian too.
        page.goto("/diary/notes/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Заметки")
        expect(page.locator("#note-list-empty")).to_contain_text("Заметок пока нет.")
        shoot(page, shots, "notes-ru")
        page.goto("/diary/digest/")

        # The header's switcher: English, and it stays English (the profile keeps it).
        page.locator("button[name=language][value=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#digest-heading")).to_have_text("Your pain digest")
        expect(page.locator("#digest-summary")).to_contain_text("Most pain: left knee")
        page.goto("/diary/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your pain diary")
        expect(page.locator("#entry-list .entry").first).to_contain_text("Left knee")
        expect(page.locator("#entry-list .entry").first).to_contain_text("poor sleep")
        expect(page.locator("#entry-list")).to_contain_text("Today")
    finally:
        context.close()


DOCTOR_SEED = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from accounts import services as accounts
from diary.models import BodyPart, PainEntry
from diary import services
patient = User.objects.get(username="{patient}")
now = timezone.now()
for days_ago, part, intensity, factors in [
    (0, "knee-left", 8, ["poor sleep"]), (1, "knee-left", 6, ["poor sleep"]),
    (2, "arm-left", 4, ["poor sleep", "stress"]), (9, "knee-left", 3, []), (12, "loin", 5, []),
]:
    PainEntry.objects.create(
        owner=patient, body_part=BodyPart.objects.get(name=part), pain_type="throbbing",
        intensity=intensity, date_recorded=now - timedelta(days=days_ago, hours=1),
        factors=factors,
    )
services.create_note(owner=patient, title="Вопрос врачу", shared=True)
doctor = accounts.register_user(
    username="{doctor}", email="{doctor}@example.com", password="{password}"
)
accounts.set_role(users=[doctor], role="doctor")
doctor.language = "ru"
doctor.save()
link = accounts.request_link(patient=patient, doctor=doctor)
accounts.change_link(link=link, by=doctor, status="active")
"""


def test_a_russian_doctor_reads_a_patients_diary_and_digest(
    browser: Browser, base_url: str, daphne_server, shots: Path
) -> None:
    """The doctor's profile says Russian: an English browser still gets Russian pages."""
    context = browser.new_context(locale="en-GB", base_url=base_url)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        patient = register(page)
        doctor = f"doc{uuid.uuid4().hex[:8]}"
        daphne_server.shell(DOCTOR_SEED.format(patient=patient, doctor=doctor, password=PASSWORD))
        context.clear_cookies()
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(doctor)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.goto("/diary/patients/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Мои пациенты")
        row = page.locator(f"tr[data-patient='{patient}']")
        expect(row).to_contain_text("▲ растёт")
        shoot(page, shots, "patients-ru")

        row.get_by_role("link", name="Дневник", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("только чтение")
        expect(page.locator("#zone-note")).to_contain_text("Время — в часовом поясе пациента")
        expect(page.locator("#entry-list")).to_contain_text("Левое плечо (верхняя часть руки)")
        expect(page.locator("#shared-notes")).to_contain_text("Вопрос врачу")
        shoot(page, shots, "patient-diary-ru")

        page.goto(f"/diary/patients/{patient}/digest/")
        expect(page.locator("#digest-summary")).to_contain_text("5 записей")
        expect(page.locator("#digest-factors")).to_contain_text("С фактором «плохой сон»")
        shoot(page, shots, "patient-digest-ru")
    finally:
        context.close()
