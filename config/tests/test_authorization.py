"""The authorization matrix: every route that reads or reaches a patient x every kind of caller.

One parametrized test; loosening any access rule (accounts.access) turns a cell red.
"""

from __future__ import annotations

import pytest
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
]


@pytest.fixture
def cast(db) -> dict[str, User | None]:
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


def client_for(user: User | None, kind: str) -> Client | APIClient:
    if kind == "api":
        return token_client(user) if user else APIClient()
    client = Client()
    if user:
        client.force_login(user)
    return client


@pytest.mark.parametrize(("route", "kind", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_authorization_matrix(cast, route, kind, expected):
    got = tuple(client_for(cast[role], kind).get(route).status_code for role in ROLES)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))
