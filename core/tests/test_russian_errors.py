"""The API's and the fault pages' human texts follow the request's language; keys never do."""

from __future__ import annotations

import pytest
from django.test import Client

from core.tests.test_faults import FailingQueries, signed_in, token_api  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9"}
UNAVAILABLE_RU = "База данных сейчас недоступна. Попробуйте ещё раз через несколько секунд."


def test_an_api_503_in_russian(token_api, monkeypatch):  # noqa: F811
    FailingQueries(monkeypatch, times=10, match="authtoken_token")
    response = token_api.get("/api/auth/profile/", **RU)
    assert response.status_code == 503
    assert response.json() == {"error": UNAVAILABLE_RU}
    english = token_api.get("/api/auth/profile/")
    assert english.json()["error"].startswith("The database is unavailable")


def test_a_post_503_in_russian_before_any_language_middleware(patient, monkeypatch):
    FailingQueries(monkeypatch, times=1, match="accounts_user")
    response = Client(raise_request_exception=False).post(
        "/api/auth/login/", {"username": "alice", "password": "x"}, "application/json", **RU
    )
    assert response.status_code == 503
    assert response.json() == {"error": UNAVAILABLE_RU}


def test_a_body_too_large_in_russian(token_api, settings):  # noqa: F811
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = token_api.post(
        "/api/chat/conversations/",
        '{"peer_username": "someone-long"}',
        content_type="application/json",
        **RU,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Тело запроса слишком большое."}


def test_admin_nul_error_in_russian(client):
    response = client.get("/admin/?q=a%00b", **RU)
    assert response.status_code == 400
    assert response.content.decode() == "Поиск и фильтры не могут содержать символы NUL."


def test_a_strict_field_refuses_in_russian_with_english_keys(token_api):  # noqa: F811
    response = token_api.post(
        "/api/diary/medications/", {"name": 5}, content_type="application/json", **RU
    )
    assert response.status_code == 400
    assert response.json()["name"] == ["Ожидается строка."]
