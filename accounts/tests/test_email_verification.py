"""Email verification: a signed link at registration and after an email change, the profile's
state and resend button, the API's `email_verified`, and the accounts that count as verified."""

from __future__ import annotations

import re
import time
from io import StringIO
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.urls import reverse

from accounts import services
from accounts.models import User
from conftest import PASSWORD, token_client

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://localhost(/accounts/verify-email/[^/\s]+/)")
RESEND = "/accounts/verify-email/resend/"


def verification_path(message) -> str:
    assert message.subject == "Confirm your email address for Painmap"
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def confirm(client: Client, path: str):
    """What a person does with the link: open it, then press the button."""
    page = client.get(path)
    assert page.status_code == 200
    assert b"Yes, confirm my address" in page.content
    return client.post(path)


def profile_data(user: User, **changes) -> dict[str, str]:
    data = {"first_name": "", "last_name": "", "email": user.email, "timezone": ""}
    return {**data, **changes}


def test_web_registration_works_at_once_and_sends_a_link(client):
    response = client.post(
        reverse("register"),
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        HTTP_HOST="localhost",
        follow=True,
    )
    user = User.objects.get(username="carol")
    assert response.context["user"] == user  # signed in, unverified
    assert not user.email_verified
    assert b"We sent a link to carol@example.com" in response.content
    [message] = mail.outbox
    assert message.to == ["carol@example.com"]
    assert message.content_subtype == "plain"
    assert not getattr(message, "alternatives", [])
    assert "works for 7 days" in message.body
    # The address is not in the link (nor so in access logs), only a keyed digest of it.
    path = verification_path(message)
    assert "carol" not in path

    page = confirm(client, path)
    assert page.status_code == 200
    assert b"Email address confirmed" in page.content
    user.refresh_from_db()
    assert user.email_verified


def test_opening_the_link_alone_verifies_nothing(patient):
    # Mail scanners open every link in a message; only the button's POST proves the address.
    path = reverse("verify_email", args=[services.email_verification_token(user=patient)])
    page = Client().get(path)
    assert page.status_code == 200
    assert b"alice@example.com" in page.content
    assert b'<form method="post"' in page.content
    patient.refresh_from_db()
    assert not patient.email_verified


def test_api_registration_sends_a_link_and_keeps_its_shape(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "dave", "email": "dave@example.com", "password": PASSWORD},
        format="json",
        HTTP_HOST="localhost",
    )
    assert response.status_code == 201
    assert set(response.json()["user"]) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "groups",
    }
    [message] = mail.outbox
    assert message.to == ["dave@example.com"]
    assert confirm(Client(), verification_path(message)).status_code == 200
    assert User.objects.get(username="dave").email_verified


def test_registration_survives_a_mail_server_failure(client, caplog):
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("refused")):
        response = client.post(
            reverse("register"),
            {
                "username": "erin",
                "email": "e@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            follow=True,
        )
    assert response.status_code == 200
    assert response.context["user"].username == "erin"
    assert b"We sent a link" not in response.content
    assert "Failed to send the verification email" in caplog.text


def test_following_a_link_twice_is_fine(client, patient):
    path = reverse("verify_email", args=[services.email_verification_token(user=patient)])
    assert confirm(client, path).status_code == 200
    first = User.objects.get(pk=patient.pk).email_verified_at
    assert client.post(path).status_code == 200
    assert User.objects.get(pk=patient.pk).email_verified_at == first
    # Opened again later: it says so, with no button.
    again = client.get(path)
    assert b"Email address confirmed" in again.content
    assert b"Yes, confirm my address" not in again.content


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a:b:c",
        "%00",
        "x" * 2000,
        signing.dumps({"user": 1, "email": "x"}, salt="another-purpose"),
        signing.dumps(["not", "a", "dict"], salt="accounts.email-verification"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_links_get_a_clear_page(client, patient, token, method):
    response = getattr(client, method)(f"/accounts/verify-email/{token}/")
    assert response.status_code == 400
    if response["Content-Type"].startswith("text/html"):
        assert b"This confirmation link does not work" in response.content
    patient.refresh_from_db()
    assert not patient.email_verified


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_gets_a_clear_page(client, patient, method):
    token = services.email_verification_token(user=patient)
    value, stamp, signature = token.rsplit(":", 2)
    forged = f"{value}:{stamp}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = getattr(client, method)(reverse("verify_email", args=[forged]))
    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    patient.refresh_from_db()
    assert not patient.email_verified


@override_settings(EMAIL_VERIFICATION_DAYS=7)
def test_an_expired_link_gets_a_clear_page(client, patient):
    token = services.email_verification_token(user=patient)
    eight_days = time.time() + 8 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=eight_days):
        assert client.get(reverse("verify_email", args=[token])).status_code == 400
        response = client.post(reverse("verify_email", args=[token]))
    assert response.status_code == 400
    assert b"This link has expired" in response.content
    assert not User.objects.get(pk=patient.pk).email_verified
    six_days = time.time() + 6 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=six_days):
        assert client.post(reverse("verify_email", args=[token])).status_code == 200
    assert User.objects.get(pk=patient.pk).email_verified


def test_a_link_for_an_old_address_stops_working(client, patient):
    token = services.email_verification_token(user=patient)
    patient.email = "alice@new.example"
    patient.save()
    response = client.post(reverse("verify_email", args=[token]))
    assert response.status_code == 400
    assert b"no longer on the account" in response.content
    patient.refresh_from_db()
    assert not patient.email_verified


def test_a_link_for_a_deactivated_account_does_not_work(client, patient):
    token = services.email_verification_token(user=patient)
    patient.is_active = False
    patient.save()
    assert client.post(reverse("verify_email", args=[token])).status_code == 400
    assert not User.objects.get(pk=patient.pk).email_verified


