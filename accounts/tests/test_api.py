from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from accounts.models import PATIENTS, User
from conftest import PASSWORD, token_client

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
LOGIN = "/api/auth/login/"
LOGOUT = "/api/auth/logout/"
PROFILE = "/api/auth/profile/"


def register(client, **overrides):
    data = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
    data.update(overrides)
    return client.post(REGISTER, data, format="json")


def test_register_returns_token_and_user(api_client):
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="newbie")
    assert body["token"] == Token.objects.get(user=user).key
    assert body["user"] == {
        "id": user.pk,
        "username": "newbie",
        "email": "newbie@example.com",
        "first_name": "",
        "last_name": "",
        "groups": [PATIENTS],
    }
    assert "password" not in body["user"]


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_missing_field(api_client, missing):
    data = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
    del data[missing]
    response = api_client.post(REGISTER, data, format="json")
    assert response.status_code == 400
    assert missing in response.json()
    assert not User.objects.filter(username="newbie").exists()


def test_register_duplicate_username(api_client, patient):
    response = register(api_client, username=patient.username.upper())
    assert response.status_code == 400
    assert "already exists" in response.json()["username"][0]


def test_register_checks_the_username_it_will_store(api_client):
    # Usernames are stored NFKC-normalised: "ªlice" is stored as "alice", so it is taken
    # (the fuzzer found this as a 503 from the unique index).
    assert register(api_client, username="alice").status_code == 201
    response = register(api_client, username="\u00aalice", email="other@example.com")
    assert response.status_code == 400
    assert "already exists" in response.json()["username"][0]
    assert User.objects.count() == 1


def test_register_stores_the_normalised_username(api_client):
    response = register(api_client, username="\ufb01ona")  # the "fi" ligature
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "fiona"


def test_register_duplicate_email_ignores_case(api_client, patient):
    response = register(api_client, email=patient.email.upper())
    assert response.status_code == 400
    assert "already exists" in response.json()["email"][0]


def test_register_invalid_email(api_client):
    response = register(api_client, email="not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.parametrize("password", ["12345678", "password", "short", "newbie2026"])
def test_register_weak_password(api_client, password):
    response = register(api_client, password=password)
    assert response.status_code == 400
    assert response.json()["password"]
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "nul\x00name", "email": "a@example.com", "password": PASSWORD},
        {"username": "x" * 10_000, "email": "a@example.com", "password": PASSWORD},
        {"username": "ok", "email": "a" * 10_000 + "@example.com", "password": PASSWORD},
        {"username": "ok", "email": "a@example.com", "password": "p" * 10_000},
        {"username": ["list"], "email": {"a": 1}, "password": 12},
        {"username": 12345, "email": "a@example.com", "password": PASSWORD},
        {"username": "bad name!", "email": "a@example.com", "password": PASSWORD},
    ],
)
def test_register_bad_input_is_400(api_client, payload):
    response = api_client.post(REGISTER, payload, format="json")
    assert response.status_code == 400
    assert User.objects.count() == 0


def test_register_rejects_non_json_body(api_client):
    response = api_client.generic("POST", REGISTER, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_login_returns_same_token_until_logout(api_client, patient):
    first = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    second = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["token"] == second.json()["token"]
    assert first.json()["user"]["username"] == "alice"


def test_login_wrong_credentials(api_client, patient):
    response = api_client.post(LOGIN, {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid credentials"}
    unknown = api_client.post(LOGIN, {"username": "ghost", "password": "nope"}, format="json")
    assert unknown.json() == {"error": "Invalid credentials"}


def test_login_inactive_user_is_refused(api_client, patient):
    patient.is_active = False
    patient.save()
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_login_missing_fields_and_nul(api_client):
    assert api_client.post(LOGIN, {}, format="json").status_code == 400
    response = api_client.post(LOGIN, {"username": "a\x00", "password": "x"}, format="json")
    assert response.status_code == 400


def test_logout_deletes_token(api_client, patient):
    token = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    key = token.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.post(LOGOUT).status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert api_client.get(PROFILE).status_code == 401
    again = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert again.json()["token"] != key


def test_profile(patient):
    response = token_client(patient).get(PROFILE)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["groups"] == [PATIENTS]


@pytest.mark.parametrize(("method", "url"), [("get", PROFILE), ("post", LOGOUT)])
@pytest.mark.parametrize(
    "header",
    # A NUL in the key was a 500 on PostgreSQL (it cannot compare such text); too long cannot be.
    [
        None,
        "Token nope",
        "Token " + "0" * 40,
        "Bearer x",
        "Token",
        "Token ab\x00c",
        "Token " + "0" * 41,
    ],
)
def test_routes_need_a_valid_token(api_client, method, url, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert "error" in response.json()


def test_api_ignores_session_auth(client, patient):
    client.force_login(patient)
    assert client.get(PROFILE).status_code == 401


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=900)
def test_failed_logins_are_throttled_per_username_and_address(api_client, patient, other_patient):
    for _ in range(3):
        bad = api_client.post(LOGIN, {"username": "alice", "password": "bad"}, format="json")
        assert bad.status_code == 400
    blocked = api_client.post(LOGIN, {"username": "ALICE", "password": PASSWORD}, format="json")
    assert blocked.status_code == 429
    assert "error" in blocked.json()
    assert 0 < int(blocked["Retry-After"]) <= 900
    # Another username is not affected.
    ok = api_client.post(LOGIN, {"username": "bob", "password": PASSWORD}, format="json")
    assert ok.status_code == 200
    # Nor is the same username from another address (see test_throttling.py for the rest).
    elsewhere = api_client.post(
        LOGIN, {"username": "alice", "password": PASSWORD}, format="json", REMOTE_ADDR="10.9.9.9"
    )
    assert elsewhere.status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_successful_login_resets_failures(api_client, patient):
    for _ in range(2):
        api_client.post(LOGIN, {"username": "alice", "password": "bad"}, format="json")
    assert api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200
    for _ in range(2):
        api_client.post(LOGIN, {"username": "alice", "password": "bad"}, format="json")
    assert api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200


@override_settings(REGISTRATION_LIMIT=2, REGISTRATION_WINDOW=3600)
def test_registrations_are_throttled_per_address(api_client):
    for index in range(2):
        response = register(api_client, username=f"u{index}", email=f"u{index}@example.com")
        assert response.status_code == 201
    blocked = register(api_client, username="u9", email="u9@example.com")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert not User.objects.filter(username="u9").exists()
    other_address = api_client.post(
        REGISTER,
        {"username": "u8", "email": "u8@example.com", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.0.0.2",
    )
    assert other_address.status_code == 201
