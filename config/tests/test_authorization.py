"""The authorization matrix: every route that reads or reaches a patient x every kind of caller
(pages, API routes and the chat socket).

One parametrized test; loosening any access rule (accounts.access) turns a cell red.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts import services as accounts
from accounts.models import User
from conftest import PASSWORD, make_user, token_client
from diary import services as diary
from diary.models import BodyPart

ROLES = ("anonymous", "patient", "other_patient", "linked", "unlinked", "ex_linked", "admin")

# (route, kind, expected status per role in ROLES order). "page" routes use the session,
# "api" routes a token. 302 is the redirect to the sign-in page.
MATRIX = [
    ("/diary/patients/alice/", "page", (302, 404, 404, 200, 404, 404, 404)),
    ("/diary/patients/alice/digest/", "page", (302, 404, 404, 200, 404, 404, 404)),
    ("/diary/export/?format=csv&patient=alice", "page", (302, 200, 404, 200, 404, 404, 404)),
    ("/diary/patients/", "page", (302, 404, 404, 200, 200, 200, 404)),
    ("/api/diary/stats/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    ("/api/diary/notes/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    ("/api/diary/digest/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    ("/api/diary/export/?format=fhir&patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    # Clinical depth: the doctor's brief is the linked doctor's page only; the medication,
    # dose and check-in lists read like stats.
    ("/clinical/patients/alice/brief/", "page", (302, 404, 404, 200, 404, 404, 404)),
    ("/api/diary/medications/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    ("/api/diary/doses/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    ("/api/diary/checkins/?patient=alice", "api", (401, 200, 404, 200, 404, 404, 404)),
    # Chat: anyone may open the page (it says why sending is closed); starting a conversation and
    # the socket need an active link. 101 is an accepted WebSocket, 403 a refused one.
    ("/chat/alice/", "page", (302, 404, 200, 200, 200, 200, 200)),
    ("/api/chat/conversations/", "api-start", (401, 400, 403, 200, 403, 403, 403)),
    ("/ws/chat/alice/", "ws", (403, 403, 403, 101, 403, 403, 403)),
]


@pytest.fixture
def cast(db) -> dict[str, User | None]:
    if not BodyPart.objects.exists():  # a transactional test before this one flushed them
        call_command("loaddata", "bodyparts.json", verbosity=0)
    alice = make_user("alice")
    diary.record_pain(
        owner=alice, body_part=BodyPart.objects.get(pk=21), pain_type="burning", intensity=6
    )
    diary.create_note(owner=alice, title="shared", shared=True)
    linked, ex_linked = make_user("linked", "doctor"), make_user("exlinked", "doctor")
    for doctor in (linked, ex_linked):
        link = accounts.request_link(patient=alice, doctor=doctor)
        accounts.change_link(link=link, by=doctor, status="active")
    accounts.change_link(link=ex_linked.patient_links.get(), by=alice, status="ended")
    return {
        "anonymous": None,
        "patient": alice,
        "other_patient": make_user("bob"),
        "linked": linked,
        "unlinked": make_user("unlinked", "doctor"),
        "ex_linked": ex_linked,
        "admin": User.objects.create_superuser("root", "root@example.com", PASSWORD),
    }


async def websocket_status(user: User | None, path: str) -> int:
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    key = (await database_sync_to_async(accounts.issue_token)(user=user)).key if user else ""
    communicator = WebsocketCommunicator(
        application, f"{path}?token={key}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return 101 if connected else 403


def status_for(user: User | None, kind: str, route: str) -> int:
    if kind == "ws":
        return async_to_sync(websocket_status)(user, route)
    if kind == "api-start":
        client = token_client(user) if user else APIClient()
        return client.post(route, {"peer_username": "alice"}).status_code
    return client_for(user, kind).get(route).status_code


def client_for(user: User | None, kind: str) -> Client | APIClient:
    if kind == "api":
        return token_client(user) if user else APIClient()
    client = Client()
    if user:
        client.force_login(user)
    return client


# Transactional: the socket's consumer reads the database on its own terms (and closes the
# connection after), which a test wrapped in one transaction cannot survive.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("route", "kind", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_authorization_matrix(cast, route, kind, expected):
    got = tuple(status_for(cast[role], kind, route) for role in ROLES)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))
