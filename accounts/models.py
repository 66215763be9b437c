from __future__ import annotations

import functools
import zoneinfo
from functools import cached_property
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_noop, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token, TokenProxy

PATIENTS = "Patients"
DOCTORS = "Doctors"
# What every page shows in place of a person who deleted their account.
DELETED_USER = gettext_noop("deleted user")  # shown translated (display_name); stored as is


def validate_timezone(value: str) -> None:
    if value and value not in available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone."), params={"value": value}, code="invalid"
        )


def validate_language(value: str) -> None:
    # Checked against the setting, not model choices: a new language needs no migration.
    if value and value not in dict(settings.LANGUAGES):
        raise ValidationError(
            _("“%(value)s” is not a language Painmap speaks."),
            params={"value": value},
            code="invalid",
        )


@functools.cache
def available_timezones() -> frozenset[str]:
    """The zone names (~600). Read once per process: zoneinfo opens every file of the time
    zone database to list them, which cost the profile page ~1200 file opens per request."""
    return frozenset(zoneinfo.available_timezones())


class UserManager(DjangoUserManager):
    """Every user made through the manager — the web form, the API, `createsuperuser` — joins
    Patients. Admins turn a user into a doctor in the admin."""

    def _create_user(self, username: str, email: str | None, password: str | None, **extra: Any):
        with transaction.atomic(using=self._db):
            user = super()._create_user(username, email, password, **extra)
            user.groups.add(Group.objects.get_or_create(name=PATIENTS)[0])
        return user

    async def _acreate_user(self, username: str, email: str | None, password: str | None, **extra):
        return await sync_to_async(self._create_user)(username, email, password, **extra)

    def with_roles(self) -> models.QuerySet[User]:
        """Users with their group names loaded in the same query (`group_names`, hence
        `is_doctor`, `is_patient` and `role`, then cost nothing): the signed-in user of every
        page, and the person a page is about."""
        memberships = User.groups.through.objects.filter(user=OuterRef("pk"))
        names = (
            memberships.order_by()
            .values("user")
            .annotate(names=StringAgg("group__name", delimiter=Value("\n")))
            .values("names")
        )
        # A user in no group gets NULL: an empty string marks "loaded, none".
        return self.annotate(
            _group_names=Coalesce(Subquery(names), Value(""), output_field=models.TextField())
        )

    def with_verified_email(self) -> models.QuerySet[User]:
        """Users whose address is proven: the only ones Painmap sends email to (the
        verification and password-reset emails aside, which prove the address)."""
        return self.filter(email_verified_at__isnull=False).exclude(email="")


class User(AbstractUser):
    email = models.EmailField(_("email address"))
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        validators=[validate_timezone],
        help_text=_("Times are shown in this zone. Empty: the site's time zone."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        default="",
        validators=[validate_language],
        help_text=_("Pages and emails are in this language. Empty: the browser's language."),
    )
    digest_emails = models.BooleanField(
        _("weekly digest email"),
        default=True,
        help_text=_("A short weekly email with a link to your digest (never any health details)."),
    )
    # Set when the person deleted their account: the row stays, emptied, as a tombstone so that
    # what others keep (their messages to this person, ended links, the access log) still
    # points somewhere and reads "deleted user". See accounts.services.delete_account.
    deleted_at = models.DateTimeField("deleted", null=True, blank=True, editable=False)
    email_verified_at = models.DateTimeField(
        "email verified",
        null=True,
        blank=True,
        help_text="When the owner proved this address by following a link sent to it. Empty: "
        "not verified, and Painmap sends it nothing but verification and reset emails.",
    )
    # Raised by "sign out everywhere" (accounts.services.end_credentials): every web session
    # carries a hash of it (see _get_session_auth_hash), so they all stop working at once.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("A user with that email address already exists."),
            ),
        ]

    @cached_property
    def group_names(self) -> frozenset[str]:
        # Loaded with the user by `User.objects.with_roles()`: used once, then forgotten, so
        # that a role change (which drops this cache) reads the groups again.
        loaded = self.__dict__.pop("_group_names", None)
        if loaded is not None:
            return frozenset(name for name in loaded.split("\n") if name)
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def is_doctor(self) -> bool:
        return DOCTORS in self.group_names

    @property
    def is_patient(self) -> bool:
        return PATIENTS in self.group_names

    @property
    def role(self) -> str:
        """What the header shows: "Doctor", "Patient" (or "No role" for a user in neither group)."""
        if self.is_deleted:
            return "Account deleted"
        if self.is_doctor:
            return "Doctor"
        if self.is_patient:
            return "Patient"
        return "No role"

    @property
    def role_label(self) -> str:
        """The role as the page shows it, in the active language (`role` stays English: the
        export and the API carry it as a machine value)."""
        return {
            "Account deleted": pgettext("role", "Account deleted"),
            "Doctor": pgettext("role", "Doctor"),
            "Patient": pgettext("role", "Patient"),
            "No role": pgettext("role", "No role"),
        }[self.role]

    def display_name(self) -> str:
        if self.is_deleted:
            return gettext(DELETED_USER)
        return self.get_full_name() or self.username

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        """The zone this person's times are shown in, wherever they are shown: their chosen zone,
        else the site's. The one rule: pages, exports, the API and emails all ask here, and a
        doctor reading a patient's diary sees it in the PATIENT's zone (the patient's day is
        what matters clinically), labelled as such."""
        try:
            return zoneinfo.ZoneInfo(self.timezone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            # A zone removed from the system's tz database since it was chosen.
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password), with the session epoch mixed in.

        Django already ends every session whose hash no longer matches (a password change);
        bumping the epoch does the same without one. Epoch 0 keeps Django's own hash, so the
        sessions that existed before the epoch did stay valid.
        """
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    """Whether another user already has this email, ignoring case."""
    users = User.objects.filter(email__iexact=email.strip())
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()


class CareLinkQuerySet(models.QuerySet["CareLink"]):
    def open(self) -> CareLinkQuerySet:
        return self.filter(status__in=CareLink.OPEN_STATUSES)

    def active(self) -> CareLinkQuerySet:
        return self.filter(status=CareLink.Status.ACTIVE)

    def involving(self, user: User) -> CareLinkQuerySet:
        return self.filter(models.Q(patient=user) | models.Q(doctor=user))

    def between(self, one: User, other: User) -> CareLinkQuerySet:
        return self.filter(
            models.Q(patient=one, doctor=other) | models.Q(patient=other, doctor=one)
        )


class CareLink(models.Model):
    """A patient's consent that a doctor works with them: requested, then answered, then ended."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("care link", "Pending")
        ACTIVE = "active", pgettext_lazy("care link", "Active")
        DECLINED = "declined", pgettext_lazy("care link", "Declined")
        ENDED = "ended", pgettext_lazy("care link", "Ended")

    OPEN_STATUSES = (Status.PENDING, Status.ACTIVE)

    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="doctor_links")
    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="patient_links")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created = models.DateTimeField(auto_now_add=True)
    responded = models.DateTimeField(null=True, blank=True)
    ended = models.DateTimeField(null=True, blank=True)

    objects = CareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "doctor"],
                condition=models.Q(status__in=["pending", "active"]),
                name="carelink_one_open_per_pair",
                violation_error_message=_("These two already have a pending or active link."),
            ),
            models.CheckConstraint(
                condition=~models.Q(patient=models.F("doctor")),
                name="carelink_two_people",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "active", "declined", "ended"]),
                name="carelink_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.doctor} ({self.status})"


