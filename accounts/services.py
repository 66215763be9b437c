"""Writes to accounts: registration, roles, API tokens."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.authtoken.models import Token

from accounts.models import DOCTORS, PATIENTS, CareLink, User

ROLE_GROUPS = {"doctor": DOCTORS, "patient": PATIENTS}


def register_user(*, username: str, email: str, password: str) -> User:
    """Create a user (who joins Patients). Inputs are validated by the caller's form/serializer."""
    return User.objects.create_user(username=username, email=email.strip(), password=password)


@transaction.atomic
def set_role(*, users: list[User], role: str) -> int:
    """Make each user a doctor or a patient: join that group, leave the other. Returns the count."""
    join = Group.objects.get_or_create(name=ROLE_GROUPS[role])[0]
    leave = Group.objects.get_or_create(name=PATIENTS if role == "doctor" else DOCTORS)[0]
    for user in users:
        user.groups.add(join)
        user.groups.remove(leave)
        user.__dict__.pop("group_names", None)
    return len(users)


def issue_token(*, user: User) -> Token:
    """The user's API token: the same one on every sign-in until they sign out."""
    return Token.objects.get_or_create(user=user)[0]


def revoke_token(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


class LinkError(Exception):
    """A care-link change that is not allowed; `status` is the HTTP answer it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def request_link(*, patient: User, doctor: User) -> CareLink:
    """A patient asks a doctor to become their doctor (pending until the doctor answers)."""
    if patient.is_doctor and not patient.is_patient:
        raise LinkError("Only patients can ask a doctor for a link.", 403)
    if not doctor.is_doctor or not doctor.is_active:
        raise LinkError(f"{doctor.username} is not a doctor.")
    if doctor.pk == patient.pk:
        raise LinkError("You cannot link with yourself.")
    allowed_from = declined_until(patient=patient, doctors=[doctor]).get(doctor.pk)
    if allowed_from is not None:
        raise LinkCooldownError(doctor=doctor, allowed_from=allowed_from)
    try:
        with transaction.atomic():
            return CareLink.objects.create(patient=patient, doctor=doctor)
    except IntegrityError as exc:
        raise LinkError(
            f"You already have a pending or active link with {doctor.username}."
        ) from exc


# Who may move a link from one status to another.
_DOCTOR_MOVES = {
    (CareLink.Status.PENDING, CareLink.Status.ACTIVE),
    (CareLink.Status.PENDING, CareLink.Status.DECLINED),
    (CareLink.Status.ACTIVE, CareLink.Status.ENDED),
}
_PATIENT_MOVES = {
    (CareLink.Status.ACTIVE, CareLink.Status.ENDED),
    # A patient may withdraw a request the doctor has not answered yet.
    (CareLink.Status.PENDING, CareLink.Status.ENDED),
}


def change_link(*, link: CareLink, by: User, status: str) -> CareLink:
    """Move a link to `status` if `by` may (doctor: accept/decline a request; either side: end).

    The change is one conditional UPDATE, so two answers racing for the same pending request
    (a double accept, an accept against a decline) leave exactly one winner.
    """
    if by.pk == link.doctor_id:
        allowed = _DOCTOR_MOVES
    elif by.pk == link.patient_id:
        allowed = _PATIENT_MOVES
    else:
        raise LinkError("Link not found", 404)
    if status not in CareLink.Status.values:
        raise LinkError(f"Unknown status {status!r}.")
    if (link.status, status) not in allowed:
        raise LinkError(f"You cannot change a {link.status} link to {status}.", 403)
    now = timezone.now()
    stamp = {"ended": now} if status == CareLink.Status.ENDED else {"responded": now}
    changed = CareLink.objects.filter(pk=link.pk, status=link.status).update(status=status, **stamp)
    if not changed:
        link.refresh_from_db()
        raise LinkError(f"This link is {link.status} now; nothing was changed.", 409)
    link.refresh_from_db()
    return link


class LinkCooldownError(LinkError):
    """A request to a doctor who declined this patient less than the cooldown ago: a 429 with
    Retry-After, so that a declined request cannot be repeated at once, again and again."""

    def __init__(self, *, doctor: User, allowed_from: datetime) -> None:
        when = date_format(timezone.localtime(allowed_from), "j M Y, H:i T")
        super().__init__(
            f"{doctor.username} declined your request recently. You can ask again from {when}.",
            429,
        )
        self.allowed_from = allowed_from
        self.retry_after = max(1, math.ceil((allowed_from - timezone.now()).total_seconds()))


def declined_until(*, patient: User, doctors: Iterable[User]) -> dict[int, datetime]:
    """For each of `doctors` who declined `patient` within LINK_REQUEST_COOLDOWN_DAYS: when the
    patient may ask again (by doctor id). One query, for the doctor directory's whole page."""
    cooldown = timedelta(days=settings.LINK_REQUEST_COOLDOWN_DAYS)
    if cooldown <= timedelta(0):
        return {}
    declined = CareLink.objects.filter(
        patient=patient,
        doctor__in=[doctor.pk for doctor in doctors],
        status=CareLink.Status.DECLINED,
        responded__gt=timezone.now() - cooldown,
    ).values_list("doctor_id", "responded")
    until: dict[int, datetime] = {}
    for doctor_id, responded in declined:
        until[doctor_id] = max(until.get(doctor_id, responded + cooldown), responded + cooldown)
    return until
