"""One token resolution for DRF and the sockets: one query, then cached (keyed by a hash of
the token) until the token or its user changes, with the expiry still checked on every use."""

from __future__ import annotations

import gc
import pickle
import time
import weakref
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.authentication_cache import (
    REVOKED,
    Entry,
    _remember,
    cache_key,
    forget_token,
    resolve_token,
)
from accounts.models import TokenUse
from conftest import PASSWORD, token_client

pytestmark = pytest.mark.django_db

PROFILE = "/api/auth/profile/"


@pytest.fixture
def key(patient) -> str:
    return services.issue_token(user=patient).key


def queries(func, *args):
    with CaptureQueriesContext(connection) as captured:
        result = func(*args)
    return result, [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


def cached(key: str):
    return cache.get(cache_key(key))


def test_one_query_with_user_and_roles_then_none(key, patient):
    (user, token), first = queries(resolve_token, key)
    assert len(first) == 1
    assert "authtoken_token" in first[0]
    assert "auth_group" in first[0]
    assert user.pk == patient.pk
    assert token.key == key
    (again, _), second = queries(resolve_token, key)
    assert second == []
    assert again.pk == patient.pk
    assert again.is_patient
    assert not again.is_doctor


@pytest.mark.parametrize("warm", [False, True], ids=["from the database", "from the cache"])
def test_the_resolved_user_and_token_are_freed_without_the_cyclic_gc(key, patient, warm):
    if warm:
        resolve_token(key)
    user, token = resolve_token(key)
    assert token.user is user  # no query: DRF's request.auth knows its user
    assert user.group_names  # the role came along
    gone = weakref.ref(user)
    gc.disable()
    try:
        del user, token
        assert gone() is None  # no cycle kept it alive
    finally:
        gc.enable()


def test_an_api_request_pays_no_token_query_once_cached(key):
    client = token_client_for(key)
    assert client.get(PROFILE).status_code == 200
    response, sql = queries(client.get, PROFILE)
    assert response.status_code == 200
    assert not [s for s in sql if "authtoken_token" in s]


def token_client_for(key: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_cache_key_and_entry_never_hold_the_token_or_the_password(key):
    resolve_token(key)
    entry = cached(key)
    assert isinstance(entry, Entry)
    assert key not in cache_key(key)
    assert key[:8] not in cache_key(key)
    assert key.encode() not in pickle.dumps(entry)
    assert "password" not in entry.user.__dict__  # deferred: loaded only if asked for
    for stored in all_cache_keys():
        assert key not in stored
        assert key[:8] not in stored


def all_cache_keys() -> list[str]:
    """Every key the configured cache holds (the locmem dict, or Redis's keyspace)."""
    backend = cache._cache
    if isinstance(backend, dict):
        return list(backend)
    return [k.decode() for k in backend.get_client().keys("*")]


def test_revoked_in_this_process_is_refused_at_once(key, patient):
    client = token_client_for(key)
    assert client.get(PROFILE).status_code == 200
    services.sign_out(user=patient)
    assert client.get(PROFILE).status_code == 401
    assert resolve_token(key) is None


def test_revoked_by_another_process_is_refused_at_once(key):
    """Another process deletes the row and tombstones the shared cache entry (what its
    services do); this process's next request is refused, not served from the cache."""
    client = token_client_for(key)
    assert client.get(PROFILE).status_code == 200
    with connection.cursor() as cursor:  # no signal here: the other process sent it
        cursor.execute("DELETE FROM accounts_tokenuse WHERE token_id = %s", [key])
        cursor.execute("DELETE FROM authtoken_token WHERE key = %s", [key])
    forget_token(key)
    assert client.get(PROFILE).status_code == 401


def test_a_token_deleted_any_way_is_forgotten(key):
    """The admin, a cascade: whatever deletes the row, the signal forgets the entry."""
    resolve_token(key)
    Token.objects.filter(key=key).delete()
    assert cached(key) == REVOKED
    assert resolve_token(key) is None


def test_a_reader_that_read_before_the_revoke_cannot_put_it_back(key, patient):
    user, token = resolve_token(key)
    forget_token(key)
    # A request that read the row just before the revoke now tries to cache what it read.
    _remember(
        key, Entry(user=user, created=token.created, last_used=timezone.now()), timezone.now()
    )
    assert cached(key) == REVOKED
    services.revoke_token(user=patient)
    assert resolve_token(key) is None


@pytest.mark.parametrize(
    "end",
    [
        lambda user: services.end_credentials(user=user, reason="signed-out-everywhere"),
        lambda user: services.change_password(user=user, new_password="a-new-long-pass-42"),
        lambda user: services.deactivate_user(user=user),
    ],
    ids=["sign-out-everywhere", "password-change", "deactivation"],
)
def test_every_end_of_the_credentials_refuses_the_cached_token(key, patient, end):
    client = token_client_for(key)
    assert client.get(PROFILE).status_code == 200
    end(patient)
    assert client.get(PROFILE).status_code == 401


def test_a_user_deactivated_in_the_admin_is_refused(key, patient):
    """A save that bypasses the services (the admin's form) still forgets the entry."""
    client = token_client_for(key)
    assert client.get(PROFILE).status_code == 200
    patient.is_active = False
    patient.save()
    response = client.get(PROFILE)
    assert response.status_code == 401


def test_a_role_change_is_seen_at_once(key, patient):
    assert resolve_token(key)[0].is_patient
    services.set_role(users=[patient], role="doctor")
    user = resolve_token(key)[0]
    assert user.is_doctor
    assert not user.is_patient


def test_expiry_is_checked_on_every_use_of_a_cached_token(key, settings):
    TokenUse.objects.filter(token_id=key).update(last_used=timezone.now() - timedelta(minutes=30))
    forget_token(key)
    cache.delete(cache_key(key))  # a fresh start: the row as it is now
    assert resolve_token(key) is not None
    assert isinstance(cached(key), Entry)
    settings.TOKEN_IDLE_DAYS = 0  # its 30 minutes unused are now past the limit
    assert resolve_token(key) is None
    assert not Token.objects.filter(key=key).exists()


def test_an_entry_never_outlives_the_cache_seconds_or_the_use_resolution(key, settings):
    settings.TOKEN_CACHE_SECONDS = 30
    resolve_token(key)
    assert 0 < seconds_left(cache_key(key)) <= 30


def seconds_left(name: str) -> float:
    """How long the configured cache keeps `name` (locmem's expiry table, or Redis's TTL)."""
    stored = cache.make_and_validate_key(name)
    if isinstance(cache._cache, dict):
        return cache._expire_info[stored] - time.time()
    return cache._cache.get_client(stored).ttl(stored)


def test_no_cache_when_switched_off(key, settings):
    settings.TOKEN_CACHE_SECONDS = 0
    resolve_token(key)
    assert cached(key) is None
    assert len(queries(resolve_token, key)[1]) == 1


def test_sign_in_issues_a_token_that_works_at_once(api_client, patient):
    response = api_client.post("/api/auth/login/", {"username": "alice", "password": PASSWORD})
    token = response.json()["token"]
    assert token_client_for(token).get(PROFILE).status_code == 200
    assert token_client(patient).get(PROFILE).status_code == 200
