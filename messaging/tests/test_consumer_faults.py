"""messaging/consumers.py under bad input and a failing database: a frame the server cannot take,
or a message the database could not store, gets an error frame; the socket stays open and the
next message goes through (issue #10, findings 3 and 7: both closed the socket with 1011)."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from conftest import SOCKET_TIMEOUT
from core.client_json import MAX_DEPTH
from messaging.consumers import FRAME_TOO_LARGE, STORE_FAILED
from messaging.tests.test_consumers import html_socket, json_socket, say, stored_texts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

FRAME_ERROR = {"error": 'Frames must be JSON: {"message": "..."}.'}

BAD_FRAMES = {
    "nested too deep": {"text_data": "[" * 20_000 + "]" * 20_000},
    "deep objects": {"text_data": '{"message": ' * 20_000 + '"x"' + "}" * 20_000},
    "just over the limit": {"text_data": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)},
    "not utf-8": {"bytes_data": b'{"message": "\xff\xfe"}'},
    "invalid": {"text_data": '{"message": '},
    "NaN": {"text_data": '{"message": NaN}'},
}


def fail_inserts(monkeypatch, times: int) -> list[str]:
    """The next `times` INSERTs of messages fail as a terminated backend fails them."""
    failed: list[str] = []
    real = CursorWrapper._execute

    def execute(wrapper, sql, params, *args):
        if sql.startswith('INSERT INTO "messaging_message"') and len(failed) < times:
            failed.append(sql)
            raise OperationalError("terminating connection due to administrator command")
        return real(wrapper, sql, params, *args)

    monkeypatch.setattr(CursorWrapper, "_execute", execute)
    return failed


@pytest.mark.parametrize("kind", BAD_FRAMES)
async def test_a_frame_the_server_cannot_parse_is_an_error_frame(patient, doctor, kind):
    socket = await json_socket(patient, "drwho")
    await socket.send_to(**BAD_FRAMES[kind])
    assert await socket.receive_json_from() == FRAME_ERROR
    await say(socket, "still here")  # the socket stayed open
    assert (await socket.receive_json_from())["message"] == "still here"
    assert await stored_texts() == ["still here"]
    await socket.disconnect()


@pytest.mark.parametrize("frame", [{"text_data": "x" * 2000}, {"bytes_data": b"x" * 2000}])
async def test_a_frame_over_the_upload_limit_is_an_error_frame(patient, doctor, settings, frame):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    socket = await json_socket(patient, "drwho")
    await socket.send_to(**frame)
    assert await socket.receive_json_from() == {"error": FRAME_TOO_LARGE}
    await say(socket, "small enough")
    assert (await socket.receive_json_from())["message"] == "small enough"
    await socket.disconnect()


async def test_a_deep_frame_on_the_browser_socket_is_an_error_fragment(patient, doctor):
    socket = await html_socket(patient, "drwho")
    await socket.send_to(text_data="[" * 20_000 + "]" * 20_000)
    fragment = await socket.receive_from()
    assert "Frames must be JSON" in fragment
    await say(socket, "still here")
    assert "still here" in await socket.receive_from()
    await socket.disconnect()


async def test_a_message_the_database_failed_once_is_stored_on_the_retry(
    patient, doctor, monkeypatch
):
    failed = fail_inserts(monkeypatch, times=1)
    socket = await json_socket(patient, "drwho")
    await say(socket, "despite a dropped connection")
    assert (await socket.receive_json_from())["message"] == "despite a dropped connection"
    assert len(failed) == 1
    assert await stored_texts() == ["despite a dropped connection"]
    await socket.disconnect()


async def test_a_message_the_database_cannot_store_is_an_error_frame(patient, doctor, monkeypatch):
    failed = fail_inserts(monkeypatch, times=2)  # the batch, then the message alone
    socket = await json_socket(patient, "drwho")
    await say(socket, "lost")
    assert await socket.receive_json_from() == {"error": STORE_FAILED}
    assert len(failed) == 2
    await say(socket, "the database is back")  # the socket stayed open
    assert (await socket.receive_json_from())["message"] == "the database is back"
    assert await stored_texts() == ["the database is back"]
    await socket.disconnect()


async def test_the_browser_socket_shows_the_store_error_inline(patient, doctor, monkeypatch):
    fail_inserts(monkeypatch, times=2)
    socket = await html_socket(patient, "drwho")
    await say(socket, "lost")
    assert "could not be stored" in await socket.receive_from()
    await say(socket, "kept")
    assert "kept" in await socket.receive_from()
    await socket.disconnect()


async def test_the_peer_never_hears_of_a_message_that_was_not_stored(patient, doctor, monkeypatch):
    fail_inserts(monkeypatch, times=2)
    sender = await json_socket(patient, "drwho")
    receiver = await json_socket(doctor, "alice")
    await say(sender, "lost")
    assert await sender.receive_json_from() == {"error": STORE_FAILED}
    assert await receiver.receive_nothing(timeout=0.3)
    await say(sender, "kept")
    assert json.loads(await receiver.receive_from())["message"] == "kept"
    await sender.disconnect()
    await receiver.disconnect()


async def test_a_database_error_fails_only_its_own_message(patient, doctor, refuse_boom):
    """Sent at once from two sockets (one batch or two, whichever the loop makes of it): the row
    the database refuses is an error frame to its sender; the other is stored and delivered."""
    alice = await json_socket(patient, "drwho")
    drwho = await json_socket(doctor, "alice")
    await asyncio.gather(say(alice, "boom"), say(drwho, "fine"))
    frames = [await alice.receive_json_from(SOCKET_TIMEOUT) for _ in range(2)]
    assert {"error": STORE_FAILED} in frames
    assert [f["message"] for f in frames if "message" in f] == ["fine"]
    assert (await drwho.receive_json_from(SOCKET_TIMEOUT))["message"] == "fine"
    assert await drwho.receive_nothing(timeout=0.3)  # never heard of "boom"
    assert await stored_texts() == ["fine"]
    await alice.disconnect()
    await drwho.disconnect()