# How an admin's read is told apart in the access log: "administrator: notes".
ADMIN_READ_PREFIX = "administrator: "

# What a read was of (`DiaryAccess.what`, stored in English: the export carries it as is), as
# the access log page shows it. A value not listed here is shown as stored.
READ_LABELS = {
    "patient list": pgettext_lazy("access log", "patient list"),
    "diary page": pgettext_lazy("access log", "diary page"),
    "digest": pgettext_lazy("access log", "digest"),
    "brief": pgettext_lazy("access log", "brief"),
    "pain entries": pgettext_lazy("access log", "pain entries"),
    "notes": pgettext_lazy("access log", "notes"),
    "chat messages": pgettext_lazy("access log", "chat messages"),
    "pain entries (CSV)": pgettext_lazy("access log", "pain entries (CSV)"),
    "notes (CSV)": pgettext_lazy("access log", "notes (CSV)"),
    "FHIR export": pgettext_lazy("access log", "FHIR export"),
    "pain entries (API)": pgettext_lazy("access log", "pain entries (API)"),
    "shared notes (API)": pgettext_lazy("access log", "shared notes (API)"),
    "digest (API)": pgettext_lazy("access log", "digest (API)"),
    "medications (API)": pgettext_lazy("access log", "medications (API)"),
    "medication doses (API)": pgettext_lazy("access log", "medication doses (API)"),
    "weekly check-ins (API)": pgettext_lazy("access log", "weekly check-ins (API)"),
}


class DiaryAccess(models.Model):
    """One look at a patient's diary data by someone else: who, whose, what, when."""

    viewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="diary_reads")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="diary_readers")
    what = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("diary access")
        verbose_name_plural = _("diary access log")
        indexes = [models.Index(fields=["patient", "-at"], name="diaryaccess_patient_at")]

    def __str__(self) -> str:
        return f"{self.viewer} read {self.patient}'s {self.what}"

    @property
    def by_administrator(self) -> bool:
        """A read in the admin (accounts.access.record_admin_reads), not through a care link."""
        return self.what.startswith(ADMIN_READ_PREFIX)

    @property
    def what_read(self) -> str:
        return self.what.removeprefix(ADMIN_READ_PREFIX)

    @property
    def what_label(self) -> str:
        """`what_read` in the page's language (READ_LABELS)."""
        what = self.what_read
        return str(READ_LABELS.get(what, what))


# A token's first characters: enough for an admin to tell two apart, useless to sign in with.
TOKEN_PREFIX_LENGTH = 6


class ApiToken(TokenProxy):
    """The admin's view of API tokens: the same rows as DRF's, but never shown in full.

    DRF's own Token prints its key (`str(token)`), and the admin puts `str(obj)` in titles,
    breadcrumbs, the delete confirmation and the history; this proxy prints a prefix instead.
    """

    class Meta:
        proxy = True
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"{self.key_prefix} ({self.user})"

    @property
    def key_prefix(self) -> str:
        return f"{self.key[:TOKEN_PREFIX_LENGTH]}…"


class TokenUse(models.Model):
    """When an API token was last used, to let idle tokens expire (TOKEN_IDLE_DAYS).

    A row of its own beside rest_framework.authtoken's Token (which other code and the API
    contract use as it is); written at most once per TOKEN_USE_RESOLUTION, not per request.
    A token without a row counts as used when it was created.
    """

    token = models.OneToOneField(
        Token, on_delete=models.CASCADE, primary_key=True, related_name="use"
    )
    last_used = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of user {self.token.user_id} last used {self.last_used:%Y-%m-%d %H:%M}"
