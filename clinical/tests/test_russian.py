"""The clinical pages, the doctor's brief, reminders and the API in Russian (#15).

A page is in its reader's language (the profile's, else the browser's); an email goes out in
its recipient's; the token API's words follow Accept-Language while its field names stay.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy, ngettext

from clinical import services
from clinical.brief import build_brief
from clinical.delivery import Notice, deliver
from clinical.models import DoseTaken
from clinical.peg import ITEMS, SHOWN
from clinical.reminders import send_due_reminders
from clinical.tests.test_brief import PERIOD, QUERY, UTC_ZONE, history, signed_in, url
from clinical.tests.test_reminders import NOW
from conftest import token_client
from messaging.models import Message

pytestmark = pytest.mark.django_db

__all__ = ["history"]  # the brief's fixture, used here too

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def speaks(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


def doses_of(medication, count):
    for hours in range(count):
        DoseTaken.objects.create(
            medication=medication,
            taken_at=timezone.now() - timedelta(hours=hours + 1),
            dose=medication.usual_dose,
        )


# --- pages --------------------------------------------------------------------------------------


def test_the_medications_page_in_russian_with_plural_dose_counts(client, patient):
    speaks(patient, "ru")
    counts = {"Ибупрофен": 1, "Парацетамол": 2, "Напроксен": 5, "Кеторол": 22}
    for name, count in counts.items():
        medication = services.add_medication(patient=patient, name=name, usual_dose=Decimal(1))
        doses_of(medication, count)
    client.force_login(patient)
    page = client.get("/clinical/medications/").content.decode()
    assert '<html lang="ru"' in page
    for phrase in (
        "<title>Лекарства",
        "Ваши лекарства",
        "Добавить лекарство",
        "Еженедельный опрос и напоминания",
        "Обычная доза",
        "Для постоянного приёма (по графику)",
        "По требованию (при необходимости)",
        "День еженедельного опроса",
        "Понедельник",
        "Сохранить настройки",
        ">Прекратить</button>",
        'placeholder="например, ибупрофен"',
        '<option value="мг">',
    ):
        assert phrase in page, phrase
    # 1 приём, 2 приёма, 5 приёмов, 22 приёма: Russian has more forms than English.
    assert "1 приём записан" in page
    assert "2 приёма записано" in page
    assert "5 приёмов записано" in page
    assert "22 приёма записано" in page
    assert "doses recorded" not in page
    assert "Your medications" not in page


def test_the_profile_language_wins_over_the_browsers_on_the_medications_page(client, patient):
    speaks(patient, "en")
    client.force_login(patient)
    page = client.get("/clinical/medications/", **RU).content.decode()
    assert "Your medications" in page
    assert "Ваши лекарства" not in page


def test_stopping_a_medication_says_so_in_russian(client, patient, rescue):
    client.force_login(patient)
    response = client.post(
        f"/clinical/medications/{rescue.pk}/active/", {"active": "0"}, follow=True, **RU
    )
    page = response.content.decode()
    assert "Приём прекращён: Ibuprofen." in page
    assert "не принимается с" in page  # the badge, with a Russian date
    assert ">Возобновить</button>" in page
    # The stored kind stays the machine value.
    rescue.refresh_from_db()
    assert rescue.kind == "rescue"


def test_the_doses_page_in_russian(client, patient, rescue):
    dose = services.take_dose(medication=rescue, relief=7)
    client.force_login(patient)
    page = client.get(f"/clinical/medications/{rescue.pk}/", **RU).content.decode()
    for phrase in ("Ibuprofen: приёмы", "Записать приём", "Время приёма", "Помогло?", "7/10"):
        assert phrase in page, phrase
    local = timezone.localtime(dose.taken_at)
    month = {12: "дек", 1: "янв", 2: "фев", 3: "мар"}.get(local.month)
    if month:  # the month as Russian writes it, lower case
        assert f"{local.day} {month}" in page
    confirm = client.get(f"/clinical/doses/{dose.pk}/delete/", **RU).content.decode()
    assert "Удалить этот приём (Ibuprofen)?" in confirm
    assert "Отмена" in confirm


def test_a_bad_dose_form_says_why_in_russian(client, patient, rescue):
    client.force_login(patient)
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/clinical/medications/{rescue.pk}/", {"taken_at": future, "dose": "1"}, **RU
    )
    assert response.status_code == 422
    assert "Это время ещё не наступило" in response.content.decode()


def test_the_diary_panels_ask_the_peg_in_russian(client, patient, rescue):
    speaks(patient, "ru")
    client.force_login(patient)
    page = client.get("/clinical/checkin/").content.decode()
    assert "Какое число лучше всего описывает вашу боль в среднем за последнюю неделю?" in page
    assert "0 = нет боли" in page
    assert "10 = мешает полностью" in page
    assert "Я принял(а) Ibuprofen 400 мг" not in page  # the stored unit is the patient's own
    assert "Я принял(а) Ibuprofen 400 mg" in page


def test_the_peg_shown_is_the_sources_wording_in_english():
    with translation.override("en"):
        for field, _code, question, low, high in ITEMS:
            assert tuple(str(text) for text in SHOWN[field]) == (question, low, high)
    with translation.override("ru"):
        assert str(SHOWN["activity"][0]).startswith("Какое число")
        # FHIR keeps the English source wording whatever the language.
        assert ITEMS[0][2].startswith("What number")


# --- the doctor's brief: in the doctor's language -----------------------------------------------


def test_the_brief_is_in_the_doctors_language_not_the_patients(client, history, linked_doctor):
    speaks(history, "en")
    speaks(linked_doctor, "ru")
    page = signed_in(client, linked_doctor).get(url(history.username) + QUERY).content.decode()
    assert '<html lang="ru"' in page
    for phrase in (
        ": что изменилось",
        "5 записей за 4 дня (до этого: 4 за 4 дн.).",
        "Средняя боль 5,8, до этого 5,0 (выше на +0,8).",
        "Приёмов по требованию: 1,5 в неделю (до этого 0,5).",
        "Где болело",
        "Самые болезненные места",
        "Еженедельный опрос",
        "PEG вырос на 1+ балл",
        "Главные факторы",
        "Худшие дни",
        "Открытые заметки",
        "(3 за 14 дней)",  # rescue doses in 14 days
        "по требованию, 3 приёма",  # Ibuprofen, a rescue medication
        "постоянный приём, 2 приёма",  # Amitriptyline
        "облегчение <strong>6,0/10</strong>",
        "(2 ответа)",
        "3 записи за 2 дня",  # poor sleep: 3 entries on 2 days
        "в сравнении с 14 днями до этого",
        "Questions for my visit",  # the patient's own words stay theirs
    ):
        assert phrase in page, phrase
    assert "What changed" not in page
    assert "Private worry" not in page  # not shared: never in the brief
    assert "Bob's question" not in page


def test_an_english_doctor_reads_a_russian_patients_brief_in_english(
    client, history, linked_doctor
):
    speaks(history, "ru")
    speaks(linked_doctor, "en")
    page = (
        signed_in(client, linked_doctor).get(url(history.username) + QUERY, **RU).content.decode()
    )
    assert "5 entries on 4 days (before: 4 on 4)." in page
    assert "что изменилось" not in page


def test_the_brief_sentences_have_russian_plurals(history):
    with translation.override("ru"):
        brief = build_brief(patient=history, period=PERIOD, tz=UTC_ZONE)
    assert brief.changes[0] == "5 записей за 4 дня (до этого: 4 за 4 дн.)."
    with translation.override("ru"):
        days = [
            ngettext("%(count)s day", "%(count)s days", n) % {"count": n}
            for n in (1, 2, 5, 11, 21, 22, 25)
        ]
    assert days == [
        "1 день",
        "2 дня",
        "5 дней",
        "11 дней",
        "21 день",
        "22 дня",
        "25 дней",
    ]


def test_the_printed_brief_in_the_digest_follows_the_doctor(client, history, linked_doctor):
    speaks(linked_doctor, "ru")
    page = (
        signed_in(client, linked_doctor)
        .get(f"/diary/patients/{history.username}/digest/{QUERY}")
        .content.decode()
    )
    assert 'class="brief-print"' in page
    assert "Средняя боль 5,8, до этого 5,0 (выше на +0,8)." in page
    # The clinical section of the digest too.
    assert "Лекарства по требованию и еженедельный опрос" in page


# --- reminders: in the recipient's language -----------------------------------------------------


@pytest.fixture
def two_recipients(patient, other_patient):
    for user, language in ((patient, "ru"), (other_patient, "en")):
        user.email_verified_at = NOW - timedelta(days=30)
        user.timezone = "Europe/Paris"  # 20:30 there at NOW: the reminder is due
        user.language = language
        user.save()
        services.save_preferences(user=user, daily_reminder=True)
    return patient, other_patient


@pytest.mark.parametrize("active", ["en", "ru"])
def test_a_reminder_goes_out_in_each_recipients_language(two_recipients, active):
    russian, english = two_recipients
    with translation.override(active):  # whatever language the sender's run is in
        assert send_due_reminders(NOW) == 2
    by_recipient = {message.to[0]: message for message in mail.outbox}
    ru, en = by_recipient[russian.email], by_recipient[english.email]
    assert ru.subject == "Ваш дневник Painmap"
    assert ru.body.startswith("Здравствуйте, alice!")
    assert "запишите, как прошёл сегодняшний день" in ru.body
    assert "Настроить эти письма можно на странице «Лекарства»" in ru.body
    assert en.subject == "Your Painmap diary"
    assert en.body.startswith("Hello bob,")
    assert "record how today went" in en.body
    assert "Здравствуйте" not in en.body
    # No health data in either, as before: a link only.
    for message in (ru, en):
        assert "/diary/" in message.body
        assert "Ibuprofen" not in message.body


def test_a_checkin_notice_is_rendered_for_its_recipient(patient):
    speaks(patient, "ru")
    patient.email_verified_at = NOW
    patient.save()
    # Built under another language (a run's), rendered in the recipient's when delivered.
    with translation.override("en"):
        notice = Notice(
            patient,
            gettext_lazy("Your weekly Painmap check-in"),
            gettext_lazy("Your weekly check-in is waiting: three short questions."),
            "http://x/",
        )
        assert deliver(notice)
    assert mail.outbox[0].subject == "Ваш еженедельный опрос в Painmap"
    assert "Вас ждёт еженедельный опрос: три коротких вопроса." in mail.outbox[0].body


# --- the API: human words follow Accept-Language, field names stay -----------------------------


def test_api_errors_in_russian_with_english_field_names(patient, other_patient, bobs_medication):
    api = token_client(patient)
    missing = api.post("/api/diary/medications/", {"usual_dose": 1}, **RU)
    assert missing.status_code == 400
    assert missing.json() == {"name": ["Обязательное поле."]}
    not_found = api.patch("/api/diary/medications/", {"medication_pk": 999999}, format="json", **RU)
    assert not_found.status_code == 404
    assert not_found.json() == {"error": "Лекарство не найдено"}

    theirs = api.post("/api/diary/doses/", {"medication": bobs_medication.pk}, **RU)
    assert theirs.status_code == 400
    assert theirs.json() == {"medication": ["В вашем списке нет такого лекарства."]}
    no_dose = api.patch("/api/diary/doses/", {"dose_pk": 999999}, format="json", **RU)
    assert no_dose.json() == {"error": "Приём не найден"}
    since = api.get("/api/diary/doses/", {"since": "yesterday"}, **RU)
    assert since.status_code == 400
    assert "since должен быть датой" in since.json()["error"]
    stranger = api.get("/api/diary/checkins/", {"patient": other_patient.username}, **RU)
    assert stranger.status_code == 404
    assert stranger.json() == {"error": "Пациент не найден"}

    answers = {"average": 4, "enjoyment": 5, "activity": 6}
    assert api.post("/api/diary/checkins/", answers, **RU).status_code == 201
    again = api.post("/api/diary/checkins/", answers, **RU)
    assert again.status_code == 400
    assert again.json() == {"error": "Вы уже прошли опрос на этой неделе."}
    too_high = api.post("/api/diary/checkins/", {**answers, "average": 11}, **RU)
    assert list(too_high.json()) == ["average"]


def test_api_machine_values_stay_english_in_russian(patient, rescue):
    api = token_client(patient)
    services.take_dose(medication=rescue)
    medications = api.get("/api/diary/medications/", **RU)
    assert medications["Content-Language"] == "ru"
    assert [(row["kind"], row["unit"]) for row in medications.json()] == [("rescue", "mg")]
    created = api.post("/api/diary/medications/", {"name": "Напроксен", "usual_dose": 250}, **RU)
    assert (created.json()["kind"], created.json()["unit"]) == ("rescue", "mg")
    english = api.patch("/api/diary/medications/", {"medication_pk": 999999}, format="json")
    assert english.json() == {"error": "Medication not found"}


@pytest.mark.parametrize(
    ("receiver_language", "sender_language", "subject", "line"),
    [
        ("ru", "en", "Непрочитанные сообщения в Painmap", "У вас есть непрочитанные сообщения"),
        ("en", "ru", "Unread messages on Painmap", "You have unread messages on Painmap."),
    ],
)
def test_an_unread_chat_email_is_in_the_receivers_language_not_the_senders(
    patient, doctor, settings, receiver_language, sender_language, subject, line
):
    settings.UNREAD_EMAIL_AFTER = 3600
    speaks(doctor, sender_language)
    speaks(patient, receiver_language)
    patient.email_verified_at = NOW - timedelta(days=30)
    patient.save()
    message = Message.objects.create(sender=doctor, receiver=patient, text="Ваши анализы: X")
    Message.objects.filter(pk=message.pk).update(timestamp=NOW - timedelta(hours=2))
    assert send_due_reminders(NOW) == 1
    [email] = mail.outbox
    assert email.to == [patient.email]
    assert email.subject == subject
    assert line in email.body
    assert "анализы" not in email.body  # never the message itself


# --- the diary's panels: plurals of hours -------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        (1, "Через 1 час дневник спросит, помогло ли."),
        (3, "Через 3 часа дневник спросит, помогло ли."),
        (5, "Через 5 часов дневник спросит, помогло ли."),
    ],
)
def test_one_tap_rescue_says_when_it_will_ask_in_russian(
    client, patient, rescue, settings, hours, said
):
    settings.RELIEF_ASK_AFTER = hours * 3600
    speaks(patient, "ru")
    client.force_login(patient)
    response = client.post("/clinical/rescue/", {"medication": rescue.pk}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "Записано: Ibuprofen 400 mg в" in page
    assert said in page


def test_did_it_help_in_russian(client, patient, rescue):
    speaks(patient, "ru")
    dose = services.take_dose(medication=rescue)
    DoseTaken.objects.filter(pk=dose.pk).update(taken_at=timezone.now() - timedelta(hours=4))
    client.force_login(patient)
    asked = client.get("/diary/").content.decode()
    assert "Помогло?" in asked
    assert 'aria-label="Облегчение 7 из 10"' in asked
    assert "Не спрашивать об этом приёме" in asked
    empty = client.post(
        f"/clinical/doses/{dose.pk}/relief/", {}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "или выберите «Не спрашивать»" in empty
    answered = client.post(
        f"/clinical/doses/{dose.pk}/relief/", {"relief": "7"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Спасибо: облегчение 7/10 записано для Ibuprofen." in answered


def test_the_empty_brief_counts_the_days_before_in_russian(client, patient, linked_doctor):
    speaks(linked_doctor, "ru")
    client = signed_in(client, linked_doctor)
    for days, said in ((1, "и за 1 день до этого"), (7, "и за 7 дней до этого")):
        page = client.get(url(patient.username) + f"?days={days}").content.decode()
        assert said in page, days
    page = client.get(url(patient.username) + "?days=90").content.decode()
    assert "и за 90 дней до этого" in page
    assert ">90 дней</a>" in page
