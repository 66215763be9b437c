"""The chat's send path through core.realtime: batches in arrival order, one failing item fails
alone, and on SQLite the WAL checkpoints happen in a worker thread of their own, never in a send
(the benchmark's p99 was those checkpoints)."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, OperationalError, connection
from django.db.backends.utils import CursorWrapper

from core.realtime import batcher as writer
from core.realtime import on_database_thread, store_message
from messaging import services
from messaging.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def store(sender, receiver, text: str) -> Message:
    sent = await store_message(sender=sender, receiver=receiver, text=text)
    return sent.message


def wal_frames() -> tuple[int, int]:
    """(frames in the WAL, frames copied back into the database), from the WAL-index header
    in the -shm file (https://www.sqlite.org/walformat.html: mxFrame at byte 16, nBackfill
    at byte 96, native byte order)."""
    header = Path(connection.settings_dict["NAME"] + "-shm").read_bytes()[:100]
    return struct.unpack_from("=I", header, 16)[0], struct.unpack_from("=I", header, 96)[0]


@on_database_thread
def send_path_setting(pragma: str) -> int:
    """A PRAGMA's value on the connection the send path keeps (the sockets' database thread)."""
    return connection.connection.execute(f"PRAGMA {pragma}").fetchone()[0]


async def test_messages_are_stored_in_arrival_order(patient, doctor):
    texts = [f"message {i}" for i in range(300)]
    stored = await asyncio.gather(
        *(store(patient, doctor, text) for text in texts)
    )  # more than one batch: MAX_BATCH is 200
    assert [m.text for m in stored] == texts
    assert [m.pk for m in stored] == sorted(m.pk for m in stored)
    rows = await sync_to_async(list)(Message.objects.order_by("id").values_list("text", flat=True))
    assert rows == texts


async def test_one_bad_item_fails_alone(patient, doctor, other_patient):
    results = await asyncio.gather(
        store(patient, doctor, "fine"),
        store(patient, other_patient, "no link"),
        store(doctor, patient, "also fine"),
        return_exceptions=True,
    )
    assert [m.text for m in results if isinstance(m, Message)] == ["fine", "also fine"]
    assert isinstance(results[1], services.MessageError)
    assert str(results[1]) == services.CANNOT_SEND


async def test_checkpoints_stay_off_the_send_path(patient, doctor, monkeypatch):
    monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 3600.0)
    # ~2 WAL pages a message: well past SQLite's own checkpoint threshold of 1000 pages.
    await asyncio.gather(*(store(patient, doctor, "x" * 4500) for _ in range(1100)))
    batcher = writer.batcher_for(services.send_messages)
    if connection.vendor != "sqlite":  # PostgreSQL checkpoints on its own, off our process
        monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 0.0)
        await store(patient, doctor, "one more")
        assert batcher.checkpoint_task is None
        return
    assert await send_path_setting("wal_autocheckpoint") == 0
    frames, copied = wal_frames()
    assert frames > 1000 + copied, "a send checkpointed the WAL itself"

    monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 0.0)
    await store(patient, doctor, "one more")
    assert batcher.checkpoint_task is not None
    await batcher.checkpoint_task
    frames, copied = wal_frames()
    assert copied == frames > 1000


async def test_a_row_the_database_refuses_fails_alone(patient, doctor, refuse_boom):
    results = await asyncio.gather(
        store(patient, doctor, "fine"),
        store(patient, doctor, "boom"),
        store(doctor, patient, "also fine"),
        return_exceptions=True,
    )
    assert isinstance(results[1], DatabaseError)
    assert [m.text for m in results if isinstance(m, Message)] == ["fine", "also fine"]
    rows = await sync_to_async(list)(Message.objects.order_by("id").values_list("text", flat=True))
    assert rows == ["fine", "also fine"]


class FailingInserts:
    """Message INSERTs fail as on a terminated backend: the next `times` of them, or all."""

    def __init__(self, monkeypatch, times: int) -> None:
        self.times, self.attempts = times, 0
        real = CursorWrapper._execute

        def execute(wrapper, sql, params, *args):
            if sql.startswith('INSERT INTO "messaging_message"'):
                self.attempts += 1
                if self.attempts <= self.times:
                    raise OperationalError("terminating connection due to administrator command")
            return real(wrapper, sql, params, *args)

        monkeypatch.setattr(CursorWrapper, "_execute", execute)


async def test_a_batch_whose_connection_died_is_stored_one_by_one(patient, doctor, monkeypatch):
    inserts = FailingInserts(monkeypatch, times=2)  # the batch, then its first message alone
    results = await asyncio.gather(
        *(store(patient, doctor, f"m{i}") for i in range(4)), return_exceptions=True
    )
    assert isinstance(results[0], OperationalError)
    assert [m.text for m in results[1:]] == ["m1", "m2", "m3"]
    assert inserts.attempts == 5


async def test_when_the_database_is_gone_the_rest_of_a_batch_fails_fast(
    patient, doctor, monkeypatch
):
    inserts = FailingInserts(monkeypatch, times=10**6)
    results = await asyncio.gather(
        *(store(patient, doctor, f"m{i}") for i in range(50)), return_exceptions=True
    )
    assert all(isinstance(r, OperationalError) for r in results)
    # The batch, then CONNECTION_LOST messages alone; the other 48 never waited on the database.
    assert inserts.attempts == 1 + writer.CONNECTION_LOST
    monkeypatch.undo()
    assert (await store(patient, doctor, "back")).text == "back"
