"""Password reset by email: Django's views, limited, and the same answer for any address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from accounts import services
from conftest import PASSWORD, token_client

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
NEW_PASSWORD = "a-brand-new-secret-71"
LINK = re.compile(r"http://localhost(/accounts/password-reset/[\w-]+/[\w-]+/)")


def ask_reset(client: Client, email: str, address: str = "127.0.0.1", **extra):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address, HTTP_HOST="localhost", **extra)


def reset_path(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def without_per_request_values(content: bytes) -> str:
    """A page with its CSRF token and CSP nonce blanked: the only parts that differ per request."""
    text = content.decode()
    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    text = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r'\1""', text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', text)


def test_sign_in_page_links_to_the_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{RESET}">Forgot your password?</a>' in page


def test_reset_form_page(client):
    response = client.get(RESET)
    assert response.status_code == 200
    assert b"Reset your password" in response.content
    assert b'name="email"' in response.content
    assert b"<script>" not in response.content
    assert b"style=" not in response.content


def test_reset_email_is_plain_text_with_a_link_to_the_requests_host(client, patient):
    response = ask_reset(client, "ALICE@example.com")  # any capitals
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your Painmap password"
    assert message.from_email == "Painmap <painmap@localhost>"
    assert message.alternatives == []  # plain text only
    assert "Your username is alice." in message.body
    assert "The link works once, for 3\xa0days." in message.body
    assert reset_path(message).startswith("/accounts/password-reset/")


def test_an_unverified_address_gets_the_reset_email(client, patient):
    # Following the link proves the address, so it is not held back like the digest.
    assert not patient.email_verified
    ask_reset(client, patient.email)
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]


def test_known_and_unknown_addresses_get_the_same_answer(client, patient):
    known = ask_reset(client, "alice@example.com")
    assert len(mail.outbox) == 1
    unknown = ask_reset(client, "nobody@example.com")
    assert len(mail.outbox) == 1  # only the outbox differs
    assert (known.status_code, known["Location"], known.content) == (
        unknown.status_code,
        unknown["Location"],
        unknown.content,
    )
    assert sorted(known.cookies) == sorted(unknown.cookies)
    known_page = ask_reset(Client(), "alice@example.com", follow=True)
    unknown_page = ask_reset(Client(), "nobody@example.com", follow=True)
    assert known_page.redirect_chain == unknown_page.redirect_chain
    assert known_page.status_code == unknown_page.status_code == 200
    assert b"Check your email" in known_page.content
    assert without_per_request_values(known_page.content) == without_per_request_values(
        unknown_page.content
    )


def test_inactive_accounts_get_no_email(client, patient):
    patient.is_active = False
    patient.save()
    assert ask_reset(client, patient.email).status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["", "not-an-email", "a" * 250 + "@example.com"])
def test_bad_addresses_are_inline_errors(client, patient, email):
    response = ask_reset(client, email)
    assert response.status_code == 400
    assert b"invalid-feedback" in response.content
    assert mail.outbox == []


@override_settings(PASSWORD_RESET_LIMIT=2, PASSWORD_RESET_WINDOW=3600)
def test_requests_are_limited_per_client_address(client, patient):
    for email in ("one@example.com", "two@example.com"):
        assert ask_reset(client, email, address="10.0.0.1").status_code == 302
    response = ask_reset(client, patient.email, address="10.0.0.1")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert b"Too many attempts" in response.content
    assert b"alert-danger" in response.content  # inline, on the form
    assert mail.outbox == []
    # Another client address is not held back.
    assert ask_reset(client, patient.email, address="10.0.0.2").status_code == 302
    assert len(mail.outbox) == 1


@override_settings(PASSWORD_RESET_LIMIT=2, PASSWORD_RESET_WINDOW=3600)
@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_requests_are_limited_per_email_address(client, patient, email):
    # The same limit whether or not the address has an account: the 429 tells nothing either.
    for address in ("10.0.0.1", "10.0.0.2"):
        assert ask_reset(client, email.upper(), address=address).status_code == 302
    response = ask_reset(client, email, address="10.0.0.3")
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert len(mail.outbox) == (2 if email == patient.email else 0)


def test_reset_sets_the_password_and_ends_every_other_credential(client, patient):
    elsewhere = Client()
    assert elsewhere.login(username="alice", password=PASSWORD)
    api = token_client(patient)
    assert api.get("/api/auth/profile/").status_code == 200

    ask_reset(client, patient.email)
    link = reset_path(mail.outbox[0])
    response = client.get(link)
    # Django moves the token out of the address (and so out of any Referer) into the session.
    assert response.status_code == 302
    assert response["Location"].endswith("/set-password/")
    form_page = client.get(response["Location"])
    assert form_page.status_code == 200
    assert b"Choose a new password" in form_page.content
    done = client.post(
        response["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password-reset/complete/"
    complete = client.get(done["Location"])
    assert b"Your new password is set" in complete.content
    assert f'href="{reverse("login")}"'.encode() in complete.content

    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    # The other browser is signed out (the session hash changed) ...
    assert elsewhere.get(reverse("profile")).status_code == 302
    # ... the API token is gone ...
    assert not Token.objects.filter(user=patient).exists()
    assert api.get("/api/auth/profile/").status_code == 401
    # ... and the address the link came to is proven.
    assert patient.email_verified
    # The new password signs in; the link does not work twice.
    assert Client().login(username="alice", password=NEW_PASSWORD)
    again = Client().get(link)
    assert again.status_code == 400
    assert b"This reset link does not work" in again.content


def test_mismatched_new_passwords_are_inline_errors(client, patient):
    token = services.issue_token(user=patient)
    ask_reset(client, patient.email)
    set_password = client.get(reset_path(mail.outbox[0]))["Location"]
    response = client.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert response.status_code == 400
    assert b"invalid-feedback" in response.content
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)
    assert Token.objects.filter(pk=token.pk).exists()
    assert not patient.email_verified


@pytest.mark.parametrize(
    "mangle",
    [
        lambda path: path[:-3] + "/",  # cut short
        lambda path: path.replace("/password-reset/", "/password-reset/x"),  # another uid
        lambda path: re.sub(r"/[\w-]+/$", "/1-abcdef0123456789/", path),  # a forged token
        lambda path: "/accounts/password-reset/%00/set-password/",
        lambda path: "/accounts/password-reset/" + "A" * 400 + "/token/",
    ],
)
def test_tampered_links_get_a_clear_page(client, patient, mangle):
    ask_reset(client, patient.email)
    response = client.get(mangle(reset_path(mail.outbox[0])))
    assert response.status_code == 400
    if response["Content-Type"].startswith("text/html"):
        assert b"This reset link does not work" in response.content
        assert b"Ask for a new link" in response.content
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_expired_links_get_a_clear_page(client, patient):
    ask_reset(client, patient.email)
    later = datetime.now() + timedelta(days=4)
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        response = client.get(reset_path(mail.outbox[0]))
    assert response.status_code == 400
    assert b"This reset link does not work" in response.content


def test_a_link_for_an_old_address_stops_working(client, patient):
    ask_reset(client, patient.email)
    patient.email = "alice@new.example"
    patient.save()
    assert client.get(reset_path(mail.outbox[0])).status_code == 400


def test_a_set_password_address_without_the_session_token_does_not_work(client, patient):
    uid = urlsafe_base64_encode(str(patient.pk).encode())
    response = client.get(f"/accounts/password-reset/{uid}/set-password/")
    assert response.status_code == 400
    assert b"This reset link does not work" in response.content
