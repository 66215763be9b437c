"""core/parsers.py (and core/api.py for bodies over the upload limit): every JSON body the API
cannot take is a 400 {"error"}, on every route, signed in or not (issue #10, finding 3: a deeply
nested body to /api/auth/login/ was a 500)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import issue_token
from conftest import PASSWORD

# (method, path, needs a token)
ROUTES = [
    ("post", "/api/auth/login/", False),
    ("post", "/api/auth/register/", False),
    ("post", "/api/auth/links/", True),
    ("patch", "/api/auth/links/", True),
    ("post", "/api/diary/notes/", True),
    ("patch", "/api/diary/notes/", True),
    ("post", "/api/diary/stats/", True),
    ("delete", "/api/diary/stats/", True),
    ("post", "/api/chat/conversations/", True),
]

DEEP = b"[" * 20_000 + b"]" * 20_000  # 40 KB; a RecursionError inside json before
BAD_BODIES = {
    "nested too deep": DEEP,
    "nested objects too deep": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "just over the depth limit": b"[" * 65 + b"]" * 65,
    "not utf-8": b'{"username": "\xff\xfe"}',
    "invalid": b'{"username": ',
    "not json at all": b"\x00\x01\x02",
    "NaN": b'{"username": NaN}',
}


def send(client: Client, method: str, path: str, body: bytes, **extra) -> object:
    return getattr(client, method)(path, data=body, content_type="application/json", **extra)


@pytest.fixture
def auth(patient) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {issue_token(user=patient).key}"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize(("method", "path", "signed_in"), ROUTES)
def test_a_body_the_parser_cannot_take_is_a_400(kind, method, path, signed_in, auth):
    client = Client(raise_request_exception=False)
    response = send(client, method, path, BAD_BODIES[kind], **(auth if signed_in else {}))
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"].startswith("JSON parse error")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "signed_in"), ROUTES)
def test_a_body_over_the_upload_limit_is_a_400(method, path, signed_in, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(raise_request_exception=False)
    body = b'{"username": "' + b"a" * 2000 + b'"}'
    response = send(client, method, path, body, **(auth if signed_in else {}))
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is too large."}


@pytest.mark.django_db
def test_the_deep_body_is_refused_before_it_counts_as_a_sign_in_attempt(patient):
    client = Client(raise_request_exception=False)
    for _ in range(3):
        assert send(client, "post", "/api/auth/login/", DEEP).status_code == 400
    ok = client.post(
        "/api/auth/login/",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert "token" in ok.json()


@pytest.mark.django_db
def test_ordinary_bodies_still_parse(db):
    client = Client()
    body = b'{"username": "zoe", "email": "zoe@example.com", "password": "' + PASSWORD.encode()
    response = send(client, "post", "/api/auth/register/", body + b'"}')
    assert response.status_code == 201, response.content
    assert User.objects.filter(username="zoe").exists()
    # Nested a little (a list in an object) is fine; brackets inside strings do not count.
    nested = b'{"username": "[[[[[[[[[[' + b"[" * 100 + b'", "x": [[1, [2]], {"y": [3]}]}'
    response = send(client, "post", "/api/auth/login/", nested)
    assert response.status_code in (400, 401)
    assert not response.json().get("error", "").startswith("JSON parse error")
