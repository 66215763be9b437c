"""NUL characters in an address or query never reach a view (PostgreSQL would raise: a 500)."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user, token_client
from messaging.models import Message
from messaging.tests.conftest import link

pytestmark = pytest.mark.django_db

PAGES = [
    "/chat/dr%00who/",
    "/diary/patients/al%00ice/",
    "/diary/patients/al%00ice/digest/",
    "/accounts/doctors/dr%00who/request/",
    "/accounts/doctors/?q=dr%00",
    "/diary/?part=knee%00",
    "/diary/?x%00=1",
]
API = [
    "/api/chat/conversations/dr%00who/",
    "/api/diary/stats/?patient=al%00ice",
    "/api/diary/digest/?patient=al%00ice",
]


@pytest.fixture
def doctor(patient):
    linked = make_user("drwho", role="doctor")
    link(patient, linked)
    return linked


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_400(patient, doctor, path):
    client = Client()
    client.force_login(doctor)
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("path", API)
def test_api_answers_400_with_an_error(patient, doctor, path):
    response = token_client(doctor).get(path)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]


def test_starting_a_conversation_with_nul_in_the_body(patient, doctor):
    client = token_client(patient)
    response = client.post(
        "/api/chat/conversations/", {"peer_username": "dr\x00who"}, format="json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    # The same request without the NUL still works, and nothing was sent either way.
    assert (
        client.post(
            "/api/chat/conversations/", {"peer_username": "drwho"}, format="json"
        ).status_code
        == 200
    )
    assert not Message.objects.exists()
