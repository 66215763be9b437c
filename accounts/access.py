"""Who may see or talk to whom. Pages, the API and the WebSocket consumers all ask here.

A doctor reads a patient's diary only through an active care link; two people chat only when
they share an active link or are both doctors. Patients never see other patients.
"""

from __future__ import annotations

from django.db.models import Q

from accounts.models import CareLink, DiaryAccess, User


def share_active_link(one: User, other: User) -> bool:
    return CareLink.objects.active().between(one, other).exists()


def can_chat(sender: User, receiver: User) -> bool:
    """Whether `sender` may start or continue a conversation with `receiver` (sending only:
    the two can always read and delete what they already wrote to each other)."""
    if sender.pk == receiver.pk or not (sender.is_active and receiver.is_active):
        return False
    if sender.is_doctor and receiver.is_doctor:
        return True
    return share_active_link(sender, receiver)


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
        either_way = Q()
        for a, b in rest:
            either_way |= Q(patient=a, doctor=b) | Q(patient=b, doctor=a)
        linked = set(CareLink.objects.active().filter(either_way).values_list("patient", "doctor"))
        allowed |= {
            (a.pk, b.pk) for a, b in rest if (a.pk, b.pk) in linked or (b.pk, a.pk) in linked
        }
    return allowed


def readable_patient(viewer: User, username: str | None) -> User | None:
    """The patient whose diary `viewer` asks for: themself when `username` is empty, else a
    patient they hold an active link with as the doctor. None means "not found" (no hint that
    the patient exists)."""
    if not username or username == viewer.username:
        return viewer
    if not viewer.is_doctor:
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
