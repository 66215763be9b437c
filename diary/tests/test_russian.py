"""The diary in Russian: pages, plurals, dates, the API's labels and errors, the weekly emails.

Machine values (`name`, `pain_type`, stored factors) stay English whatever the language; what
people read follows the profile's language, else the browser's (Accept-Language).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from accounts import services as accounts
from conftest import token_client
from diary import services
from diary.digest import Period, build_digest
from diary.models import BodyPart, PainEntry
from diary.views.digest import period_label
from diary.views.entries import day_heading

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def record(owner, name="knee-left", intensity=6, ago=timedelta(hours=1), **extra) -> PainEntry:
    return services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=name),
        pain_type=extra.pop("pain_type", "burning"),
        intensity=intensity,
        date_recorded=timezone.now() - ago,
        **extra,
    )


def link(patient, doctor):
    request = accounts.request_link(patient=patient, doctor=doctor)
    return accounts.change_link(link=request, by=doctor, status="active")


# --- pages --------------------------------------------------------------------------------------


def test_the_diary_page_follows_the_browsers_language(client, patient):
    client.force_login(patient)
    html = client.get(reverse("diary:diary"), **RU).content.decode()
    assert '<html lang="ru">' in html
    assert "Ваш дневник боли" in html
    assert "Записать боль" in html
    assert 'data-label="Левое колено"' in html  # the map's region
    assert "Левое колено, боль не записана" in html  # its accessible name
    assert "Спереди" in html
    assert "Сзади" in html
    assert "Ваш дневник пока пуст." in html
    assert "Your pain diary" not in html
    # The same page in English for an English browser.
    html = client.get(reverse("diary:diary"), **EN).content.decode()
    assert "Your pain diary" in html
    assert 'data-label="Left knee"' in html
    assert "Ваш дневник боли" not in html


def test_the_profiles_language_wins_over_the_browsers(client, patient):
    patient.language = "ru"
    patient.save()
    client.force_login(patient)
    html = client.get(reverse("diary:diary"), **EN).content.decode()
    assert "Ваш дневник боли" in html


def test_the_form_speaks_russian_and_sends_english_values(client, patient):
    client.force_login(patient)
    html = client.get(reverse("diary:entry-new"), {"part": "knee-left"}, **RU, **HTMX).content
    html = html.decode()
    assert "Записать боль: <span" in html
    assert "Левое колено" in html
    for label in ("Характер боли", "Насколько сильная", "Когда", "Жгучая", "Пульсирующая"):
        assert label in html
    # A preset factor: shown in Russian, its value the stored English one.
    assert 'value="poor sleep"' in html
    assert ">плохой сон</label>" in html
    assert 'value="burning"' in html  # the pain type's value never changes


def test_recording_in_russian_confirms_in_russian_and_stores_english(client, patient):
    client.force_login(patient)
    data = {
        "body_part": ["knee-left", "knee-right"],
        "chosen_part": ["knee-left", "knee-right"],
        "pain_type": "burning",
        "intensity": "6",
        "date_recorded": (timezone.localtime() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        "factors": ["stress"],
        "factor_other": "Плохой сон, холод",
    }
    html = client.post(reverse("diary:entry-new"), data, **RU, **HTMX).content.decode()
    assert "Сохранено 2 записи: Левое колено и Правое колено, жгучая, 6/10." in html
    assert "Сегодня" in html  # the new day's heading in the list
    entries = PainEntry.objects.filter(owner=patient)
    assert {entry.pain_type for entry in entries} == {"burning"}
    # A preset typed in Russian is stored as the preset; the patient's own words as written.
    assert {tuple(entry.factors) for entry in entries} == {("stress", "poor sleep", "холод")}
    html = client.get(reverse("diary:diary"), **RU).content.decode()
    assert ">стресс</li>" in html
    assert ">плохой сон</li>" in html
    assert ">холод</li>" in html


def test_a_form_error_is_in_russian(client, patient):
    client.force_login(patient)
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"body_part": ["knee-left"], "pain_type": "burning", "intensity": "6"}
    html = client.post(
        reverse("diary:entry-new"), {**data, "date_recorded": future}, **RU, **HTMX
    ).content.decode()
    assert "Это время ещё не наступило" in html


def test_the_cached_entry_list_is_kept_per_language(client, patient, midday):
    """The list's days are cached by the diary's version: English first must not answer the
    Russian page (nor the other way round)."""
    record(patient, description="колено после лестницы")
    client.force_login(patient)
    english = client.get(reverse("diary:diary"), **EN).content.decode()
    assert ">Today" in english
    assert "Burning" in english
    russian = client.get(reverse("diary:diary"), **RU).content.decode()
    assert ">Сегодня" in russian
    assert "Жгучая" in russian
    assert ">Today" not in russian
    again = client.get(reverse("diary:diary"), **EN).content.decode()
    assert ">Today" in again
    assert "Сегодня" not in again


def test_another_patients_entries_never_show(client, patient, other_patient):
    record(other_patient, description="чужая запись Боба")
    record(patient, name="nape", description="моя запись")
    client.force_login(patient)
    html = client.get(reverse("diary:diary"), **RU).content.decode()
    assert "моя запись" in html
    assert "Задняя сторона шеи" in html
    assert "чужая запись Боба" not in html


def test_notes_page_in_russian(client, patient):
    client.force_login(patient)
    html = client.get(reverse("diary:notes"), **RU).content.decode()
    assert "Новая заметка" in html
    assert "Заметок пока нет." in html
    assert "Доступна моим врачам" in html  # the form's checkbox


def test_the_doctors_pages_in_russian(client, patient, doctor):
    link(patient, doctor)
    record(patient, intensity=8)
    doctor.language = "ru"
    doctor.save()
    client.force_login(doctor)
    html = client.get(reverse("diary:patients")).content.decode()
    assert "Мои пациенты" in html
    assert "Пик за 7 дней" in html
    html = client.get(reverse("diary:patient-diary", args=[patient.username])).content.decode()
    assert "только чтение" in html
    assert "Время — в часовом поясе пациента" in html
    assert "Левое колено" in html


# --- the digest ---------------------------------------------------------------------------------


def test_the_digest_page_in_russian(client, patient, midday):
    for hours in (1, 25, 49):
        record(patient, ago=timedelta(hours=hours), factors=["poor sleep"])
    client.force_login(patient)
    html = client.get(reverse("diary:digest") + "?days=7", **RU).content.decode()
    assert "Ваша сводка боли" in html
    assert "Сильнее всего болит: левое колено" in html
    assert "3 записи, дней с записями: 3 из 7, максимум 6/10." in html
    assert "Чаще всего боль жгучая." in html
    assert "7 дней" in html
    assert "30 дней" in html
    assert "Фактор «плохой сон» был в каждой записи: боль в среднем 6.0 (3 записи за 3 дня)" in html
    assert "Боль по дням" in html  # the chart's title


@pytest.mark.parametrize(
    ("count", "said"),
    [(1, "1 запись,"), (2, "2 записи,"), (5, "5 записей,"), (21, "21 запись,")],
)
def test_the_summary_has_russian_plurals(patient, count, said, midday):
    for index in range(count):
        record(patient, ago=timedelta(hours=1 + index))
    today = timezone.localdate()
    digest = build_digest(patient=patient, period=Period(today - timedelta(days=29), today))
    with translation.override("ru"):
        assert said in digest.summary
    with translation.override("en"):
        assert digest.summary.startswith("Most pain: left knee")


@pytest.mark.parametrize(
    ("days", "said"), [(1, "За 1 день"), (3, "За 3 дня"), (7, "За 7 дней"), (21, "За 21 день")]
)
def test_an_empty_period_is_said_with_its_plural(patient, days, said):
    today = timezone.localdate()
    digest = build_digest(patient=patient, period=Period(today - timedelta(days=days - 1), today))
    with translation.override("ru"):
        assert said in digest.summary


def test_dates_use_the_languages_month_names():
    with translation.override("ru"):
        # Month names in the genitive, as a Russian date reads ("30 января", not "30 январь").
        assert period_label(Period(date(2026, 1, 1), date(2026, 1, 30))) == "1–30 января 2026"
        assert period_label(Period(date(2025, 12, 20), date(2026, 1, 18))) == (
            "20 декабря 2025 – 18 января 2026"
        )
        assert period_label(Period(date(2026, 1, 20), date(2026, 2, 18))) == (
            "20 января – 18 февраля 2026"
        )
        assert day_heading(date(2026, 1, 2), date(2026, 3, 1)) == "Пт, 2 января"
        assert day_heading(date(2026, 3, 1), date(2026, 3, 1)) == "Сегодня"
    with translation.override("en"):
        assert period_label(Period(date(2026, 1, 1), date(2026, 1, 30))) == "1–30 Jan 2026"
        assert period_label(Period(date(2026, 1, 20), date(2026, 2, 18))) == "20 Jan – 18 Feb 2026"
        assert day_heading(date(2026, 1, 2), date(2026, 3, 1)) == "Fri 2 Jan"


# --- the API ------------------------------------------------------------------------------------


def test_body_part_labels_follow_accept_language_and_names_never_change(patient):
    api = token_client(patient)
    # Russian first: the body is built once per language, never one for all.
    ru = api.get("/api/diary/bodyparts/", **RU)
    en = api.get("/api/diary/bodyparts/", **EN)
    ru_parts = {part["name"]: part for part in json.loads(ru.content)}
    en_parts = {part["name"]: part for part in json.loads(en.content)}
    assert ru_parts.keys() == en_parts.keys()
    assert len(ru_parts) == 44
    assert ru_parts["knee-left"]["label"] == "Левое колено"
    assert ru_parts["elbow-right"]["label"] == "Правый локоть"
    assert en_parts["knee-left"]["label"] == "Left knee"
    assert {name: part["id"] for name, part in ru_parts.items()} == {
        name: part["id"] for name, part in en_parts.items()
    }
    assert ru_parts["knee-left"]["view"] == "front"
    # An HTTP cache must keep one answer per language.
    assert "accept-language" in ru["Vary"].lower()
    assert ru["Content-Language"] == "ru"
    assert en["Content-Language"] == "en"
    # No header: English.
    plain = {p["name"]: p for p in json.loads(api.get("/api/diary/bodyparts/").content)}
    assert plain["knee-left"]["label"] == "Left knee"


def test_api_errors_follow_accept_language(patient):
    api = token_client(patient)
    too_long = {"body_part": 21, "pain_type": "burning", "intensity": 5, "factors": ["x" * 41]}
    ru = api.post("/api/diary/stats/", too_long, format="json", **RU)
    assert ru.status_code == 400
    assert "слишком длинно" in ru.json()["factors"][0]
    en = api.post("/api/diary/stats/", too_long, format="json", **EN)
    assert "is too long" in en.json()["factors"][0]
    missing = api.delete("/api/diary/stats/", {"stat_pk": 999999}, format="json", **RU)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Запись не найдена"}
    period = api.get("/api/diary/digest/", {"days": "0"}, **RU)
    assert period.status_code == 400
    assert "целое число" in json.dumps(period.json(), ensure_ascii=False)


def test_the_api_digest_keeps_machine_fields_english(patient):
    record(patient, factors=["poor sleep"])
    api = token_client(patient)
    body = api.get("/api/diary/digest/", {"days": "7"}, **RU).json()
    assert body["body_parts"][0]["name"] == "knee-left"
    assert body["body_parts"][0]["label"] == "Левое колено"
    assert body["pain_types"]["burning"] == 1
    assert body["summary"].startswith("Сильнее всего болит: левое колено")


# --- emails -------------------------------------------------------------------------------------


def send() -> None:
    call_command("send_digests", stdout=StringIO())


@pytest.mark.parametrize(("patient_language", "doctor_language"), [("ru", "en"), ("en", "ru")])
def test_the_weekly_emails_are_in_each_recipients_language(
    patient, doctor, patient_language, doctor_language
):
    for user, language in ((patient, patient_language), (doctor, doctor_language)):
        accounts.mark_email_verified(user=user)
        user.language = language
        user.save()
    link(patient, doctor)
    record(patient, intensity=9)
    send()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    to_patient, to_doctor = by_recipient[patient.email], by_recipient[doctor.email]
    russian, english = (
        (to_patient, to_doctor) if patient_language == "ru" else (to_doctor, to_patient)
    )
    assert "Здравствуйте" in russian.body
    assert "Hello" in english.body
    assert russian.subject in ("Ваша неделя в Painmap", "Ваши пациенты на этой неделе в Painmap")
    assert english.subject in ("Your Painmap week", "Your patients this week on Painmap")
    if doctor_language == "ru":
        assert "внимания могут требовать 1 из 1 ваших пациентов" in to_doctor.body
    # Still no health details, in either language.
    for message in (to_patient, to_doctor):
        assert "колено" not in message.body.lower()
        assert "knee" not in message.body.lower()