def test_profile_shows_the_state_and_resends_the_link(client, patient):
    client.force_login(patient)
    page = client.get(reverse("profile")).content.decode()
    assert "Not verified" in page
    assert f'action="{RESEND}"' in page
    response = client.post(RESEND, HTTP_HOST="localhost", follow=True)
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert b"We sent a link to alice@example.com" in response.content
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    confirm(client, verification_path(message))
    page = client.get(reverse("profile")).content.decode()
    assert "Verified" in page
    assert "Not verified" not in page
    assert RESEND not in page


def test_resend_is_post_only_and_for_signed_in_users(client, patient):
    assert client.post(RESEND).status_code == 302  # to sign in
    client.force_login(patient)
    assert client.get(RESEND).status_code == 405
    assert mail.outbox == []


def test_resend_for_a_verified_address_sends_nothing(client, patient):
    services.mark_email_verified(user=patient)
    client.force_login(patient)
    response = client.post(RESEND, follow=True)
    assert b"already verified" in response.content
    assert mail.outbox == []


@override_settings(VERIFICATION_EMAIL_LIMIT=2, VERIFICATION_EMAIL_WINDOW=3600)
def test_resend_is_limited_with_an_inline_429(client, patient):
    client.force_login(patient)
    for _ in range(2):
        assert client.post(RESEND).status_code == 302
    response = client.post(RESEND)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert 'id="verification-error"' in response.content.decode()
    assert b"Too many links were sent to you lately" in response.content
    assert len(mail.outbox) == 2


def test_changing_the_email_unverifies_it_and_sends_a_link(client, patient):
    services.mark_email_verified(user=patient)
    client.force_login(patient)
    response = client.post(
        reverse("profile"),
        profile_data(patient, email="alice@new.example"),
        HTTP_HOST="localhost",
        follow=True,
    )
    assert b"We sent a link to alice@new.example" in response.content
    patient.refresh_from_db()
    assert not patient.email_verified
    [message] = mail.outbox
    assert message.to == ["alice@new.example"]
    assert confirm(client, verification_path(message)).status_code == 200
    patient.refresh_from_db()
    assert patient.email_verified


def test_new_capitals_on_the_same_address_stay_verified(client, patient):
    services.mark_email_verified(user=patient)
    client.force_login(patient)
    client.post(reverse("profile"), profile_data(patient, email="ALICE@example.com"))
    patient.refresh_from_db()
    assert patient.email == "ALICE@example.com"
    assert patient.email_verified
    assert mail.outbox == []


def test_saving_the_profile_without_an_email_change_sends_nothing(client, patient):
    client.force_login(patient)
    client.post(reverse("profile"), profile_data(patient, first_name="Alice"))
    assert mail.outbox == []


@override_settings(VERIFICATION_EMAIL_LIMIT=1)
def test_a_limited_email_change_is_saved_without_a_link(client, patient):
    client.force_login(patient)
    client.post(RESEND)
    response = client.post(
        reverse("profile"), profile_data(patient, email="alice@new.example"), follow=True
    )
    assert b"No link was sent. Too many links were sent to you lately" in response.content
    patient.refresh_from_db()
    assert patient.email == "alice@new.example"
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]


def test_an_invalid_profile_change_keeps_the_verification(client, patient, other_patient):
    services.mark_email_verified(user=patient)
    client.force_login(patient)
    response = client.post(reverse("profile"), profile_data(patient, email=other_patient.email))
    assert response.status_code == 400
    patient.refresh_from_db()
    assert patient.email_verified
    assert mail.outbox == []


def test_api_profile_adds_email_verified(patient):
    api = token_client(patient)
    body = api.get("/api/auth/profile/").json()
    assert body.pop("email_verified") is False
    assert set(body) == {"id", "username", "email", "first_name", "last_name", "groups"}
    services.mark_email_verified(user=patient)
    assert api.get("/api/auth/profile/").json()["email_verified"] is True


def test_openapi_schema_documents_email_verified(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ok = schema["paths"]["/api/auth/profile/"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert properties["email_verified"]["type"] == "boolean"
    # The user inside the register and login answers keeps its original shape.
    assert "email_verified" not in schema["components"]["schemas"]["User"]["properties"]


def test_an_administrator_can_see_and_clear_the_verification(client, patient):
    services.mark_email_verified(user=patient)
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    client.login(username="admin", password=PASSWORD)
    url = reverse("admin:accounts_user_change", args=[patient.pk])
    page = client.get(url)
    assert b'name="email_verified_at_0"' in page.content
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if key not in {"password", "groups", "user_permissions", "last_login", "date_joined"}
        and value is not None
    }
    data.update(
        {
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "email_verified_at_0": "",
            "email_verified_at_1": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient.refresh_from_db()
    assert not patient.email_verified


def test_seeded_demo_accounts_are_verified(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert all(user.email_verified for user in User.objects.all())
    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_accounts_from_before_verification_count_as_verified():
    executor = MigrationExecutor(connection)
    [migration] = [
        key for key in executor.loader.disk_migrations if key[1].endswith("_email_verified_at")
    ]
    before = [parent.key for parent in executor.loader.graph.node_map[migration].parents]
    executor.migrate(before)
    old_user = executor.loader.project_state(before).apps.get_model("accounts", "User")
    old_user.objects.create(username="old", email="old@example.com")
    old_user.objects.create(username="nomail", email="")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema
    assert User.objects.get(username="old").email_verified
    assert not User.objects.get(username="nomail").email_verified
    # New accounts start unverified.
    new = services.register_user(username="new", email="n@example.com", password=PASSWORD)
    assert not new.email_verified
