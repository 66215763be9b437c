"""Password changes (page and API), sign-outs and "sign out everywhere": which sessions and
tokens end, and which stay."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from conftest import PASSWORD, token_client

NEW_PASSWORD = "another-Long-secret-77"
PASSWORD_API = "/api/auth/password/"


def signed_in(user, password: str = PASSWORD) -> Client:
    client = Client()
    assert client.login(username=user.username, password=password)
    return client


def signed_in_still(client: Client) -> bool:
    return client.get("/accounts/profile/").status_code == 200


# The page.


def test_password_change_keeps_this_session_and_ends_the_others_and_the_token(patient):
    here, elsewhere = signed_in(patient), signed_in(patient)
    api = token_client(patient)
    old_key = Token.objects.get(user=patient).key
    failed = here.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert failed.status_code == 400  # a failed change ends nothing
    assert signed_in_still(elsewhere)
    assert api.get("/api/auth/profile/").status_code == 200
    response = here.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert "signed out everywhere else" in response.content.decode()
    assert signed_in_still(here)
    assert not signed_in_still(elsewhere)
    assert api.get("/api/auth/profile/").status_code == 401
    assert not Token.objects.filter(key=old_key).exists()


def test_sign_out_everywhere_asks_first_then_keeps_only_this_browser(patient):
    here, elsewhere = signed_in(patient), signed_in(patient)
    api = token_client(patient)
    profile = here.get("/accounts/profile/").content.decode()
    assert 'href="/accounts/sign-out-everywhere/"' in profile
    confirm = here.get("/accounts/sign-out-everywhere/")
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode()
    assert signed_in_still(elsewhere)  # asking is not doing
    response = here.post("/accounts/sign-out-everywhere/", follow=True)
    assert "still signed in here" in response.content.decode()
    assert signed_in_still(here)
    assert not signed_in_still(elsewhere)
    assert api.get("/api/auth/profile/").status_code == 401
    # Signing in again works as before.
    assert signed_in_still(signed_in(patient))


def test_sign_out_everywhere_needs_a_signed_in_user_and_post(client, patient):
    assert client.post("/accounts/sign-out-everywhere/").status_code == 302
    here = signed_in(patient)
    assert here.put("/accounts/sign-out-everywhere/").status_code == 405


def test_web_sign_out_ends_the_api_token_but_not_other_browsers(patient):
    here, elsewhere = signed_in(patient), signed_in(patient)
    api = token_client(patient)
    response = here.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not signed_in_still(here)
    assert signed_in_still(elsewhere)
    assert api.get("/api/auth/profile/").status_code == 401
    assert not Token.objects.filter(user=patient).exists()
    assert here.post("/accounts/logout/").status_code == 302  # again, signed out: harmless
    assert here.get("/accounts/logout/").status_code == 405


def test_deactivate_user_ends_sessions_and_token(patient):
    here = signed_in(patient)
    api = token_client(patient)
    services.deactivate_user(user=patient)
    assert not signed_in_still(here)
    assert api.get("/api/auth/profile/").status_code == 401
    assert not Token.objects.filter(user=patient).exists()


# The API route.


def test_api_password_change_returns_a_new_token_and_ends_everything_else(patient):
    api = token_client(patient)
    old_key = Token.objects.get(user=patient).key
    browser = signed_in(patient)
    response = api.post(
        PASSWORD_API, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    new_key = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert new_key != old_key
    assert api.get("/api/auth/profile/").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert fresh.get("/api/auth/profile/").status_code == 200
    assert not signed_in_still(browser)
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    # Sign-in with the new password returns that same new token (the API contract).
    login = APIClient().post(
        "/api/auth/login/", {"username": "alice", "password": NEW_PASSWORD}, format="json"
    )
    assert login.json()["token"] == new_key


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "123"}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "alice"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": 12345678, "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": ["x"]}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "a\x00" + NEW_PASSWORD}, "new_password"),
        ({"old_password": PASSWORD, "new_password": "x" * 5000}, "new_password"),
    ],
)
def test_api_password_change_bad_input_is_a_field_error_and_changes_nothing(
    patient, payload, field
):
    api = token_client(patient)
    response = api.post(PASSWORD_API, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert api.get("/api/auth/profile/").status_code == 200  # the token still works
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


@pytest.mark.parametrize("body", ["{not json", "[]", '"text"', "null"])
def test_api_password_change_rejects_bodies_that_are_not_an_object(patient, body):
    response = token_client(patient).generic(
        "POST", PASSWORD_API, body, content_type="application/json"
    )
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


def test_api_password_change_needs_a_token(api_client, client, patient):
    payload = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api_client.post(PASSWORD_API, payload, format="json").status_code == 401
    client.force_login(patient)  # sessions do not count on the API
    assert client.post(PASSWORD_API, payload, content_type="application/json").status_code == 401
    assert token_client(patient).get(PASSWORD_API).status_code == 405


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_api_password_change_wrong_old_passwords_are_limited(patient):
    api = token_client(patient)
    for _ in range(3):
        bad = api.post(
            PASSWORD_API, {"old_password": "bad", "new_password": NEW_PASSWORD}, format="json"
        )
        assert bad.status_code == 400
    blocked = api.post(
        PASSWORD_API, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert blocked.status_code == 429
    assert "error" in blocked.json()
    assert int(blocked["Retry-After"]) > 0
    # Signing in is not locked by them.
    login = APIClient().post(
        "/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_page_password_change_wrong_old_passwords_are_limited_too(client, patient):
    # The page must not be a way around the API's limit for someone holding a stolen session.
    client.force_login(patient)
    form = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for _ in range(3):
        assert (
            client.post("/accounts/password/", {"old_password": "bad", **form}).status_code == 400
        )
    blocked = client.post("/accounts/password/", {"old_password": PASSWORD, **form})
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert b"Too many attempts" in blocked.content
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)  # nothing changed
    # The same counter as the API's: it is refused there as well.
    api = token_client(patient).post(
        PASSWORD_API, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert api.status_code == 429


def test_api_password_change_is_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/auth/password/"]["post"]
    assert {"200", "400", "401", "429"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(component["required"]) == {"old_password", "new_password"}


def test_a_password_set_in_the_admin_ends_the_users_token_and_sessions(
    admin_client, admin_user, patient
):
    browser = signed_in(patient)
    api = token_client(patient)
    url = f"/admin/accounts/user/{patient.pk}/password/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )
    assert response.status_code == 302
    assert api.get("/api/auth/profile/").status_code == 401
    assert not signed_in_still(browser)
    assert admin_client.get("/admin/").status_code == 200  # the admin stays signed in
    # Even after changing their own password there.
    own = admin_client.post(
        f"/admin/accounts/user/{admin_user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )
    assert own.status_code == 302
    assert admin_client.get("/admin/").status_code == 200
