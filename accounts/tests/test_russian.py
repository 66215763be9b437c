"""Accounts in Russian: pages, form errors, limits' plurals, emails in the recipient's language,
the idle sign-out, role badges and the API's errors (machine fields stay English)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from accounts import services, throttling
from accounts.middleware import LAST_ACTIVITY, idle_message
from accounts.models import DOCTORS, PATIENTS, CareLink, DiaryAccess, User
from conftest import PASSWORD, make_user, token_client

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def page(response) -> str:
    return response.content.decode()


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', page(response))[1]


def russian(user):
    user.language = "ru"
    user.save(update_fields=["language"])
    return user


# ---- Pages ---------------------------------------------------------------------------------------


def test_sign_in_page_in_russian(client):
    response = client.get(reverse("login"), **RU)
    html = page(response)
    assert html_lang(response) == "ru"
    assert "<title>Войти · Painmap</title>" in html
    assert "Забыли пароль?" in html
    assert "Впервые здесь?" in html
    assert ">Регистрация</a>" in html
    assert "Перейти к содержимому" in html  # the skip link
    assert "Painmap — открытый дневник боли" in html  # the footer
    assert "Sign in" not in html
    assert "Forgot your password?" not in html


def test_sign_in_page_stays_english_for_an_english_browser(client):
    html = page(client.get(reverse("login"), **EN))
    assert "Forgot your password?" in html
    assert "Забыли пароль?" not in html


def test_a_wrong_password_is_refused_in_russian(client, patient):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"}, **RU)
    assert response.status_code == 400
    # Django's own message, in its Russian.
    assert "Пожалуйста, введите правильные имя пользователя и пароль" in page(response)


def test_registration_page_and_its_errors_in_russian(client, patient):
    html = page(client.get(reverse("register"), **RU))
    assert '<h1 class="h3 mb-3">Регистрация</h1>' in html
    assert ">Создать аккаунт</button>" in html
    assert "Эл. почта" in html  # the email field's label
    assert "Уже зарегистрированы?" in html

    taken = client.post(
        reverse("register"),
        {"username": "newbie", "email": "ALICE@example.com", "password1": "x", "password2": "y"},
        **RU,
    )
    assert taken.status_code == 400
    html = page(taken)
    assert "Пользователь с таким адресом эл. почты уже существует." in html
    assert "A user with that email address already exists." not in html


def test_registration_in_russian_keeps_the_language_and_sends_a_russian_email(client):
    response = client.post(
        reverse("register"),
        {
            "username": "ivan",
            "email": "ivan@example.com",
            "password1": "Xq7!long-enough-pass",
            "password2": "Xq7!long-enough-pass",
        },
        **RU,
        follow=True,
    )
    assert response.status_code == 200
    html = page(response)
    assert "Добро пожаловать в Painmap, ivan!" in html
    assert "Мы отправили на ivan@example.com ссылку для подтверждения адреса." in html
    [message] = mail.outbox
    assert message.subject == "Подтвердите адрес эл. почты для Painmap"
    assert message.body.startswith("Здравствуйте, ivan!")
    assert "Ссылка действует 7 дней." in message.body


def test_profile_in_russian_with_its_language_choice_and_role_badge(client, patient):
    russian(patient)
    client.force_login(patient)
    response = client.get(reverse("profile"), **EN)  # the profile's language wins
    html = page(response)
    assert html_lang(response) == "ru"
    assert '<h1 class="h3 mb-3">Ваш профиль</h1>' in html
    assert '<option value="">Язык браузера</option>' in html
    assert 'id="profile-role">Пациент</span>' in html
    # The header's badge: the word translates, its data-role stays a machine value.
    assert 'data-role="patient">Пациент</span>' in html
    assert "Вы вошли как" in html
    for tab in ("Дневник", "Сводка", "Заметки", "Чат", "Профиль", "Мои врачи", "Найти врача"):
        assert re.search(rf">\s*{tab}\b", html), tab
    assert ">Выйти</button>" in html
    assert ">Сохранить профиль</button>" in html


def test_profile_form_errors_in_russian(client, patient, other_patient):
    russian(patient)
    client.force_login(patient)
    response = client.post(
        reverse("profile"),
        {"email": other_patient.email, "timezone": "Mars/Olympus", "language": "ru"},
    )
    assert response.status_code == 400
    html = page(response)
    assert "Пользователь с таким адресом эл. почты уже существует." in html
    assert "Выберите корректный вариант." in html  # Django's own, for the unknown zone


def test_a_doctors_badge_in_russian_and_the_groups_keep_their_names(client, doctor):
    russian(doctor)
    client.force_login(doctor)
    html = page(client.get(reverse("profile")))
    assert 'data-role="doctor">Врач</span>' in html
    assert ">Мои пациенты</a>" in html
    assert set(doctor.groups.values_list("name", flat=True)) == {DOCTORS}
    assert doctor.role == "Doctor"  # the machine value (export, API) stays English
    assert PATIENTS == "Patients"


def test_english_badge_is_unchanged(client, patient):
    client.force_login(patient)
    assert 'id="profile-role">Patient</span>' in page(client.get(reverse("profile")))


def test_delete_page_counts_in_russian(client, patient):
    russian(patient)
    client.force_login(patient)
    html = page(client.get(reverse("account_delete")))
    assert "Удалить аккаунт?" in html
    assert "Ваш дневник боли: 0 записей." in html


def test_care_team_in_russian_shows_the_status_in_russian(client, patient, doctor):
    link = CareLink.objects.create(patient=patient, doctor=doctor)
    services.change_link(link=link, by=doctor, status="declined")
    russian(patient)
    client.force_login(patient)
    html = page(client.get(reverse("care_team")))
    assert '<h1 class="h3 m-0">Мои врачи</h1>' in html
    assert "Прошлые связи" in html
    assert "— отклонена" in html
    # Dates read as Russian does: "7 декабря 2026", a month in the genitive, not "7 Дек 2026".
    months = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    assert re.search(rf"— отклонена \d{{1,2}} ({months}) \d{{4}}", html)
    # The API's status is a machine value: it stays English whatever the language.
    api = token_client(patient)
    [row] = api.get("/api/auth/links/", **RU).json()
    assert row["status"] == "declined"


def test_error_pages_render_without_a_request_in_either_language():
    for name in ("500.html", "503.html"):
        with translation.override("ru"):
            html = render_to_string(name)
        assert '<html lang="ru">' in html
        assert ("Что-то пошло не так" in html) or ("Скоро вернёмся" in html)
        assert '<a href="/">на главную</a>' in html
        with translation.override("en"):
            english = render_to_string(name)
        assert '<html lang="en">' in english
        assert "the start page" in english


def test_not_found_page_in_russian(client):
    response = client.get("/no-such-page/", **RU)
    assert response.status_code == 404
    assert "Страница не найдена" in page(response)


# ---- Limits and the idle sign-out ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "russian_text", "english_text"),
    [
        (60, "через 1 минуту.", "in 1 minute."),
        (120, "через 2 минуты.", "in 2 minutes."),
        (300, "через 5 минут.", "in 5 minutes."),
        (21 * 60, "через 21 минуту.", "in 21 minutes."),
        (12 * 60, "через 12 минут.", "in 12 minutes."),
        (1, "через 1 секунду.", "in 1 second."),
        (45, "через 45 секунд.", "in 45 seconds."),
    ],
)
def test_too_many_attempts_counts_in_russian(seconds, russian_text, english_text):
    with translation.override("ru"):
        text = throttling.too_many_message(seconds)
    assert text == f"Слишком много попыток. Повторите {russian_text}"
    with translation.override("en"):
        assert (
            throttling.too_many_message(seconds) == f"Too many attempts. Try again {english_text}"
        )


@override_settings(LOGIN_FAILURE_LIMIT=1)
def test_a_throttled_sign_in_says_so_in_russian(client, patient):
    client.post(reverse("login"), {"username": "alice", "password": "wrong"}, **RU)
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"}, **RU)
    assert response.status_code == 429
    assert "Слишком много попыток. Повторите через" in page(response)


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(1, "после 1 минуты"), (2, "после 2 минут"), (5, "после 5 минут"), (21, "после 21 минуты")],
)
def test_the_idle_message_counts_in_russian(minutes, text):
    with translation.override("ru"):
        assert f"Вы вышли из аккаунта {text} бездействия." in idle_message(minutes)


def test_an_idle_russian_session_is_signed_out_in_russian(patient, settings):
    settings.SESSION_IDLE_MINUTES = 30
    russian(patient)
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - 30 * 60 - 5
    session.save()
    # An English browser: the message and the sign-in page follow the person's own language.
    response = client.get("/diary/", follow=True, **EN)
    assert response.redirect_chain[0][1] == 302
    assert html_lang(response) == "ru"
    assert "Вы вышли из аккаунта после 30 минут бездействия." in page(response)
    assert client.get("/accounts/profile/").status_code == 302  # the session is gone


# ---- Emails in the recipient's language ----------------------------------------------------------


def test_a_verification_email_follows_the_recipient_not_the_page(patient, other_patient):
    russian(patient)
    other_patient.language = "en"
    other_patient.save(update_fields=["language"])
    with translation.override("en"):
        services.send_verification_email(user=patient, site="http://testserver")
    with translation.override("ru"):
        services.send_verification_email(user=other_patient, site="http://testserver")
    to_russian, to_english = mail.outbox
    assert to_russian.to == [patient.email]
    assert to_russian.subject == "Подтвердите адрес эл. почты для Painmap"
    assert "Здравствуйте, alice!" in to_russian.body
    assert "Ссылка действует 7 дней." in to_russian.body
    assert "Hello" not in to_russian.body
    assert to_english.to == [other_patient.email]
    assert to_english.subject == "Confirm your email address for Painmap"
    assert "Hello bob," in to_english.body
    assert "Здравствуйте" not in to_english.body
    # Each email names only its own recipient.
    assert "bob" not in to_russian.body
    assert "alice" not in to_english.body


def ask_reset(client: Client, email: str, headers: dict[str, str]):
    return client.post(reverse("password_reset"), {"email": email}, **headers)


def test_a_reset_email_goes_out_in_the_accounts_language(client, patient, other_patient):
    russian(patient)
    other_patient.language = "en"
    other_patient.save(update_fields=["language"])
    ask_reset(client, patient.email, EN)  # asked from an English page
    ask_reset(client, other_patient.email, RU)  # asked from a Russian page
    to_russian, to_english = mail.outbox
    assert to_russian.subject == "Сброс пароля Painmap"
    assert "Ваше имя пользователя — alice." in to_russian.body
    assert "Ссылка одноразовая и действует 3\xa0дня." in to_russian.body
    assert to_english.subject == "Reset your Painmap password"
    assert "The link works once, for 3\xa0days." in to_english.body


@pytest.mark.parametrize(
    ("headers", "subject"),
    [(RU, "Сброс пароля Painmap"), (EN, "Reset your Painmap password")],
)
def test_a_reset_for_an_account_without_a_language_uses_the_pages(
    client, patient, headers, subject
):
    assert patient.language == ""
    response = ask_reset(client, patient.email, headers)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.subject == subject


def test_the_reset_pages_in_russian(client, patient):
    html = page(client.get(reverse("password_reset"), **RU))
    assert "Сброс пароля" in html
    assert ">Отправить ссылку</button>" in html
    done = page(client.get(reverse("password_reset_done"), **RU))
    assert "Проверьте почту" in done
    assert "Ссылка одноразовая и действует 3\xa0дня." in done


# ---- The API ----------------------------------------------------------------------------------


def test_api_sign_in_error_in_russian(api_client, patient):
    response = api_client.post(
        "/api/auth/login/", {"username": "alice", "password": "wrong"}, format="json", **RU
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Неверное имя пользователя или пароль"}
    assert response["Content-Language"] == "ru"
    english = api_client.post(
        "/api/auth/login/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert english.json() == {"error": "Invalid credentials"}


def test_api_bad_token_in_russian(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get("/api/auth/profile/", **RU)
    assert response.status_code == 401
    assert "Недействительный токен." in response.json().values()


@override_settings(LOGIN_FAILURE_LIMIT=1)
def test_api_throttle_in_russian_keeps_retry_after(api_client, patient):
    body = {"username": "alice", "password": "wrong"}
    api_client.post("/api/auth/login/", body, format="json", **RU)
    response = api_client.post("/api/auth/login/", body, format="json", **RU)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"].startswith("Слишком много попыток. Повторите через")


def test_api_registration_errors_in_russian_under_english_field_names(api_client, patient):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "alice", "email": "ALICE@example.com", "password": "Xq7!long-enough"},
        format="json",
        **RU,
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["username"] == ["Пользователь с таким именем уже существует."]
    assert errors["email"] == ["Пользователь с таким адресом эл. почты уже существует."]


def test_api_link_errors_in_russian(doctor, patient):
    api = token_client(patient)
    missing = api.post("/api/auth/links/", {"doctor": "nobody"}, format="json", **RU)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Такого врача нет"}
    created = api.post("/api/auth/links/", {"doctor": doctor.username}, format="json", **RU)
    assert created.status_code == 201
    assert created.json()["status"] == "pending"  # machine value, English
    again = api.post("/api/auth/links/", {"doctor": doctor.username}, format="json", **RU)
    assert again.json() == {"error": "У вас уже есть ожидающая или действующая связь с drwho."}


def test_api_wrong_old_password_in_russian(patient):
    api = token_client(patient)
    response = api.post(
        "/api/auth/password/",
        {"old_password": "wrong", "new_password": "Xq7!long-enough-pass"},
        format="json",
        **RU,
    )
    assert response.status_code == 400
    assert response.json() == {"old_password": ["Старый пароль введён неверно."]}


def test_a_russian_person_signing_in_sees_no_one_elses_name(client, patient, other_patient):
    russian(patient)
    client.force_login(patient)
    html = page(client.get(reverse("profile")))
    assert "alice" in html
    assert "bob" not in html
    assert make_user("zed").language == ""


def test_the_access_log_in_russian_and_its_stored_values_stay_english(client, patient, doctor):
    DiaryAccess.objects.create(viewer=doctor, patient=patient, what="diary page")
    DiaryAccess.objects.create(viewer=doctor, patient=patient, what="something new")
    russian(patient)
    client.force_login(patient)
    html = page(client.get(reverse("access_log")))
    assert "Кто смотрел мой дневник" in html
    assert '<th scope="col">Когда</th>' in html
    assert "<td>страница дневника</td>" in html
    assert "<td>something new</td>" in html  # an unknown value is shown as stored
    assert set(DiaryAccess.objects.values_list("what", flat=True)) == {
        "diary page",
        "something new",
    }


def test_the_switcher_names_each_language_in_itself(client):
    html = page(client.get(reverse("login"), **RU))
    assert 'aria-label="English"' in html
    assert "Английский" not in html
    english = page(client.get(reverse("login"), **EN))
    assert 'aria-label="Русский"' in english


def test_the_profile_says_since_when_with_a_genitive_month(client, patient):
    russian(patient)
    User.objects.filter(pk=patient.pk).update(date_joined=datetime(2026, 3, 8, 12, tzinfo=UTC))
    client.force_login(patient)
    assert "с нами с 8 марта 2026" in page(client.get(reverse("profile")))


def test_an_api_sign_up_in_russian_gets_a_russian_email_and_keeps_the_language(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "olga", "email": "olga@example.com", "password": "Xq7!long-enough-pass"},
        format="json",
        **RU,
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "olga"
    assert User.objects.get(username="olga").language == "ru"
    [message] = mail.outbox
    assert message.subject == "Подтвердите адрес эл. почты для Painmap"


def test_an_api_sign_up_without_a_language_keeps_none(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "pat", "email": "pat@example.com", "password": "Xq7!long-enough-pass"},
        format="json",
    )
    assert response.status_code == 201
    assert User.objects.get(username="pat").language == ""
    [message] = mail.outbox
    assert message.subject == "Confirm your email address for Painmap"
