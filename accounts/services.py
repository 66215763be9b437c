"""Writes to accounts: registration, roles, API tokens, email verification."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework.authtoken.models import Token

from accounts import throttling
from accounts.models import DOCTORS, PATIENTS, CareLink, User

logger = logging.getLogger(__name__)

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


# ---- Email verification ------------------------------------------------------------------------

_VERIFICATION_SALT = "accounts.email-verification"


class VerificationError(Exception):
    """A verification link that does not work; `message` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmailThrottled(Exception):
    """Too many verification emails for this account lately; `seconds` until the next one."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _address_digest(email: str) -> str:
    # The link carries a keyed digest of the address, not the address: it binds the link to the
    # address (a link for an old address stops working after a change) while keeping the address
    # out of URLs, and so out of access logs and browser history.
    return salted_hmac(_VERIFICATION_SALT, email.strip().casefold()).hexdigest()[:32]


def email_verification_token(*, user: User) -> str:
    """A signed, timestamped token naming the user and the address it proves."""
    return signing.dumps(
        {"user": user.pk, "email": _address_digest(user.email)}, salt=_VERIFICATION_SALT
    )


def send_verification_email(*, user: User, site: str) -> bool:
    """Email a link that proves `user.email` to that address; `site` is "scheme://host" of
    the request, so the link leads back to the host the person used.

    This and the password reset are the only emails an unverified address gets. A failure
    to send is logged, not raised: the account works without a verified address, and the
    profile can send the link again. Returns whether the email went out.
    """
    path = reverse("verify_email", args=[email_verification_token(user=user)])
    context = {"user": user, "link": f"{site}{path}", "days": settings.EMAIL_VERIFICATION_DAYS}
    subject = render_to_string("accounts/email_verification_subject.txt", context)
    body = render_to_string("accounts/email_verification_email.txt", context)
    message = mail.EmailMessage(" ".join(subject.split()), body, to=[user.email])
    try:
        message.send()
    except Exception:
        logger.exception("Failed to send the verification email to user %s", user.pk)
        return False
    return True


def request_verification_email(*, user: User, site: str) -> bool:
    """Send a fresh verification link unless this account asked for too many lately.

    Each link may go to an address nobody has proven (an email change sends one too), so the
    count is per account: nobody can use Painmap to flood someone else's mailbox. Raises
    EmailThrottled; returns whether the email went out.
    """
    limiter = throttling.verification_emails()
    key = str(user.pk)
    if (wait := limiter.retry_after(key)) is not None:
        raise EmailThrottled(wait)
    limiter.record(key)
    return send_verification_email(user=user, site=site)


def check_verification_token(*, token: str) -> User:
    """The user whose current address a verification link proves. Raises VerificationError for
    a link that is tampered with, expired, or for an address the account no longer has."""
    try:
        value = signing.loads(
            token,
            salt=_VERIFICATION_SALT,
            max_age=timedelta(days=settings.EMAIL_VERIFICATION_DAYS),
        )
    except signing.SignatureExpired as exc:
        raise VerificationError(
            "This link has expired. Sign in and ask for a new one from your profile."
        ) from exc
    except signing.BadSignature as exc:
        raise VerificationError(
            "This link is not valid. Check that you copied all of it, or ask for a new one "
            "from your profile."
        ) from exc
    user_pk = value.get("user") if isinstance(value, dict) else None
    digest = value.get("email") if isinstance(value, dict) else None
    user = User.objects.filter(pk=user_pk, is_active=True).first() if user_pk else None
    if user is None or not isinstance(digest, str):
        raise VerificationError("This link belongs to an account that no longer exists.")
    if not constant_time_compare(digest, _address_digest(user.email)):
        raise VerificationError(
            "This link was sent to an email address that is no longer on the account. "
            "Use the newest link, or ask for one from your profile."
        )
    return user


def verify_email(*, token: str) -> User:
    """Mark the address a verification link was sent to as proven (see the check above)."""
    user = check_verification_token(token=token)
    mark_email_verified(user=user)
    return user


def mark_email_verified(*, user: User) -> None:
    """Record that the user's current address is proven (kept if it already was)."""
    if user.email_verified_at is not None:
        return
    now = timezone.now()
    # Only for the address we checked: a change saved meanwhile stays unverified.
    updated = User.objects.filter(
        pk=user.pk, email=user.email, email_verified_at__isnull=True
    ).update(email_verified_at=now)
    if updated:
        user.email_verified_at = now
