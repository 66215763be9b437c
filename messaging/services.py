"""The one write path of messaging: send, mark read, delete — each broadcast after commit.

The database is the truth and the push is best effort: every broadcast goes out in
`transaction.on_commit`, so a socket never hears of a message that was rolled back, and a client
that missed a push resyncs from the last id it saw.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from accounts import access
from accounts.models import User
from messaging.models import MAX_LENGTH, Message, pair_group, user_group


class MessageError(ValueError):
    """Input a person can fix: said back to them as it is, never a 500."""


def can_chat(a: User, b: User) -> bool:
    """Whether `a` may send to `b` (reading and deleting a past conversation stay open).

    The care-link rule lives in accounts.access, shared with the diary's pages and API.
    """
    return access.can_chat(a, b)


CANNOT_SEND = (
    "You can only message a doctor you share an active care link with. "
    "Ask for a link under Find a doctor."
)
PEER_DELETED = "This person deleted their account. The conversation is read-only."


def clean_text(text: Any) -> str:
    """The message text, trimmed, or MessageError saying why it cannot be stored."""
    if not isinstance(text, str):
        raise MessageError("The message must be text.")
    text = text.strip()
    if not text:
        raise MessageError("The message is empty.")
    if len(text) > MAX_LENGTH:
        raise MessageError(f"The message is longer than {MAX_LENGTH} characters.")
    if "\x00" in text:
        raise MessageError("The message must not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a crafted JSON frame
        raise MessageError("The message is not valid Unicode text.") from exc
    return text


def message_data(message: Message) -> dict[str, Any]:
    """The API's Message shape (the sender and receiver must already be loaded)."""
    return {
        "id": message.pk,
        "sender": message.sender.username,
        "receiver": message.receiver.username,
        "message": message.text,
        "timestamp": message.timestamp.isoformat(),
    }


logger = logging.getLogger(__name__)

# One outbox per event loop: pushes leave in the order they were committed, and the database
# thread never waits on the channel layer (a Redis round trip per group per message).
_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue] = (
    weakref.WeakKeyDictionary()
)


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop when this code runs in one of its sync_to_async threads."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


# Badge and inbox refreshes are coalesced per user: at most one per this many seconds.
INBOX_DEBOUNCE = 0.2


async def _drain_outbox(queue: asyncio.Queue) -> None:
    """Send what queued up: each group's events in order, different groups side by side.

    With Redis every group_send is a round trip; one at a time capped a server at ~100
    messages a second. "inbox.changed" only says "look again", so a user's repeats within
    INBOX_DEBOUNCE collapse into one.
    """
    layer = get_channel_layer()
    pending_inbox: set[str] = set()
    flusher: asyncio.Task | None = None

    async def flush_inbox() -> None:
        while pending_inbox:
            await asyncio.sleep(INBOX_DEBOUNCE)
            groups = list(pending_inbox)
            pending_inbox.clear()
            await asyncio.gather(
                *(_send_in_order(layer, g, [{"type": "inbox.changed"}]) for g in groups)
            )

    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, event in batch:
            if event.get("type") == "inbox.changed":
                pending_inbox.add(group)
            else:
                by_group.setdefault(group, []).append(event)
        if pending_inbox and (flusher is None or flusher.done()):
            flusher = asyncio.create_task(flush_inbox())
        await asyncio.gather(*(_send_in_order(layer, g, e) for g, e in by_group.items()))


