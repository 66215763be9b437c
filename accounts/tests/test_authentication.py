"""API tokens expire after TOKEN_IDLE_DAYS unused; their use is written at most once an hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.authentication_cache import forget_token
from accounts.models import TokenUse
from conftest import PASSWORD

LOGIN = "/api/auth/login/"
PROFILE = "/api/auth/profile/"


def sign_in(api_client) -> str:
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    return response.json()["token"]


def last_used(key: str, *, ago: timedelta) -> None:
    """As if the token was last used `ago`: days pass, so the cached answer (kept for
    TOKEN_CACHE_SECONDS) is long gone too."""
    TokenUse.objects.filter(token_id=key).update(last_used=timezone.now() - ago)
    forget_token(key)


def test_sign_in_returns_the_same_token_until_it_idles_out(api_client, patient, settings):
    settings.TOKEN_IDLE_DAYS = 14
    first = sign_in(api_client)
    last_used(first, ago=timedelta(days=13, hours=23))
    assert sign_in(api_client) == first
    last_used(first, ago=timedelta(days=14, minutes=1))
    second = sign_in(api_client)
    assert second != first
    assert not Token.objects.filter(key=first).exists()


def test_an_idle_token_is_a_401_like_any_other_and_is_deleted(api_client, patient, settings):
    settings.TOKEN_IDLE_DAYS = 3
    key = sign_in(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    # In use, it does not expire: each use (noted at most hourly) restarts the idle time.
    last_used(key, ago=timedelta(days=2))
    assert api_client.get(PROFILE).status_code == 200
    last_used(key, ago=timedelta(days=2))
    assert api_client.get(PROFILE).status_code == 200
    last_used(key, ago=timedelta(days=3, seconds=1))
    response = api_client.get(PROFILE)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token."}
    assert not Token.objects.filter(key=key).exists()
    assert sign_in(api_client) != key


def test_the_use_is_written_at_most_once_an_hour(api_client, patient):
    key = sign_in(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    last_used(key, ago=timedelta(minutes=59))
    stamp = TokenUse.objects.get(token_id=key).last_used
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(PROFILE).status_code == 200
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert TokenUse.objects.get(token_id=key).last_used == stamp
    last_used(key, ago=timedelta(minutes=61))
    assert api_client.get(PROFILE).status_code == 200
    assert timezone.now() - TokenUse.objects.get(token_id=key).last_used < timedelta(minutes=1)


def test_a_token_without_a_use_row_counts_from_its_creation(api_client, patient, settings):
    settings.TOKEN_IDLE_DAYS = 3
    fresh = Token.objects.create(user=patient)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {fresh.key}")
    assert api_client.get(PROFILE).status_code == 200
    assert TokenUse.objects.filter(token=fresh).exists() is False  # created just now: no write
    Token.objects.filter(pk=fresh.pk).update(created=timezone.now() - timedelta(days=4))
    forget_token(fresh.key)  # four days later: the cached answer is long gone
    assert api_client.get(PROFILE).status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_with_an_idle_token_is_refused(patient, settings):
    from channels.db import database_sync_to_async

    from config.asgi import application

    settings.TOKEN_IDLE_DAYS = 3
    key = (await database_sync_to_async(services.issue_token)(user=patient)).key
    await database_sync_to_async(last_used)(key, ago=timedelta(days=3, minutes=1))
    communicator = WebsocketCommunicator(
        application, f"/ws/inbox/?token={key}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    assert connected is False
    assert not await database_sync_to_async(Token.objects.filter(key=key).exists)()
