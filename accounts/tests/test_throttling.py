from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from accounts import throttling
from accounts.models import User
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
WEB_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
REGISTER = "/api/auth/register/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def api_login(username: str, password: str, address: str = "127.0.0.1", client=None):
    client = client or APIClient()
    return client.post(
        LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def admin_login(client: Client, username: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})


# --- Finding 1: the admin sign-in is limited ---------------------------------------------------


def test_admin_sign_in_refuses_the_right_password_after_25_wrong(client, staff):
    answers = [admin_login(client, "boss", f"wrong-{n}").status_code for n in range(25)]
    assert answers[:10] == [200] * 10  # the admin's own answer to a wrong password
    assert set(answers[10:]) == {429}
    response = admin_login(client, "boss", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    # The admin's own page, with the reason inline where its errors go.
    assert b'class="errornote"' in response.content or b"errorlist" in response.content
    assert b"Too many attempts" in response.content


def test_admin_sign_in_still_signs_in_and_remembers_the_browser(client, staff):
    response = admin_login(client, "boss", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert throttling.DEVICE_COOKIE in response.cookies


# --- Finding 2: per address, per (username, address), per username -------------------------------


@override_settings(LOGIN_ADDRESS_LIMIT=50)
def test_one_address_trying_many_usernames_is_stopped(db):
    for index in range(30):
        make_user(f"user{index}")
    answers = [
        api_login(f"user{index}", f"guess-{attempt}").status_code
        for index in range(30)
        for attempt in range(3)
    ]
    assert answers.count(400) == 50
    assert answers[50:] == [429] * 40
    # Another address is not concerned.
    assert api_login("user29", PASSWORD, address="198.51.100.7").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_the_pair_limit_stops_one_address_not_the_owner_elsewhere(api_client, patient):
    for _ in range(3):
        assert api_login("alice", "bad", address="203.0.113.66").status_code == 400
    assert api_login("alice", PASSWORD, address="203.0.113.66").status_code == 429
    assert api_login("ALICE", PASSWORD, address="203.0.113.66").status_code == 429
    # The owner, at another address, still signs in.
    assert api_login("alice", PASSWORD, address="198.51.100.1").status_code == 200


@override_settings(LOGIN_USERNAME_LIMIT=5)
def test_a_distributed_attack_does_not_lock_the_owner_out(client, patient):
    # The owner signed in before, in this browser (device cookie) and from their address.
    assert client.post(WEB_LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 302
    assert throttling.DEVICE_COOKIE in client.cookies
    client.post("/accounts/logout/")
    # A botnet: one wrong guess from each of many addresses.
    for host in range(1, 21):
        api_login("alice", "guess", address=f"192.0.2.{host}")
    # A stranger at a new address, without proof, is refused even with the right password...
    refused = api_login("alice", PASSWORD, address="198.51.100.99")
    assert refused.status_code == 429
    # ...but the owner is not: from the address they signed in from before (127.0.0.1),
    assert api_login("alice", PASSWORD).status_code == 200
    # and in their browser from a new address (a phone on another network).
    response = client.post(
        WEB_LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.99"
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.pk)


@override_settings(LOGIN_USERNAME_LIMIT=2)
def test_a_forged_or_foreign_device_cookie_proves_nothing(patient, other_patient):
    bob_browser = Client()
    assert bob_browser.post(WEB_LOGIN, {"username": "bob", "password": PASSWORD}).status_code == 302
    bob_browser.post("/accounts/logout/")
    for host in range(1, 4):
        api_login("alice", "guess", address=f"192.0.2.{host}")
    # Bob's device cookie is for bob, not alice.
    response = bob_browser.post(
        WEB_LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.5"
    )
    assert response.status_code == 429
    forged = Client()
    forged.cookies[throttling.DEVICE_COOKIE] = throttling._username_tag("alice")  # unsigned
    response = forged.post(
        WEB_LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.5"
    )
    assert response.status_code == 429


@override_settings(LOGIN_ADDRESS_LIMIT=3, LOGIN_USERNAME_LIMIT=3)
def test_successful_sign_ins_give_their_attempt_back(db):
    # A clinic: many people signing in for the first time behind one address.
    for index in range(6):
        make_user(f"nurse{index}")
        assert api_login(f"nurse{index}", PASSWORD, address="203.0.113.5").status_code == 200
    # Failures are not given back: they alone spend the address's budget...
    for index in range(3):
        assert api_login(f"ghost{index}", "guess", address="203.0.113.5").status_code == 400
    make_user("newcomer")
    assert api_login("newcomer", PASSWORD, address="203.0.113.5").status_code == 429
    # ...which people who signed in from there before do not need.
    assert api_login("nurse5", PASSWORD, address="203.0.113.5").status_code == 200


@override_settings(LOGIN_ADDRESS_LIMIT=2)
def test_a_registered_address_counts_as_known(api_client, patient):
    response = api_client.post(
        REGISTER,
        {"username": "dora", "email": "dora@example.com", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="203.0.113.8",
    )
    assert response.status_code == 201
    for _ in range(3):
        api_login("alice", "guess", address="203.0.113.8")
    assert api_login("alice", PASSWORD, address="203.0.113.8").status_code == 429
    assert api_login("dora", PASSWORD, address="203.0.113.8").status_code == 200


def test_ipv6_addresses_share_their_64(db, settings):
    settings.LOGIN_ADDRESS_LIMIT = 2
    make_user("erin")
    api_login("erin", "bad", address="2001:db8:1:2::1")
    api_login("erin", "bad", address="2001:db8:1:2::ffff")
    assert api_login("erin", "bad", address="2001:db8:1:2:abcd::9").status_code == 429
    assert api_login("erin", "bad", address="2001:db8:1:3::1").status_code == 400


# --- The 429 answers ---------------------------------------------------------------------------


@override_settings(LOGIN_FAILURE_LIMIT=1)
def test_api_answers_429_with_retry_after_and_an_error(patient):
    api_login("alice", "bad")
    response = api_login("alice", "bad")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 900
    assert response.json() == {"error": throttling.too_many_message(int(response["Retry-After"]))}


@override_settings(LOGIN_FAILURE_LIMIT=1)
def test_web_sign_in_answers_429_with_the_error_in_the_form(client, patient):
    client.post(WEB_LOGIN, {"username": "alice", "password": "bad"})
    response = client.post(WEB_LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 900
    form = response.context["form"]
    assert form.non_field_errors() == [throttling.too_many_message(int(response["Retry-After"]))]
    assert b"Too many attempts" in response.content
    assert b'name="username"' in response.content  # the form is shown again
    assert "_auth_user_id" not in client.session


# --- Atomic counting ---------------------------------------------------------------------------


def test_parallel_attempts_reserve_at_most_the_limit():
    limiter = throttling.AttemptLimiter("race", limit=10, window=60)
    start = threading.Barrier(40)
    results: list[int | None] = []

    def attempt() -> None:
        start.wait()
        results.append(limiter.hit("key"))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 10
    assert limiter.retry_after("key") is not None


def test_the_public_limiter_methods_keep_working():
    limiter = throttling.AttemptLimiter("reset-requests", limit=2, window=60)
    assert limiter.retry_after("a@example.com") is None
    limiter.record("a@example.com")
    assert limiter.retry_after("a@example.com") is None
    limiter.record("a@example.com")
    assert 0 < limiter.retry_after("a@example.com") <= 60
    assert limiter.retry_after("b@example.com") is None
    limiter.reset("a@example.com")
    assert limiter.retry_after("a@example.com") is None


def test_a_counter_that_lost_its_expiry_starts_afresh():
    limiter = throttling.AttemptLimiter("stale", limit=1, window=60)
    # What Django's Redis incr leaves when the key expires between its EXISTS and INCRBY.
    cache.set(limiter._cache_key("k"), 5, timeout=None)
    assert limiter.retry_after("k") is None
    assert limiter.hit("k") is None
    assert limiter.hit("k") is not None
    expired = (int(time.time()) - 1) * throttling._SCALE + 99
    cache.set(limiter._cache_key("k"), expired, timeout=None)
    assert limiter.hit("k") is None


# --- Finding 6: the client address -------------------------------------------------------------


def address_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return throttling.client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address_of("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_a_trusted_proxy_gives_the_right_most_untrusted_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.1"]
    assert address_of("10.0.0.5", "198.51.100.1") == "198.51.100.1"
    # Left of the first untrusted hop is whatever the client wrote: ignored.
    assert address_of("10.0.0.5", "1.1.1.1, 198.51.100.1, 192.168.1.1") == "198.51.100.1"
    assert address_of("10.0.0.5", "[2001:db8::7]:4711") == "2001:db8::7"
    assert address_of("10.0.0.5", "198.51.100.1:4711") == "198.51.100.1"
    # Garbage or nothing: the last address a trusted hop vouched for.
    assert address_of("10.0.0.5", "not-an-ip, 10.0.0.9") == "10.0.0.9"
    assert address_of("10.0.0.5", "") == "10.0.0.5"
    assert address_of("10.0.0.5") == "10.0.0.5"
    assert address_of("::ffff:10.0.0.5", "198.51.100.1") == "198.51.100.1"


@override_settings(REGISTRATION_LIMIT=2, TRUSTED_PROXIES=[])
def test_a_forged_forwarded_for_does_not_escape_the_registration_limit(api_client):
    answers = [
        api_client.post(
            REGISTER,
            {"username": f"r{n}", "email": f"r{n}@example.com", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="203.0.113.20",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(4)
    ]
    assert answers == [201, 201, 429, 429]


@override_settings(REGISTRATION_LIMIT=1, TRUSTED_PROXIES=["10.0.0.1"])
def test_clients_behind_a_trusted_proxy_have_their_own_limits(api_client):
    def register(n: int, client_ip: str) -> int:
        return api_client.post(
            REGISTER,
            {"username": f"p{n}", "email": f"p{n}@example.com", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=client_ip,
        ).status_code

    assert register(1, "198.51.100.1") == 201
    assert register(2, "198.51.100.2") == 201
    assert register(3, "198.51.100.1") == 429


@override_settings(LOGIN_FAILURE_LIMIT=2, TRUSTED_PROXIES=["10.0.0.1"])
def test_sign_in_limits_use_the_same_address(patient):
    def login(client_ip: str, password: str = "bad") -> int:
        return (
            APIClient()
            .post(
                LOGIN,
                {"username": "alice", "password": password},
                format="json",
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=client_ip,
            )
            .status_code
        )

    assert [login("198.51.100.1") for _ in range(3)] == [400, 400, 429]
    assert login("198.51.100.2", PASSWORD) == 200


def test_daphne_is_not_told_to_trust_forwarded_headers():
    # Django decides (TRUSTED_PROXIES); --proxy-headers would make any X-Forwarded-For the peer.
    assert "--proxy-headers" not in (ROOT / "Dockerfile").read_text()
    assert "proxy-headers" not in (ROOT / "compose.yml").read_text()


@override_settings(REGISTRATION_LIMIT=1)
def test_web_registration_answers_429_with_retry_after(db):
    def register(name: str):
        return Client().post(
            "/accounts/register/",
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            REMOTE_ADDR="203.0.113.30",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{len(name)}",
        )

    first = register("fern")
    assert first.status_code == 302
    assert throttling.DEVICE_COOKIE in first.cookies
    second = register("gregor")
    assert second.status_code == 429
    assert 0 < int(second["Retry-After"]) <= 3600
    assert b"Too many attempts" in second.content
    assert not User.objects.filter(username="gregor").exists()
