"""Writes to accounts: registration, roles, API tokens, email verification."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from accounts import throttling
from accounts.authentication_cache import forget_users
from accounts.models import DOCTORS, PATIENTS, CareLink, DiaryAccess, TokenUse, User
from accounts.sockets import ACCESS_CHANGED, CREDENTIALS_ENDED, close_sockets
from core.i18n import language_of
from diary.models import Note, PainEntry
from messaging.services import delete_sent_messages

logger = logging.getLogger(__name__)

ROLE_GROUPS = {"doctor": DOCTORS, "patient": PATIENTS}


USERNAME_TAKEN = _("A user with that username already exists.")


class UsernameTaken(Exception):
    """Someone else registered the same username between the caller's check and the insert."""


def register_user(*, username: str, email: str, password: str, language: str = "") -> User:
    """Create a user (who joins Patients). Inputs are validated by the caller's form/serializer;
    the unique index settles a race between two sign-ups of one name (`UsernameTaken`). The
    language is the one the sign-up page was in, which emails use until the profile says else."""
    try:
        return User.objects.create_user(
            username=username, email=email.strip(), password=password, language=language
        )
    except IntegrityError as exc:
        if User.objects.filter(username=User.normalize_username(username)).exists():
            raise UsernameTaken(str(USERNAME_TAKEN)) from exc
        raise


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
    """Delete the user's token; its cache entry becomes a tombstone (the delete signal's
    forget_token), in this process and, with Redis, in every other one."""
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
        raise LinkError(gettext("Only patients can ask a doctor for a link."), 403)
    if not doctor.is_doctor or not doctor.is_active:
        raise LinkError(gettext("%(username)s is not a doctor.") % {"username": doctor.username})
    if doctor.pk == patient.pk:
        raise LinkError(gettext("You cannot link with yourself."))
    allowed_from = declined_until(patient=patient, doctors=[doctor]).get(doctor.pk)
    if allowed_from is not None:
        raise LinkCooldownError(doctor=doctor, allowed_from=allowed_from)
    try:
        with transaction.atomic():
            return CareLink.objects.create(patient=patient, doctor=doctor)
    except IntegrityError as exc:
        raise LinkError(
            gettext("You already have a pending or active link with %(username)s.")
            % {"username": doctor.username}
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
        raise LinkError(gettext("Link not found"), 404)
    if status not in CareLink.Status.values:
        raise LinkError(gettext("Unknown status %(status)r.") % {"status": status})
    if (link.status, status) not in allowed:
        raise LinkError(
            gettext("You cannot change a %(old)s link to %(new)s.")
            % {
                "old": CareLink.Status(link.status).label.lower(),
                "new": CareLink.Status(status).label.lower(),
            },
            403,
        )
    now = timezone.now()
    stamp = {"ended": now} if status == CareLink.Status.ENDED else {"responded": now}
    changed = CareLink.objects.filter(pk=link.pk, status=link.status).update(status=status, **stamp)
    if not changed:
        link.refresh_from_db()
        raise LinkError(
            gettext("This link is %(status)s now; nothing was changed.")
            % {"status": CareLink.Status(link.status).label.lower()},
            409,
        )
    if (link.status, status) == (CareLink.Status.ACTIVE, CareLink.Status.ENDED):
        _close_pair_sockets(link.patient_id, link.doctor_id)
    link.refresh_from_db()
    return link


class LinkCooldownError(LinkError):
    """A request to a doctor who declined this patient less than the cooldown ago: a 429 with
    Retry-After, so that a declined request cannot be repeated at once, again and again."""

    def __init__(self, *, doctor: User, allowed_from: datetime) -> None:
        when = date_format(
            timezone.localtime(allowed_from), pgettext("date format", "j M Y, H:i T")
        )
        super().__init__(
            gettext("%(username)s declined your request recently. You can ask again from %(when)s.")
            % {"username": doctor.username, "when": when},
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


class PasswordRefused(Exception):
    """The password that confirms a destructive step was wrong (or too many were tried);
    `retry_after` is set when the limit is reached."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


WRONG_PASSWORD = _("Your password was entered incorrectly.")


def confirm_password(*, user: User, password: str) -> None:
    """Check the password that confirms deleting an account; PasswordRefused if it is wrong.

    A stolen token or session must not become a way to guess the password without limit, so
    a wrong password counts against the same per-username limit as a failed sign-in.
    """
    limiter = throttling.login_failures()
    key = f"confirm:{user.username.lower()}"
    # Counted atomically before the check, like a sign-in: parallel guesses cannot overrun it.
    if (wait := limiter.hit(key)) is not None:
        raise PasswordRefused(throttling.too_many_message(wait), retry_after=wait)
    if not user.check_password(password):
        raise PasswordRefused(str(WRONG_PASSWORD))
    # As a sign-in does: and the username, free again after the deletion, starts clean.
    limiter.reset(key)


def _end_sessions(user: User) -> int:
    """Delete every stored session signed in as `user`; returns how many.

    Database sessions keep the user id inside their signed, encoded data, so there is no column
    to filter on: each row is decoded (one pass over the table, read in chunks). Engines that
    cannot be listed (cache, signed cookies) are left alone: their sessions die anyway, since
    the account's password hash, which every session is checked against, no longer exists.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return 0
    model = store.get_model_class()
    decoder = store()
    user_id = str(user.pk)
    doomed = [
        row.session_key
        for row in model.objects.only("session_key", "session_data").iterator(chunk_size=2000)
        if str(decoder.decode(row.session_data).get(SESSION_KEY)) == user_id
    ]
    for start in range(0, len(doomed), 500):  # SQLite allows a limited number of parameters
        model.objects.filter(session_key__in=doomed[start : start + 500]).delete()
    if prefix := getattr(store, "cache_key_prefix", None):  # cached sessions: their copies too
        caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in doomed])
    return len(doomed)


