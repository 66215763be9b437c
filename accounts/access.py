"""Who may see or talk to whom. Pages, the API and the WebSocket consumers all ask here.

A doctor reads a patient's diary only through an active care link; two people chat only when
they share an active link or are both doctors. Patients never see other patients.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import ADMIN_READ_PREFIX, CareLink, DiaryAccess, User
from core.prepared import PreparedQuery


def share_active_link(one: User, other: User) -> bool:
    return CareLink.objects.active().between(one, other).exists()


def can_chat(sender: User, receiver: User, *, active_link: bool | None = None) -> bool:
    """Whether `sender` may start or continue a conversation with `receiver` (sending only:
    the two can always read and delete what they already wrote to each other).

    `active_link`: whether they share one, when the caller loaded it (`relation_to`)."""
    if sender.pk == receiver.pk or not (sender.is_active and receiver.is_active):
        return False
    if sender.is_doctor and receiver.is_doctor:
        return True
    return share_active_link(sender, receiver) if active_link is None else active_link


def relation_to(viewer: User) -> dict[str, Exists]:
    """Annotations for a query of users: whether each shares an active link with `viewer`
    (`active_link`, for can_chat) and whether the two know each other (`known`, for
    name_visible), so that a page about one person asks both in the query that loads them."""
    from messaging.models import Message  # messaging depends on accounts, not the other way

    other = OuterRef("pk")
    return {
        "active_link": Exists(CareLink.objects.active().between(viewer, other)),
        "known": Exists(CareLink.objects.between(viewer, other))
        | Exists(Message.objects.between(viewer, other)),
    }


def _chat_peers(sender_id: int, username: str) -> QuerySet[User]:
    link = CareLink.objects.active().filter(
        Q(patient_id=sender_id, doctor_id=OuterRef("pk"))
        | Q(patient_id=OuterRef("pk"), doctor_id=sender_id)
    )
    return (
        User.objects.with_roles()
        .annotate(_linked=Exists(link))
        .filter(username=username, is_active=True)
    )


# Compiled once (core.prepared): building this query cost ~4x what the rest of a handshake did.
_chat_peer_query = PreparedQuery(_chat_peers, sender_id=-7_350_001, username="\x1fpeer\x1f")


def chat_peer(sender: User, username: str) -> User | None:
    """The active user `username` if `sender` may chat with them (`can_chat`), else None.

    One query for a chat socket's handshake: the peer, the peer's roles and whether the two
    share an active link; `sender` comes with its roles loaded (the socket's auth).
    """
    found = _chat_peer_query.fetch(sender_id=sender.pk, username=username)
    if not found:
        return None
    peer = found[0]
    linked = bool(peer.__dict__.pop("_linked"))
    return peer if can_chat(sender, peer, active_link=linked) else None


def chat_allowed_pairs(pairs: set[tuple[User, User]]) -> set[tuple[int, int]]:
    """`can_chat` for many (sender, receiver) pairs at once, in one query at most: the chat
    socket stores messages in batches, and a query per pair per batch would cost more than the
    insert."""
    allowed = {
        (a.pk, b.pk)
        for a, b in pairs
        if a.pk != b.pk and a.is_active and b.is_active and a.is_doctor and b.is_doctor
    }
    rest = [
        (a, b)
        for a, b in pairs
        if (a.pk, b.pk) not in allowed and a.pk != b.pk and a.is_active and b.is_active
    ]
    if rest:
        linked = _active_links_among({pk for pair in rest for pk in (pair[0].pk, pair[1].pk)})
        allowed |= {
            (a.pk, b.pk) for a, b in rest if (a.pk, b.pk) in linked or (b.pk, a.pk) in linked
        }
    return allowed


def _active_links_among(ids: set[int]) -> set[tuple[int, int]]:
    """(patient id, doctor id) of every active link between two of these people.

    Plain SQL: the chat's send path asks this for every batch it stores, and the ORM took ~20
    times longer to build the query (~450 µs) than SQLite took to answer it (~20 µs).
    """
    meta = CareLink._meta
    quote = connection.ops.quote_name
    patient, doctor = (quote(meta.get_field(name).column) for name in ("patient", "doctor"))
    among = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT {patient}, {doctor} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('status').column)} = %s "
        f"AND {patient} IN ({among}) AND {doctor} IN ({among})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [CareLink.Status.ACTIVE.value, *ids, *ids])
        return set(cursor.fetchall())


def readable_patient(viewer: User, username: str | None) -> User | None:
    """The patient whose diary `viewer` asks for: themself when `username` is empty, else a
    patient they hold an active link with as the doctor. None means "not found" (no hint that
    the patient exists)."""
    if not username or username == viewer.username:
        return viewer
    if not viewer.is_doctor or "\x00" in username:  # no such user; PostgreSQL would raise
        return None
    link = (
        CareLink.objects.active()
        .filter(doctor=viewer, patient__username=username, patient__is_active=True)
        .select_related("patient")
        .first()
    )
    return link.patient if link else None


def record_diary_access(*, viewer: User, patient: User, what: str) -> None:
    """Leave a trace of someone else reading a patient's diary data (never of the patient)."""
    if viewer.pk != patient.pk:
        DiaryAccess.objects.create(viewer=viewer, patient=patient, what=what)


def record_diary_reads(
    *,
    viewer: User,
    patient_ids: Iterable[int],
    what: str,
    once_per: timedelta | None = None,
) -> None:
    """`record_diary_access` for a page that shows several patients' data at once (a doctor's
    patient list, an admin list): one row per patient, in one insert, never one of the viewer.

    With `once_per`, a patient who already has the same row from this viewer within that time
    gets no second one: a page a doctor reloads all day (their landing page) would otherwise
    bury the patient's "Who viewed my diary" under identical rows.
    """
    ids = sorted({pk for pk in patient_ids if pk is not None and pk != viewer.pk})
    if ids and once_per is not None:
        recent = set(
            DiaryAccess.objects.filter(
                viewer=viewer, patient_id__in=ids, what=what, at__gte=timezone.now() - once_per
            ).values_list("patient_id", flat=True)
        )
        ids = [pk for pk in ids if pk not in recent]
    if ids:
        DiaryAccess.objects.bulk_create(
            [DiaryAccess(viewer=viewer, patient_id=pk, what=what) for pk in ids]
        )


def record_admin_reads(*, admin: User, patient_ids: Iterable[int], what: str) -> None:
    """An admin page showed these people's diary data or messages: the trace each of them sees
    under "Who viewed my diary", as "administrator <name>"."""
    record_diary_reads(viewer=admin, patient_ids=patient_ids, what=f"{ADMIN_READ_PREFIX}{what}")


def name_visible(viewer: User, other: User, *, known: bool | None = None) -> bool:
    """Whether `viewer` may see `other`'s real name (first and last name).

    Only people who know each other: themself, a shared care link in any status (pending,
    active, declined or ended: the request itself showed the name) or a conversation (messages
    between the two, in either direction). Everyone else sees the username. The doctor
    directory is the one exception: it is a professional listing and shows doctors' names to
    every signed-in user (accounts.views.doctor_directory).

    Pages that only ever show people one of these rules already covers (a doctor's patients,
    the care team, the inbox, the access log) render `display_name` directly; a page that may
    show anyone (the chat page of any username) asks here.
    """
    from messaging.models import Message  # messaging depends on accounts, not the other way

    if viewer.pk == other.pk:
        return True
    if not other.get_full_name():
        return True  # nothing to hide: the name shown is the username
    if known is not None:  # loaded with `other` (relation_to)
        return known
    return (
        CareLink.objects.between(viewer, other).exists()
        or Message.objects.between(viewer, other).exists()
    )


def shown_name(viewer: User, other: User, *, known: bool | None = None) -> str:
    """The name of `other` to show `viewer`: the real name if `name_visible`, else the username."""
    return other.display_name() if name_visible(viewer, other, known=known) else other.username
