"""The header's badges (unread messages; a doctor's pending care requests), no query of their own.

A page's signed-in user is loaded with both counts as two scalar subqueries of the user's own
query (accounts.middleware.AuthenticationMiddleware, through accounts.backends): the session's
user is loaded on every page anyway, so the badges ride along. They are kept on the request:
the nav's tag and the context processor share them. The conversation, which marks messages read
before it renders, subtracts what it marked (`marked_read`). Sockets and the API load the user
without them (`loading_page_user` is set only while a page loads its user); a user loaded
without them is counted on first use, in one query (`badges_for`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.http import HttpRequest

from accounts.models import CareLink, User
from messaging.models import Message


@dataclass(frozen=True)
class Badges:
    unread: int
    pending_links: int


def _count(queryset: QuerySet) -> Subquery:
    """`SELECT COUNT(id) FROM ... WHERE ...` as a scalar subquery (no GROUP BY: one row)."""
    return Subquery(
        queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"),
        output_field=IntegerField(),
    )


# Set while a page loads its signed-in user: the backend then adds the two counts.
loading_page_user: ContextVar[bool] = ContextVar("loading_page_user", default=False)


def with_badges(users: QuerySet[User]) -> QuerySet[User]:
    """`users` with their own badge counts (`_badge_unread`, `_badge_pending`) in the same query."""
    return users.annotate(
        _badge_unread=_count(Message.objects.filter(receiver=OuterRef("pk"), read_at__isnull=True)),
        _badge_pending=_count(CareLink.objects.filter(doctor=OuterRef("pk"), status="pending")),
    )


def _loaded(user: User) -> Badges | None:
    """The counts loaded with the user, if they were (see `with_badges`)."""
    if not hasattr(user, "_badge_unread"):
        return None
    pending = user._badge_pending or 0
    return Badges(unread=user._badge_unread or 0, pending_links=pending if user.is_doctor else 0)


def badges_for(user: User) -> Badges:
    pending = (
        _count(CareLink.objects.filter(doctor=user, status="pending"))
        if user.is_doctor
        else Value(0)
    )
    unread, pending_links = (
        User.objects.filter(pk=user.pk)
        .annotate(unread=_count(Message.objects.unread_for(user)), pending=pending)
        .values_list("unread", "pending")
        .get()
    )
    return Badges(unread=unread or 0, pending_links=pending_links or 0)


def request_badges(request: HttpRequest) -> Badges:
    """This request's badges, counted on first use."""
    badges = getattr(request, "_painmap_badges", None)
    if badges is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            badges = Badges(unread=0, pending_links=0)
        else:
            badges = _loaded(user) or badges_for(user)
        request._painmap_badges = badges  # type: ignore[attr-defined]
    return badges


def marked_read(request: HttpRequest, count: int) -> None:
    """The view marked `count` messages read: the unread badge is the count loaded with the
    user less those, without a recount. (A message that arrived in the milliseconds between
    the two and was marked too makes it low by that one, never high; the inbox socket keeps
    the badge current after.)"""
    if not count:
        return
    badges = request_badges(request)
    request._painmap_badges = Badges(  # type: ignore[attr-defined]
        unread=max(badges.unread - count, 0), pending_links=badges.pending_links
    )