async def _send_in_order(layer: Any, group: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        try:
            await layer.group_send(group, event)
        except Exception:  # the push is best effort; clients resync from the database
            logger.exception("Could not push %s to %s", event.get("type"), group)


def _enqueue(loop: asyncio.AbstractEventLoop, group: str, event: dict[str, Any]) -> None:
    queue = _outboxes.get(loop)
    if queue is None:
        queue = _outboxes[loop] = asyncio.Queue()
        task = loop.create_task(_drain_outbox(queue))
        task.add_done_callback(lambda _: _outboxes.pop(loop, None))
    queue.put_nowait((group, event))


def _broadcast(group: str, event: dict[str, Any]) -> None:
    """Push an event to a group: through the server loop's outbox, or directly when sync."""
    if get_channel_layer() is None:
        return
    loop = _server_loop()
    if loop is not None:
        # call_soon_threadsafe keeps the callbacks' order, so the outbox keeps commit order.
        loop.call_soon_threadsafe(_enqueue, loop, group, event)
    else:
        async_to_sync(get_channel_layer().group_send)(group, event)


def _on_commit_broadcast(events: list[tuple[str, dict[str, Any]]]) -> None:
    def push() -> None:
        for group, event in events:
            _broadcast(group, event)

    transaction.on_commit(push)


def send_message(*, sender: User, receiver: User, text: Any) -> Message:
    """Store a message from `sender` to `receiver`, then push it to both people's sockets.

    Raises MessageError for bad text or a pair that may not talk. One INSERT; the pushed event
    carries everything a socket needs, so receivers do no lookups.
    """
    return send_messages(items=[(sender, receiver, text)])[0]


def send_messages(*, items: list[tuple[User, User, Any]]) -> list[Message]:
    """send_message for several (sender, receiver, text) at once: one transaction, one INSERT.

    All or nothing: MessageError names the first bad item and nothing is stored. The chat socket
    batches what arrives while the database is busy, so a loaded server does fewer, larger
    writes; pushes leave after the commit in id order.
    """
    rows = []
    allowed = access.chat_allowed_pairs({(sender, receiver) for sender, receiver, _ in items})
    for sender, receiver, text in items:
        if (sender.pk, receiver.pk) not in allowed:
            raise MessageError(CANNOT_SEND)
        rows.append(Message(sender=sender, receiver=receiver, text=clean_text(text)))
    with transaction.atomic():
        messages = Message.objects.bulk_create(rows)
        events: list[tuple[str, dict[str, Any]]] = []
        for message in messages:
            events.append(
                (
                    pair_group(message.sender_id, message.receiver_id),
                    {
                        "type": "chat.message",
                        "message": message_data(message),
                        "sender_id": message.sender_id,
                        "receiver_id": message.receiver_id,
                    },
                )
            )
            events.append((user_group(message.receiver_id), {"type": "inbox.changed"}))
        _on_commit_broadcast(events)
    return messages


def mark_read(*, reader: User, peer: User, up_to_id: int | None = None) -> list[int]:
    """Mark the messages `peer` sent to `reader` (up to `up_to_id`) as read; returns their ids.

    The peer's sockets hear which messages were read (their ticks change) and the reader's
    inbox its new unread count.
    """
    unread = Message.objects.unread_for(reader).filter(sender=peer)
    if up_to_id is not None:
        unread = unread.filter(pk__lte=up_to_id)
    with transaction.atomic():
        ids = list(unread.values_list("pk", flat=True))
        if not ids:
            return []
        Message.objects.filter(pk__in=ids).update(read_at=timezone.now())
        _on_commit_broadcast(
            [
                (
                    pair_group(reader.pk, peer.pk),
                    {"type": "chat.read", "reader_id": reader.pk, "ids": ids},
                ),
                (user_group(reader.pk), {"type": "inbox.changed"}),
            ]
        )
    return ids


def delete_conversation(*, user: User, peer: User) -> int:
    """Delete every message between `user` and `peer`, both directions; returns how many."""
    with transaction.atomic():
        count, _ = Message.objects.between(user, peer).delete()
        _on_commit_broadcast(
            [
                (pair_group(user.pk, peer.pk), {"type": "chat.cleared"}),
                (user_group(user.pk), {"type": "inbox.changed"}),
                (user_group(peer.pk), {"type": "inbox.changed"}),
            ]
        )
    return count


def delete_sent_messages(*, sender: User) -> int:
    """Delete every message `sender` ever sent (their side of all conversations, when they
    delete their account); what others sent them stays. Each peer's inbox is told to look
    again. Returns how many were deleted."""
    with transaction.atomic():
        sent = Message.objects.filter(sender=sender)
        peers = set(sent.order_by().values_list("receiver_id", flat=True).distinct())
        count, _ = sent.delete()
        _on_commit_broadcast([(user_group(peer), {"type": "inbox.changed"}) for peer in peers])
    return count
