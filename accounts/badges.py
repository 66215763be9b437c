"""The header's badges (unread messages; a doctor's pending care requests), one query a page.

Counted when the page is rendered (after its view marked anything read) in one query of two
scalar subqueries, and kept on the request: the nav's tag and the context processor share it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, QuerySet, Subquery, Value
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
            badges = badges_for(user)
        request._painmap_badges = badges  # type: ignore[attr-defined]
    return badges
