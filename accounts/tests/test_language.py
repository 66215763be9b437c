"""Which language a page, an API answer and a person get (core/i18n.py), and the switcher."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import User
from conftest import make_user

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}
LANGUAGE = reverse("set_language")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode())[1]


def test_a_visitor_gets_the_browsers_language(client):
    response = client.get(reverse("login"), **RU)
    assert html_lang(response) == "ru"
    assert response["Content-Language"] == "ru"
    assert "Accept-Language" in response["Vary"]
    # The switcher offers the other language, named in itself.
    assert 'name="language" value="en" lang="en"' in response.content.decode()
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert html_lang(english) == "en"
    assert 'name="language" value="ru" lang="ru"' in english.content.decode()
    # A language Painmap does not speak falls back to English.
    assert html_lang(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de-DE,de")) == "en"


def test_the_profile_language_wins_over_the_browsers(client, patient):
    client.force_login(patient)
    assert html_lang(client.get(reverse("profile"), **RU)) == "ru"  # none chosen: the browser's
    patient.language = "en"
    patient.save(update_fields=["language"])
    assert html_lang(client.get(reverse("profile"), **RU)) == "en"


def test_the_switcher_sets_the_cookie_and_the_profile(client, patient):
    client.force_login(patient)
    response = client.post(LANGUAGE, {"language": "ru", "next": "/diary/?part=knee-left"})
    assert response.status_code == 302
    assert response["Location"] == "/diary/?part=knee-left"
    assert response.cookies["django_language"].value == "ru"
    patient.refresh_from_db()
    assert patient.language == "ru"
    assert html_lang(client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en")) == "ru"


def test_the_switcher_works_signed_out(client):
    response = client.post(LANGUAGE, {"language": "ru", "next": reverse("login")})
    assert response["Location"] == reverse("login")
    assert html_lang(client.get(reverse("login"))) == "ru"


def test_the_switcher_refuses_what_it_does_not_know_and_changes_nothing(client, patient):
    client.force_login(patient)
    response = client.post(LANGUAGE, {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"  # never off the site
    assert "django_language" not in response.cookies
    patient.refresh_from_db()
    assert patient.language == ""
    assert client.get(LANGUAGE).status_code == 405


def test_the_profile_form_saves_a_language_and_refuses_an_unknown_one(client, patient):
    client.force_login(patient)
    fields = {"email": patient.email, "timezone": "", "digest_emails": "on"}
    response = client.post(reverse("profile"), {**fields, "language": "xx"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    patient.refresh_from_db()
    assert patient.language == ""
    client.post(reverse("profile"), {**fields, "language": "ru"})
    patient.refresh_from_db()
    assert patient.language == "ru"


def test_sign_up_keeps_the_language_the_page_was_in(client):
    client.post(
        reverse("register"),
        {
            "username": "olga",
            "email": "olga@example.com",
            "password1": "a long pass 1",
            "password2": "a long pass 1",
        },
        **RU,
    )
    assert User.objects.get(username="olga").language == "ru"


def test_the_api_follows_accept_language_for_words_never_for_machine_fields(client):
    response = client.get("/api/diary/stats/", HTTP_AUTHORIZATION="Token nope", **RU)
    assert response.status_code == 401
    assert response.json() == {"error": "Недействительный токен."}
    assert response["Content-Language"] == "ru"
    english = client.get("/api/diary/stats/", HTTP_AUTHORIZATION="Token nope")
    assert english.json() == {"error": "Invalid token."}


def test_pages_carry_the_script_catalog_inline_under_the_csp_nonce(client):
    page = client.get(reverse("login"), **RU).content.decode()
    start = r'<script nonce="([^"]+)">\s*\'use strict\';\s*{\s*const globals = this;'
    script = re.search(start, page)
    assert script, "the catalog script is inline and carries the nonce"
    assert "django.ngettext" in page


def test_a_doctors_page_is_in_the_doctors_language(client):
    doctor = make_user("dr_ru", role="doctor", language="ru")
    client.force_login(doctor)
    assert html_lang(client.get(reverse("profile"))) == "ru"
