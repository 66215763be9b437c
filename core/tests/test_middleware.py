"""NUL characters never make a 500 (PostgreSQL cannot compare text holding one).

In an address: a 400 before any view (core.middleware). In a query parameter a view uses:
"not found" or cleaned. In one it does not know: ignored, as any extra parameter is.
"""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user, token_client
from messaging.models import Message
from messaging.tests.conftest import link

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(patient):
    linked = make_user("drwho", role="doctor")
    link(patient, linked)
    return linked


@pytest.fixture
def doctor_browser(doctor) -> Client:
    client = Client()
    client.force_login(doctor)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/chat/dr%00who/",
        "/diary/patients/al%00ice/",
        "/diary/patients/al%00ice/digest/",
        "/accounts/doctors/dr%00who/request/",
    ],
)
def test_pages_with_nul_in_the_address_answer_400(doctor_browser, path):
    response = doctor_browser.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/chat/conversations/al%00ice/"),
        ("delete", "/api/chat/conversations/delete/al%00ice/"),
    ],
)
def test_api_with_nul_in_the_address_answers_400(patient, doctor, method, path):
    Message.objects.create(sender=patient, receiver=doctor, text="kept")
    response = getattr(token_client(doctor), method)(path)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize("path", ["/api/diary/stats/", "/api/diary/notes/", "/api/diary/digest/"])
def test_a_patient_named_with_nul_is_not_found(patient, doctor, path):
    client = token_client(doctor)
    assert client.get(path, {"patient": "alice"}).status_code == 200
    response = client.get(path, {"patient": "alice\x00"})
    assert response.status_code == 404
    assert "error" in response.json()


def test_an_export_for_a_patient_named_with_nul_is_not_found(patient, doctor_browser):
    response = doctor_browser.get("/diary/export/", {"patient": "al\x00ice", "format": "csv"})
    assert response.status_code == 404


def test_doctor_search_ignores_nul(patient, doctor):
    client = Client()
    client.force_login(patient)
    response = client.get("/accounts/doctors/", {"q": "dr\x00"})
    assert response.status_code == 200
    assert "drwho" in response.content.decode()


def test_unknown_parameters_with_nul_are_ignored(patient, doctor):
    response = token_client(patient).get("/api/diary/stats/?x%00=1&y=%00")
    assert response.status_code == 200


def test_starting_a_conversation_with_nul_in_the_body(patient, doctor):
    client = token_client(patient)
    url = "/api/chat/conversations/"
    response = client.post(url, {"peer_username": "dr\x00who"}, format="json")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    # The same request without the NUL still works, and nothing was sent either way.
    assert client.post(url, {"peer_username": "drwho"}, format="json").status_code == 200
    assert not Message.objects.exists()


def test_a_session_cookie_with_nul_is_no_session(patient):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/diary/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("query", ["q=al%00", "is_active__exact=%00", "o%00=1"])
def test_admin_searches_and_filters_with_nul_answer_400(admin_client, patient, query):
    assert admin_client.get("/admin/accounts/user/?q=al").status_code == 200
    response = admin_client.get(f"/admin/accounts/user/?{query}")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
