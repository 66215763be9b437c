"""core/handlers.py: one reused worker thread per request, and the API's shorter chain."""

from __future__ import annotations

import gzip
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import HttpCommunicator
from django.core.signals import request_finished, request_started
from django.db import connections

from accounts import services
from core.handlers import PainmapASGIHandler, PathChains, WorkerThreads

# Generous: a loaded CI machine, never a race with anything.
TIMEOUT = 60


@pytest.fixture
def handler(settings):
    settings.HTTP_WORKER_THREADS = 1
    made = PainmapASGIHandler()
    yield made
    made.workers.close()


async def fetch(app, path: str, headers: list[tuple[bytes, bytes]] | None = None):
    headers = [(b"host", b"testserver"), *(headers or [])]
    communicator = HttpCommunicator(app, "GET", path, headers=headers)
    response = await communicator.get_response(timeout=TIMEOUT)
    await communicator.wait(timeout=TIMEOUT)  # the handler's end: response.close() and all
    return response


def header(response: dict, name: str) -> str | None:
    for key, value in response["headers"]:
        if key.decode().lower() == name.lower():
            return value.decode()
    return None


def test_api_paths_take_the_api_chain_and_pages_the_full_one(settings):
    chains = PathChains(
        settings.MIDDLEWARE, settings.API_MIDDLEWARE, "/api/", tuple(settings.API_HTML_PATHS)
    )
    assert chains.for_path("/api/diary/stats/") is chains.api
    assert chains.for_path("/api/auth/login/") is chains.api
    assert chains.for_path("/api/docs/") is chains.pages  # HTML, with its CSP override
    assert chains.for_path("/diary/") is chains.pages
    assert chains.for_path("/apiary/") is chains.pages
    session = "django.contrib.sessions.middleware.SessionMiddleware"
    assert session in chains.pages.middleware
    assert session not in chains.api.middleware


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_api_answer_keeps_its_headers_without_session_or_csrf(handler, patient):
    from asgiref.sync import sync_to_async

    token = await sync_to_async(services.issue_token)(user=patient)
    response = await fetch(
        handler, "/api/diary/bodyparts/", [(b"authorization", f"Token {token.key}".encode())]
    )
    assert response["status"] == 200
    assert b'"name":"head"' in response["body"]
    assert header(response, "X-Content-Type-Options") == "nosniff"
    assert header(response, "Cache-Control") == "no-store, private"
    assert header(response, "Set-Cookie") is None
    assert header(response, "Content-Encoding") is None  # JSON is not compressed


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_api_chain_still_refuses_nul_and_unknown_tokens(handler):
    nul = await fetch(handler, "/api/diary/bodyparts%00/")
    assert nul["status"] == 400
    assert b"NUL" in nul["body"]
    unknown = await fetch(
        handler, "/api/diary/bodyparts/", [(b"authorization", b"Token " + b"0" * 40)]
    )
    assert unknown["status"] == 401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_gets_the_full_chain_compressed(handler):
    response = await fetch(handler, "/accounts/login/", [(b"accept-encoding", b"gzip")])
    assert response["status"] == 200
    assert header(response, "Content-Encoding") == "gzip"
    assert "csrftoken" in (header(response, "Set-Cookie") or "")
    assert header(response, "Content-Security-Policy")
    assert header(response, "X-Frame-Options") == "DENY"
    assert b"<form" in gzip.decompress(response["body"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_requests_reuse_one_worker_thread_and_its_connection(handler):
    seen: list[tuple[str, int]] = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        for _ in range(3):
            assert (await fetch(handler, "/accounts/login/"))["status"] == 200
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    threads = {ident for _, ident in seen}
    assert len(seen) == 6
    assert len(threads) == 1
    assert threads != {threading.get_ident()}  # not the event loop's thread


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_worker_keeps_its_sqlite_connection_between_requests(handler):
    if connections["default"].vendor != "sqlite":
        pytest.skip("PostgreSQL connections go back to the pool after each request")
    executor = await handler.workers.acquire()
    handler.workers.release(executor)

    def current() -> object:
        return connections["default"].connection

    await fetch(handler, "/accounts/login/")  # the login page loads no session: connect
    await fetch(handler, "/api/diary/bodyparts/", [(b"authorization", b"Token abc")])
    first = executor.submit(current).result()
    await fetch(handler, "/api/diary/bodyparts/", [(b"authorization", b"Token abc")])
    assert first is not None
    assert executor.submit(current).result() is first


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_worker_threads_are_lent_one_request_at_a_time():
    workers = WorkerThreads(2)
    first = await workers.acquire()
    second = await workers.acquire()
    assert first is not second
    workers.release(second)
    assert await workers.acquire() is second  # the most recently used first
    workers.release(first)
    workers.release(second)
    workers.close()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_streaming_answer_is_sent_whole_then_closed(handler):
    finished: list[int] = []

    def on_finished(**kwargs):
        finished.append(threading.get_ident())

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/static/css/painmap.css",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    communicator = ApplicationCommunicator(handler, scope)
    request_finished.connect(on_finished)
    try:
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(TIMEOUT)
        body = b""
        while True:  # a streamed body ends with a message without more_body
            message = await communicator.receive_output(TIMEOUT)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(TIMEOUT)
    finally:
        request_finished.disconnect(on_finished)
    assert start["status"] == 200
    assert b"{" in body  # the stylesheet, streamed by WhiteNoise
    assert len(finished) == 1  # closed once, after sending
