"""Web sessions end after SESSION_IDLE_MINUTES without a request, with a message."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.middleware import LAST_ACTIVITY
from conftest import PASSWORD


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    assert client.get("/accounts/profile/").status_code == 200  # the first stamp
    return client


def stamp(client: Client, *, ago: int) -> None:
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - ago
    session.save()


def test_an_idle_session_is_signed_out_with_a_message(patient, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client = signed_in(patient)
    stamp(client, ago=30 * 60 + 5)
    response = client.get("/diary/", follow=True)
    assert response.redirect_chain[0] == ("/accounts/login/?next=%2Fdiary%2F", 302)
    assert "without activity" in response.content.decode()
    assert "30 minutes" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302  # the session is gone


def test_an_idle_session_is_signed_out_for_htmx_with_a_redirect_header(patient, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client = signed_in(patient)
    stamp(client, ago=5 * 60 + 5)
    response = client.get("/accounts/profile/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_a_session_in_use_stays_signed_in(patient, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client = signed_in(patient)
    stamp(client, ago=29 * 60)
    assert client.get("/accounts/profile/").status_code == 200  # refreshes the stamp
    stamp_now = client.session[LAST_ACTIVITY]
    assert int(time.time()) - stamp_now < 5


def test_the_stamp_is_written_at_most_once_a_minute(patient):
    client = signed_in(patient)
    stamp(client, ago=50)
    before = client.session[LAST_ACTIVITY]
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/profile/").status_code == 200
    session_table = Session._meta.db_table
    writes = [
        q
        for q in queries
        if session_table in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []
    assert client.session[LAST_ACTIVITY] == before
    stamp(client, ago=61)
    client.get("/accounts/profile/")
    assert client.session[LAST_ACTIVITY] > before


def test_api_routes_are_not_affected(patient, settings):
    settings.SESSION_IDLE_MINUTES = 1
    client = signed_in(patient)
    stamp(client, ago=3600)
    assert client.get("/api/auth/profile/").status_code == 401  # as before: tokens only
    assert client.get("/accounts/profile/").status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_of_an_idle_session_is_refused(patient, settings):
    from config.asgi import application

    settings.SESSION_IDLE_MINUTES = 30
    client = await database_sync_to_async(signed_in)(patient)
    await database_sync_to_async(stamp)(client, ago=31 * 60)
    communicator = WebsocketCommunicator(
        application,
        "/ws/inbox/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected is False
