from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import PATIENTS, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_welcome_page_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_register_signs_in_and_joins_patients(client):
    response = client.post(
        reverse("register"),
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert response.status_code == 200
    user = User.objects.get(username="carol")
    assert response.context["user"] == user
    assert user.groups.filter(name=PATIENTS).exists()
    assert b'data-role="patient"' in response.content


def test_register_errors_are_inline(client, patient):
    response = client.post(
        reverse("register"),
        {"username": "ALICE", "email": "ALICE@example.com", "password1": "1", "password2": "2"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert {"username", "email", "password2"} <= set(form.errors)
    assert b"invalid-feedback" in response.content
    assert User.objects.count() == 1


def test_register_rejects_nul_bytes(client):
    response = client.post(
        reverse("register"),
        {
            "username": "ca\x00rol",
            "email": "c@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert not User.objects.exists()


def test_login_and_logout(client, patient):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("profile")).context["user"] == patient
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_login_wrong_password_shows_error(client, patient):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    assert b"Please enter a correct username and password" in response.content


@override_settings(LOGIN_FAILURE_LIMIT=2)
def test_web_login_is_throttled(client, patient):
    for _ in range(2):
        client.post(reverse("login"), {"username": "alice", "password": "nope"})
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_profile_needs_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_profile_shows_role_and_saves(client, patient):
    client.force_login(patient)
    page = client.get(reverse("profile"))
    assert b'id="profile-role">Patient' in page.content
    response = client.post(
        reverse("profile"),
        {
            "first_name": "Alice",
            "last_name": "Liddell",
            "email": "alice@wonder.land",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.first_name, patient.email, patient.timezone) == (
        "Alice",
        "alice@wonder.land",
        "Europe/Paris",
    )


def test_profile_rejects_bad_timezone_and_taken_email(client, patient, other_patient):
    client.force_login(patient)
    response = client.post(
        reverse("profile"),
        {"first_name": "", "last_name": "", "email": "BOB@example.com", "timezone": "Mars/Base"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "timezone"}
    patient.refresh_from_db()
    assert patient.email == "alice@example.com"


def test_times_follow_the_users_timezone(client, patient):
    patient.timezone = "Asia/Tokyo"
    patient.save()
    client.force_login(patient)
    assert b"JST" in client.get(reverse("profile")).content


def test_password_change(client, patient):
    client.force_login(patient)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret-7",
            "new_password2": "another-long-secret-7",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("another-long-secret-7")
    # Still signed in after the change.
    assert client.get(reverse("profile")).status_code == 200


def test_password_change_wrong_old_password(client, patient):
    client.force_login(patient)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "x-long-pass-1",
            "new_password2": "x-long-pass-1",
        },
    )
    assert response.status_code == 400
    assert "old_password" in response.context["password_form"].errors
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_header_shows_doctor_role(client, doctor):
    client.force_login(doctor)
    assert b'data-role="doctor">Doctor' in client.get("/", follow=True).content


def test_pages_send_csrf_header_for_htmx_and_no_cdn(client, patient):
    client.force_login(patient)
    content = client.get("/", follow=True).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "htmx-2.min.js" in content
    assert "//cdn" not in content
    assert "https://" not in content


def test_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy


def test_profile_does_not_focus_the_password_box(client, patient):
    client.force_login(patient)
    response = client.get("/accounts/profile/")
    assert response.status_code == 200
    assert b"autofocus" not in response.content


@pytest.mark.parametrize("value", ["", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Not/AZone"])
def test_the_zone_list_renders_as_djangos_select_would(value):
    """ZoneSelect (one cached run of options) must say exactly what Django's Select says."""
    from django import forms
    from django.test.html import parse_html

    from accounts.forms import ZoneSelect, timezone_choices

    attrs = {"id": "id_timezone", "class": "form-select", "aria-describedby": "id_timezone_help"}
    fast = ZoneSelect(choices=timezone_choices()).render("timezone", value, attrs)
    django = forms.Select(choices=timezone_choices()).render("timezone", value, attrs)
    assert parse_html(fast) == parse_html(django)
    assert fast.count(" selected") == (0 if value == "Not/AZone" else 1)
