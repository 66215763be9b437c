"""Nothing personal is kept by a browser or proxy cache (issue #10, finding 8: Cache-Control)."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import token_client

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.mark.parametrize(
    "path",
    ["/diary/", "/diary/notes/", "/chat/", "/accounts/profile/", "/accounts/access-log/"],
)
def test_pages_of_a_signed_in_user_are_not_stored(client, patient, path):
    client.force_login(patient)
    response = client.get(path)
    assert response.status_code == 200
    assert _no_store(response)


def test_the_home_page_of_a_user_without_a_role_is_not_stored(client, patient):
    # "/" redirects patients and doctors; only a user in neither group gets a page there.
    patient.groups.clear()
    client.force_login(patient)
    response = client.get("/")
    assert response.status_code == 200
    assert _no_store(response)


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/register/"])
def test_pages_for_anyone_are_not_stored_either(path):
    # Their forms carry a CSRF token tied to the visitor's cookie.
    response = Client().get(path)
    assert response.status_code == 200
    assert _no_store(response)


def test_api_answers_and_errors_are_not_stored(patient):
    client = token_client(patient)
    for response in (
        client.get("/api/auth/profile/"),
        client.get("/api/diary/stats/"),
        client.get("/api/chat/conversations/"),
        Client().get("/api/auth/profile/"),  # a 401 too
    ):
        assert _no_store(response), response.status_code


def test_stats_list_still_answers_304_to_its_etag(patient):
    client = token_client(patient)
    first = client.get("/api/diary/stats/")
    etag = first["ETag"]
    again = client.get("/api/diary/stats/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert _no_store(again)


def test_static_files_and_health_check_stay_cacheable(client):
    static = client.get("/static/css/painmap.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    assert "max-age" in static["Cache-Control"]
    assert "no-store" not in client.get("/healthz").get("Cache-Control", "")
    assert "no-store" not in client.get("/api/schema/").get("Cache-Control", "")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_async_stack_marks_answers_too(async_client):
    # Under Daphne the middleware runs in the async chain.
    response = await async_client.get("/accounts/login/")
    assert response.status_code == 200
    assert _no_store(response)
