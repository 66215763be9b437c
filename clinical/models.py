"""Medications, doses, the weekly PEG check-in and the patient's clinical preferences.

This app sits below the diary: it may read diary rows (a dose can point at a pain entry), the
diary never imports it (the diary page shows its panels through one template tag).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diary.models import validate_not_in_future

# Relief is asked on 0-10, not as none/some/a lot: it is the same scale as the diary's pain
# intensity, so the patient already knows it, and it is the numeric rating doctors use for
# relief (the Brief Pain Inventory's "how much relief have treatments provided" item is
# 0-100 % in steps of 10, i.e. eleven points). Three words would lose the difference between
# "took the edge off" and "gone" that decides whether a rescue drug is worth keeping.
RELIEF_MIN = 0
RELIEF_MAX = 10
# Each PEG item is a 0-10 numeric rating.
PEG_MIN = 0
PEG_MAX = 10
DOSE_MAX = Decimal("99999.99")


class MedicationQuerySet(models.QuerySet["Medication"]):
    def for_user(self, user: settings.AUTH_USER_MODEL) -> MedicationQuerySet:
        return self.filter(patient=user)

    def active(self) -> MedicationQuerySet:
        return self.filter(active=True)

    def rescue(self) -> MedicationQuerySet:
        return self.filter(kind=Medication.Kind.RESCUE)


class Medication(models.Model):
    """A medication the patient takes: preventive (on a schedule) or rescue (as needed).

    Stopping keeps the row (and its doses) for the history; deleting removes both.
    """

    class Kind(models.TextChoices):
        PREVENTIVE = "preventive", _("Preventive (taken on a schedule)")
        RESCUE = "rescue", _("Rescue (taken as needed)")

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="medications"
    )
    name = models.CharField(max_length=100, validators=[ProhibitNullCharactersValidator()])
    usual_dose = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(DOSE_MAX)],
    )
    unit = models.CharField(
        max_length=16, default="mg", validators=[ProhibitNullCharactersValidator()]
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RESCUE)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    stopped = models.DateTimeField(null=True, blank=True)

    objects = MedicationQuerySet.as_manager()

    class Meta:
        ordering = ["-active", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(usual_dose__gt=0),
                name="medication_usual_dose_positive",
                violation_error_message=_("The dose must be more than 0."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["preventive", "rescue"]),
                name="medication_kind_valid",
                violation_error_message=_("Unknown kind of medication."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.usual_dose.normalize():f} {self.unit}"


class DoseQuerySet(models.QuerySet["DoseTaken"]):
    def for_user(self, user: settings.AUTH_USER_MODEL) -> DoseQuerySet:
        return self.filter(medication__patient=user)

    def awaiting_relief(self, now: datetime) -> DoseQuerySet:
        """Doses old enough to ask "did it help?" about, not yet answered nor dismissed.

        A dose more than a day past the question is not asked about any more: relief is
        remembered for hours, not days, and a stale question would only nag.
        """
        after = timedelta(seconds=settings.RELIEF_ASK_AFTER)
        return self.filter(
            relief__isnull=True,
            relief_asked=False,
            taken_at__lte=now - after,
            taken_at__gte=now - after - timedelta(days=1),
        )


class DoseTaken(models.Model):
    """One dose taken at a time, with the relief the patient reported afterwards."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="doses")
    taken_at = models.DateTimeField(default=timezone.now, validators=[validate_not_in_future])
    dose = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(DOSE_MAX)],
    )
    # The pain entry that made the patient take it (their own: the service checks).
    entry = models.ForeignKey(
        "diary.PainEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="doses"
    )
    relief = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(RELIEF_MIN), MaxValueValidator(RELIEF_MAX)],
    )
    # Set once the diary's "did it help?" was answered or dismissed: it is asked only once.
    relief_asked = models.BooleanField(default=False)

    objects = DoseQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("dose taken")
        verbose_name_plural = _("doses taken")
        indexes = [models.Index(fields=["medication", "-taken_at"], name="dose_medication_taken")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dose__gt=0),
                name="dose_positive",
                violation_error_message=_("The dose must be more than 0."),
            ),
            models.CheckConstraint(
                condition=models.Q(relief__isnull=True)
                | models.Q(relief__gte=RELIEF_MIN, relief__lte=RELIEF_MAX),
                name="dose_relief_0_10",
                violation_error_message=_("Relief must be between 0 and 10."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication.name} {self.dose.normalize():f} at {self.taken_at:%Y-%m-%d %H:%M}"


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


class CheckIn(models.Model):
    """A weekly PEG-3 check-in: three 0-10 items and their mean.

    Items and codes (LOINC panel 91148-7 "Pain intensity, Enjoyment of life, General activity
    [PEG]"): see clinical.peg, where the wording and codes are kept with their sources.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    # The Monday of the ISO week, in the patient's zone: one check-in per patient per week.
    week = models.DateField()
    average = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(PEG_MIN), MaxValueValidator(PEG_MAX)]
    )
    enjoyment = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(PEG_MIN), MaxValueValidator(PEG_MAX)]
    )
    activity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(PEG_MIN), MaxValueValidator(PEG_MAX)]
    )
    score = models.DecimalField(max_digits=4, decimal_places=2)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "week"], name="checkin_one_per_week"),
            models.CheckConstraint(
                condition=models.Q(
                    average__gte=PEG_MIN,
                    average__lte=PEG_MAX,
                    enjoyment__gte=PEG_MIN,
                    enjoyment__lte=PEG_MAX,
                    activity__gte=PEG_MIN,
                    activity__lte=PEG_MAX,
                ),
                name="checkin_items_0_10",
                violation_error_message=_("Each answer must be between 0 and 10."),
            ),
        ]

    def __str__(self) -> str:
        return f"PEG {self.score} (week of {self.week})"


class Preferences(models.Model):
    """A patient's clinical settings: the check-in day and reminders (times in their zone)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinical_preferences"
    )
    checkin_weekday = models.PositiveSmallIntegerField(
        _("weekly check-in day"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    daily_reminder = models.BooleanField(
        _("remind me daily when I recorded nothing"),
        default=False,
    )
    daily_reminder_time = models.TimeField(_("at"), default=time(20, 0))
    checkin_reminder = models.BooleanField(_("remind me of the weekly check-in"), default=False)
    chat_email = models.BooleanField(
        _("email me when chat messages wait unread for a while"), default=True
    )

    class Meta:
        verbose_name_plural = _("preferences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(checkin_weekday__gte=0, checkin_weekday__lte=6),
                name="preferences_weekday_0_6",
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class ReminderSent(models.Model):
    """A reminder that went out, so that no run of `send_reminders` sends it twice.

    `key` names the occasion: the patient's local date for the daily reminder, the Monday of
    the week for the check-in, "<sender id>:<first unread message id>" for unread chat (a new
    email only once the conversation was read and new messages wait).
    """

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily diary reminder")
        CHECKIN = "checkin", _("Weekly check-in reminder")
        UNREAD = "unread", _("Unread chat messages")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders_sent"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="reminder_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} to {self.user_id}"
