"""Chat messages between exactly two people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Count, Max, Q

if TYPE_CHECKING:
    from accounts.models import User

MAX_LENGTH = 5000


class MessageQuerySet(models.QuerySet["Message"]):
    def between(self, a: User | int, b: User | int) -> MessageQuerySet:
        """Every message of the conversation of `a` and `b`, in both directions."""
        return self.filter(
            Q(sender=a, receiver=b) | Q(sender=b, receiver=a),
        )

    def involving(self, user: User | int) -> MessageQuerySet:
        return self.filter(Q(sender=user) | Q(receiver=user))

    def unread_for(self, user: User | int) -> MessageQuerySet:
        return self.filter(receiver=user, read_at__isnull=True)

    def chronological(self) -> MessageQuerySet:
        return self.order_by("id")

    def with_people(self) -> MessageQuerySet:
        return self.select_related("sender", "receiver")


class Message(models.Model):
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_sent"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_received"
    )
    text = models.TextField(max_length=MAX_LENGTH)
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Chosen by the sending client (a UUID) so that a resend after a reconnect is stored once.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        # Ids grow with time, so "in order" is id order: one index serves both directions.
        ordering = ["id"]
        indexes = [
            models.Index(fields=["sender", "receiver", "id"], name="message_pair_idx"),
            models.Index(
                fields=["receiver", "sender"],
                condition=Q(read_at__isnull=True),
                name="message_unread_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sender=models.F("receiver")), name="message_not_to_self"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="message_text_not_empty"),
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_sender_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id} -> {self.receiver_id}: {self.text[:30]}"


def pair_group(a_id: int, b_id: int) -> str:
    """The channel-layer group of a conversation: the same name whoever is first."""
    low, high = sorted((a_id, b_id))
    return f"chat.{low}.{high}"


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's inbox (unread badge, conversation list)."""
    return f"user.{user_id}"


def conversations_for(user: User) -> list[dict]:
    """One row per peer: the peer id, last message id and unread count, most recent first.

    Two queries whatever the number of conversations (one aggregate, then the last messages).
    """
    peer = models.Case(
        models.When(sender=user, then=models.F("receiver")), default=models.F("sender")
    )
    rows = {
        row["peer"]: row
        for row in Message.objects.involving(user)
        .order_by()
        .values(peer=peer)
        .annotate(
            last_id=Max("id"),
            unread=Count("id", filter=Q(receiver=user, read_at__isnull=True)),
        )
    }
    ordered = sorted(rows.values(), key=lambda r: r["last_id"], reverse=True)
    last = Message.objects.with_people().in_bulk([r["last_id"] for r in ordered])
    for row in ordered:
        row["last"] = last[row["last_id"]]
        message = row["last"]
        row["peer_user"] = message.receiver if message.sender_id == user.pk else message.sender
    return ordered
