"""Writes to accounts: registration, roles, API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import DOCTORS, PATIENTS, CareLink, TokenUse, User
from accounts.sockets import ACCESS_CHANGED, CREDENTIALS_ENDED, close_sockets

ROLE_GROUPS = {"doctor": DOCTORS, "patient": PATIENTS}


def register_user(*, username: str, email: str, password: str) -> User:
    """Create a user (who joins Patients). Inputs are validated by the caller's form/serializer."""
    return User.objects.create_user(username=username, email=email.strip(), password=password)


@transaction.atomic
def set_role(*, users: list[User], role: str) -> int:
    """Make each user a doctor or a patient: join that group, leave the other. Returns the count."""
    join = Group.objects.get_or_create(name=ROLE_GROUPS[role])[0]
    leave = Group.objects.get_or_create(name=PATIENTS if role == "doctor" else DOCTORS)[0]
    changed = []
    for user in users:
        names = user.group_names
        if join.name not in names or leave.name in names:
            changed.append(user.pk)
        user.groups.add(join)
        user.groups.remove(leave)
        user.__dict__.pop("group_names", None)
    # Sockets were authorized for the old role (a doctor may chat with any doctor).
    close_sockets(user_ids=changed, reason="role-changed", code=ACCESS_CHANGED)
    return len(users)


def issue_token(*, user: User) -> Token:
    """The user's API token: the same one on every sign-in until they sign out, change their
    password, or leave it unused for TOKEN_IDLE_DAYS (then this sign-in gets a new one)."""
    token = Token.objects.select_related("use").filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    if token is None:
        token = Token.objects.get_or_create(user=user)[0]
    TokenUse.objects.update_or_create(token=token, defaults={"last_used": timezone.now()})
    return token


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
    if (link.status, status) == (CareLink.Status.ACTIVE, CareLink.Status.ENDED):
        _close_pair_sockets(link.patient_id, link.doctor_id)
    link.refresh_from_db()
    return link


# Credentials that end: idle tokens, sign-outs, "sign out everywhere", closing sockets.


def token_last_used(token: Token) -> datetime:
    """When the token was last used (its creation when it has no TokenUse row yet); `token`
    should come with select_related("use")."""
    try:
        return token.use.last_used
    except TokenUse.DoesNotExist:
        return token.created


def token_expired(token: Token) -> bool:
    idle = timedelta(days=settings.TOKEN_IDLE_DAYS)
    return timezone.now() - token_last_used(token) > idle


def note_token_use(token: Token) -> None:
    """Record that the token was used, at most once per TOKEN_USE_RESOLUTION seconds: the
    token check runs on every API request and must not write each time."""
    now = timezone.now()
    if (now - token_last_used(token)).total_seconds() < settings.TOKEN_USE_RESOLUTION:
        return
    if not TokenUse.objects.filter(token=token).update(last_used=now):
        TokenUse.objects.get_or_create(token=token, defaults={"last_used": now})


def check_token(key: str) -> Token | None:
    """The live token with this key (its user loaded), or None: unknown, or idle for longer
    than TOKEN_IDLE_DAYS (then deleted, so that the next sign-in issues a new one).
    Notes the use. The caller checks `key` is plausible and the user active."""
    token = Token.objects.select_related("user", "use").filter(key=key).first()
    if token is None:
        return None
    if token_expired(token):
        token.delete()
        return None
    note_token_use(token)
    return token


@transaction.atomic
def sign_out(*, user: User, session_key: str | None = None) -> None:
    """A sign-out, from the API (no session) or the web (the session being flushed): delete
    the API token (a web sign-out ends the API clients' access too) and close the sockets
    opened with the token or with that session. Other browsers stay signed in."""
    revoke_token(user=user)
    close_sockets(user_ids=[user.pk], reason="signed-out", token=True, session_key=session_key)


@transaction.atomic
def end_credentials(*, user: User, reason: str) -> None:
    """End everything `user` is signed in with: delete the API token, end every web session
    and close every socket (code 4401). For a password change, "sign out everywhere", a
    deactivation, an account deleted.

    A view that keeps its own session signed in calls
    `django.contrib.auth.update_session_auth_hash(request, user)` right after, with the same
    `user` (its session_epoch is refreshed here).
    """
    revoke_token(user=user)
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    close_sockets(user_ids=[user.pk], reason=reason, code=CREDENTIALS_ENDED)


def deactivate_user(*, user: User) -> None:
    """Deactivate an account: it can no longer sign in, and everything it was signed in with
    ends now (sessions, token, open sockets)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        end_credentials(user=user, reason="deactivated")


@transaction.atomic
def end_links(*, links: QuerySet[CareLink]) -> int:
    """End these care links (the admin's action): every open one becomes ended, and the chat
    sockets of each pair that was active close (4403). Returns how many ended."""
    rows = list(
        links.open().select_for_update().values_list("pk", "patient_id", "doctor_id", "status")
    )
    CareLink.objects.filter(pk__in=[pk for pk, *_ in rows]).update(
        status=CareLink.Status.ENDED, ended=timezone.now()
    )
    for _, patient_id, doctor_id, status in rows:
        if status == CareLink.Status.ACTIVE:
            _close_pair_sockets(patient_id, doctor_id)
    return len(rows)


def _close_pair_sockets(patient_id: int, doctor_id: int) -> None:
    """Close the chat sockets between the two (both directions), once the link's end commits."""
    close_sockets(
        user_ids=[patient_id], reason="link-ended", code=ACCESS_CHANGED, peer_id=doctor_id
    )
    close_sockets(
        user_ids=[doctor_id], reason="link-ended", code=ACCESS_CHANGED, peer_id=patient_id
    )


@transaction.atomic
def change_password(*, user: User, new_password: str) -> Token:
    """Set a new password (already validated by the caller) and end everything signed in with
    the old one; returns the user's new API token (the API's answer)."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    end_credentials(user=user, reason="password-changed")
    return issue_token(user=user)
