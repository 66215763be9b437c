"""The send path's writer: batches in arrival order, and on SQLite the WAL checkpoints happen in
a worker thread of their own, never in a send (the benchmark's p99 was those checkpoints)."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from messaging import services, writer
from messaging.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def wal_frames() -> tuple[int, int]:
    """(frames in the WAL, frames copied back into the database), from the WAL-index header
    in the -shm file (https://www.sqlite.org/walformat.html: mxFrame at byte 16, nBackfill
    at byte 96, native byte order)."""
    header = Path(connection.settings_dict["NAME"] + "-shm").read_bytes()[:100]
    return struct.unpack_from("=I", header, 16)[0], struct.unpack_from("=I", header, 96)[0]


@sync_to_async(thread_sensitive=True)
def send_path_setting(pragma: str) -> int:
    """A PRAGMA's value on the connection the send path keeps (the shared database thread)."""
    return connection.connection.execute(f"PRAGMA {pragma}").fetchone()[0]


async def test_messages_are_stored_in_arrival_order(patient, doctor):
    texts = [f"message {i}" for i in range(300)]
    stored = await asyncio.gather(
        *(writer.store(patient, doctor, text) for text in texts)
    )  # more than one batch: MAX_BATCH is 200
    assert [m.text for m in stored] == texts
    assert [m.pk for m in stored] == sorted(m.pk for m in stored)
    rows = await sync_to_async(list)(Message.objects.order_by("id").values_list("text", flat=True))
    assert rows == texts


async def test_one_bad_item_fails_alone(patient, doctor, other_patient):
    results = await asyncio.gather(
        writer.store(patient, doctor, "fine"),
        writer.store(patient, other_patient, "no link"),
        writer.store(doctor, patient, "also fine"),
        return_exceptions=True,
    )
    assert [m.text for m in results if isinstance(m, Message)] == ["fine", "also fine"]
    assert isinstance(results[1], services.MessageError)
    assert str(results[1]) == services.CANNOT_SEND


async def test_checkpoints_stay_off_the_send_path(patient, doctor, monkeypatch):
    monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 3600.0)
    # ~2 WAL pages a message: well past SQLite's own checkpoint threshold of 1000 pages.
    await asyncio.gather(*(writer.store(patient, doctor, "x" * 4500) for _ in range(1100)))
    batcher = writer.batcher()
    if connection.vendor != "sqlite":  # PostgreSQL checkpoints on its own, off our process
        monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 0.0)
        await writer.store(patient, doctor, "one more")
        assert batcher.checkpoint_task is None
        return
    assert await send_path_setting("wal_autocheckpoint") == 0
    frames, copied = wal_frames()
    assert frames > 1000 + copied, "a send checkpointed the WAL itself"

    monkeypatch.setattr(writer, "CHECKPOINT_INTERVAL", 0.0)
    await writer.store(patient, doctor, "one more")
    assert batcher.checkpoint_task is not None
    await batcher.checkpoint_task
    frames, copied = wal_frames()
    assert copied == frames > 1000