def delete_account(*, user: User) -> User:
    """Delete a person's account: their data goes, a nameless tombstone row stays.

    Gone: pain entries, notes, the messages they sent, the access-log rows about their diary,
    their API token and every session. Their open care links end (the peer sees an ended link
    with "deleted user"; a doctor's patients keep their diaries). Kept, with "deleted user" in
    place of the person: messages others sent them (the sender's own words), reads they made of
    others' diaries (the patient's right to that trace), ended links and admin log entries.
    The row itself stays so those foreign keys hold; it keeps no name, email, password, group,
    permission or preference, cannot sign in, and its username is random, so the old one is
    free again. All of it in one transaction; deleting twice changes nothing more.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_deleted:
            return user
        now = timezone.now()
        PainEntry.objects.filter(owner=user).delete()
        Note.objects.filter(owner=user).delete()
        delete_sent_messages(sender=user)
        DiaryAccess.objects.filter(patient=user).delete()
        # The token, every session (the rows too, not only their validity) and every socket
        # (4401) end; then the open links, which closes the peers' chats with this person.
        end_credentials(user=user, reason="account-deleted")
        _end_sessions(user)
        end_links(links=CareLink.objects.involving(user))
        user.groups.clear()
        user.user_permissions.clear()
        user.username = f"deleted-{secrets.token_hex(8)}"
        user.first_name = user.last_name = user.timezone = ""
        # Unique ignoring case and never a real address: ".invalid" is reserved (RFC 2606), and
        # forms refuse a domain without a dot, so nobody can register it.
        user.email = f"deleted-{user.pk}@invalid"
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.digest_emails = False
        user.last_login = None
        user.deleted_at = now
        user.email_verified_at = None
        user.save()
        user.__dict__.pop("group_names", None)
    return user


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
    with translation.override(language_of(user)):  # the recipient's language, not the page's
        subject = render_to_string("accounts/email_verification_subject.txt", context)
        body = render_to_string("accounts/email_verification_email.txt", context)
    message = mail.EmailMessage(" ".join(subject.split()), body, to=[user.email])
    try:
        message.send()
    except Exception:
        logger.exception("Failed to send the verification email to user %s", user.pk)
        return False
    return True


def reset_link_lifetime() -> str:
    """How long a password-reset link works ("3 days"), in the active language."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), now)


def request_verification_email(*, user: User, site: str) -> bool:
    """Send a fresh verification link unless this account asked for too many lately.

    Each link may go to an address nobody has proven (an email change sends one too), so the
    count is per account: nobody can use Painmap to flood someone else's mailbox. Raises
    EmailThrottled; returns whether the email went out.
    """
    limiter = throttling.verification_emails()
    key = str(user.pk)
    if (wait := limiter.hit(key)) is not None:
        raise EmailThrottled(wait)
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
            gettext("This link has expired. Sign in and ask for a new one from your profile.")
        ) from exc
    except signing.BadSignature as exc:
        raise VerificationError(
            gettext(
                "This link is not valid. Check that you copied all of it, or ask for a new one "
                "from your profile."
            )
        ) from exc
    user_pk = value.get("user") if isinstance(value, dict) else None
    digest = value.get("email") if isinstance(value, dict) else None
    user = User.objects.filter(pk=user_pk, is_active=True).first() if user_pk else None
    if user is None or not isinstance(digest, str):
        raise VerificationError(gettext("This link belongs to an account that no longer exists."))
    if not constant_time_compare(digest, _address_digest(user.email)):
        raise VerificationError(
            gettext(
                "This link was sent to an email address that is no longer on the account. "
                "Use the newest link, or ask for one from your profile."
            )
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
        forget_users([user.pk])  # the API's user, cached with its token, says so too


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


# Who a token belongs to is resolved (and cached) by accounts.authentication_cache.resolve_token,
# for DRF and the sockets alike. Every token that ends here is deleted, and a deleted token is
# forgotten by the cache through the model signal (accounts.apps), whatever deleted it.


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
        forget_users([user.pk])  # an update() sends no signal
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
    for _pk, patient_id, doctor_id, status in rows:
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
