"""The one write path of messaging: send, mark read, delete — each broadcast after commit.

Synchronous domain code. The database is the truth and the push is best effort: every broadcast
goes out through core.realtime's `broadcast_on_commit`, so a socket never hears of a message that
was rolled back, and a client that missed a push resyncs from the last id it saw.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts import access
from accounts.models import User
from core.realtime import broadcast_on_commit
from messaging.models import MAX_LENGTH, Message, pair_group, user_group


class MessageError(ValueError):
    """Input a person can fix: said back to them as it is, never a 500.

    It holds an English message id (and its %(name)s values) and says it in the language active
    when it is shown (`str(error)`): a socket's error frame is then in the socket user's
    language, whichever thread stored (or refused) the message.
    """

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message)
        self.values = values

    def __str__(self) -> str:
        text = gettext(self.args[0])
        return text % self.values if self.values else text


def can_chat(a: User, b: User) -> bool:
    """Whether `a` may send to `b` (reading and deleting a past conversation stay open).

    The care-link rule lives in accounts.access, shared with the diary's pages and API.
    """
    return access.can_chat(a, b)


# English message ids (gettext_noop): shown with gettext() where they are said to someone.
CANNOT_SEND = gettext_noop(
    "You can only message a doctor you share an active care link with. "
    "Ask for a link under Find a doctor."
)
PEER_DELETED = gettext_noop("This person deleted their account. The conversation is read-only.")


def clean_text(text: Any) -> str:
    """The message text, trimmed, or MessageError saying why it cannot be stored."""
    if not isinstance(text, str):
        raise MessageError(gettext_noop("The message must be text."))
    text = text.strip()
    if not text:
        raise MessageError(gettext_noop("The message is empty."))
    if len(text) > MAX_LENGTH:
        raise MessageError(
            gettext_noop("The message is longer than %(max)s characters."), max=MAX_LENGTH
        )
    if "\x00" in text:
        raise MessageError(gettext_noop("The message must not contain NUL characters."))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a crafted JSON frame
        raise MessageError(gettext_noop("The message is not valid Unicode text.")) from exc
    return text


def message_data(message: Message) -> dict[str, Any]:
    """The API's Message shape (the sender and receiver must already be loaded)."""
    data = {
        "id": message.pk,
        "sender": message.sender.username,
        "receiver": message.receiver.username,
        "message": message.text,
        "timestamp": message.timestamp.isoformat(),
    }
    if message.client_id is not None:  # only for clients that sent one: the old shape otherwise
        data["client_id"] = str(message.client_id)
    return data


class NewMessage(TypedDict, total=False):
    """One message to send: `client_id` (a UUID the client chose) makes a resend harmless."""

    sender: User
    receiver: User
    text: Any
    client_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a NewMessage: the stored message, and whether this call stored it
    (False: the same sender sent the same client_id before, and that message is the answer)."""

    message: Message
    created: bool


CLIENT_ID_REUSED = gettext_noop("This client_id was already used for another message.")


def clean_client_id(value: Any) -> uuid.UUID | None:
    """A frame's optional `client_id`: a UUID in its text form, or None; MessageError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 36:
        raise MessageError(gettext_noop("client_id must be a UUID."))
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise MessageError(gettext_noop("client_id must be a UUID.")) from exc


def send_message(
    *, sender: User, receiver: User, text: Any, client_id: uuid.UUID | None = None
) -> Message:
    """Store a message from `sender` to `receiver`, then push it to both people's sockets.

    Raises MessageError for bad text or a pair that may not talk. One INSERT; the pushed event
    carries everything a socket needs, so receivers do no lookups.
    """
    item: NewMessage = {
        "sender": sender,
        "receiver": receiver,
        "text": text,
        "client_id": client_id,
    }
    return send_messages(items=[item])[0].message


def send_messages(*, items: list[NewMessage]) -> list[Sent]:
    """send_message for several at once: one transaction, one INSERT, one Sent per item.

    All or nothing: MessageError names the first bad item and nothing is stored. The chat socket
    batches what arrives while the database is busy (core.realtime), so a loaded server does
    fewer, larger writes; pushes leave after the commit in id order.

    Idempotent per (sender, client_id): an item whose client_id its sender used before is not
    stored again and not pushed again; its Sent carries the stored message (created=False). The
    same client_id for another peer or another text is a MessageError. The database's unique
    constraint settles a race between two processes (an IntegrityError for the batch; stored one
    by one, the loser then finds the winner's row).
    """
    allowed = access.chat_allowed_pairs({(item["sender"], item["receiver"]) for item in items})
    earlier = _earlier_messages(items)
    rows: list[Message] = []
    plan: list[tuple[bool, Message | int]] = []  # (created, the message or the index in rows)
    pending: dict[tuple[int, uuid.UUID], int] = {}
    for item in items:
        sender, receiver, client_id = item["sender"], item["receiver"], item.get("client_id")
        text = clean_text(item["text"])
        key = (sender.pk, client_id) if client_id is not None else None
        if key is not None and key in earlier:
            message = earlier[key]
            if message.receiver_id != receiver.pk or message.text != text:
                raise MessageError(CLIENT_ID_REUSED)
            message.sender, message.receiver = sender, receiver
            plan.append((False, message))
            continue
        if key is not None and key in pending:
            row = rows[pending[key]]
            if row.receiver_id != receiver.pk or row.text != text:
                raise MessageError(CLIENT_ID_REUSED)
            plan.append((False, pending[key]))
            continue
        if (sender.pk, receiver.pk) not in allowed:
            raise MessageError(CANNOT_SEND)
        if key is not None:
            pending[key] = len(rows)
        plan.append((True, len(rows)))
        rows.append(Message(sender=sender, receiver=receiver, text=text, client_id=client_id))
    with transaction.atomic():
        messages = Message.objects.bulk_create(rows) if rows else []
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
        broadcast_on_commit(events)
    return [
        Sent(target if isinstance(target, Message) else messages[target], created=created)
        for created, target in plan
    ]


def _earlier_messages(items: list[NewMessage]) -> dict[tuple[int, uuid.UUID], Message]:
    """The stored messages whose (sender, client_id) the items name: one query, none without
    client ids."""
    wanted = {
        (item["sender"].pk, item["client_id"])
        for item in items
        if item.get("client_id") is not None
    }
    if not wanted:
        return {}
    condition = Q()
    for sender_id, client_id in wanted:
        condition |= Q(sender_id=sender_id, client_id=client_id)
    return {(m.sender_id, m.client_id): m for m in Message.objects.filter(condition)}


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
        broadcast_on_commit(
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
        broadcast_on_commit(
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
        broadcast_on_commit([(user_group(peer), {"type": "inbox.changed"}) for peer in peers])
    return count
