"""Writes of the clinical app. Pages and the API both come through here.

Every function raises django.core.exceptions.ValidationError on bad input, and then nothing
is stored. The caller has already checked that the rows it passes belong to the user (its
queries are scoped); what a service checks itself is that a dose's pain entry is the same
patient's, because that link crosses two apps.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from clinical.models import CheckIn, DoseTaken, Medication, Preferences, week_start
from clinical.peg import peg_score
from diary.digest import user_timezone
from diary.models import PainEntry

MEDICATION_FIELDS = frozenset({"name", "usual_dose", "unit", "kind"})
DOSE_FIELDS = frozenset({"taken_at", "dose", "entry", "relief"})
PREFERENCE_FIELDS = frozenset(
    {"checkin_weekday", "daily_reminder", "daily_reminder_time", "checkin_reminder", "chat_email"}
)


def _check_unknown(changes: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")


# --- medications --------------------------------------------------------------------------------


def add_medication(
    *, patient: User, name: str, usual_dose: Decimal, unit: str = "mg", kind: str = "rescue"
) -> Medication:
    """Add a medication to the patient's list (active)."""
    medication = Medication(
        patient=patient, name=name.strip(), usual_dose=usual_dose, unit=unit.strip(), kind=kind
    )
    medication.full_clean(exclude=["patient"])
    medication.save()
    return medication


def update_medication(*, medication: Medication, **changes: Any) -> Medication:
    _check_unknown(changes, MEDICATION_FIELDS)
    for field, value in changes.items():
        setattr(medication, field, value.strip() if isinstance(value, str) else value)
    medication.full_clean(exclude=["patient"])
    medication.save()
    return medication


def set_medication_active(*, medication: Medication, active: bool) -> Medication:
    """Stop a medication (kept, with its doses, for the history) or take it up again."""
    medication.active = active
    medication.stopped = None if active else timezone.now()
    medication.save(update_fields=["active", "stopped"])
    return medication


def delete_medication(*, medication: Medication) -> None:
    """Remove a medication and every dose of it."""
    medication.delete()


# --- doses --------------------------------------------------------------------------------------


def _check_entry(patient: User, entry: PainEntry | None) -> None:
    if entry is not None and entry.owner_id != patient.pk:
        raise ValidationError({"entry": _("No such pain entry in your diary.")})


def take_dose(
    *,
    medication: Medication,
    taken_at: datetime | None = None,
    dose: Decimal | None = None,
    entry: PainEntry | None = None,
    relief: int | None = None,
) -> DoseTaken:
    """Record a dose of `medication` (now and the usual dose unless given).

    A dose recorded with its relief already known (back-dated, from the API) is not asked
    about again.
    """
    _check_entry(medication.patient, entry)
    taken = DoseTaken(
        medication=medication,
        taken_at=taken_at or timezone.now(),
        dose=dose if dose is not None else medication.usual_dose,
        entry=entry,
        relief=relief,
        relief_asked=relief is not None,
    )
    taken.full_clean(exclude=["medication", "entry"])
    taken.save()
    return taken


def update_dose(*, dose: DoseTaken, **changes: Any) -> DoseTaken:
    _check_unknown(changes, DOSE_FIELDS)
    if "entry" in changes:
        _check_entry(dose.medication.patient, changes["entry"])
    for field, value in changes.items():
        setattr(dose, field, value)
    if changes.get("relief") is not None:
        dose.relief_asked = True
    dose.full_clean(exclude=["medication", "entry"])
    dose.save()
    return dose


def answer_relief(*, dose: DoseTaken, relief: int | None) -> DoseTaken:
    """The patient's answer to "did it help?" (None: they dismissed the question)."""
    dose.relief = relief
    dose.relief_asked = True
    dose.full_clean(exclude=["medication", "entry"])
    dose.save(update_fields=["relief", "relief_asked"])
    return dose


def delete_dose(*, dose: DoseTaken) -> None:
    dose.delete()


# --- the PEG check-in ---------------------------------------------------------------------------


def current_week(patient: User, now: datetime | None = None) -> Any:
    """The Monday of this week in the patient's own zone."""
    return week_start((now or timezone.now()).astimezone(user_timezone(patient)).date())


def record_checkin(
    *, patient: User, average: int, enjoyment: int, activity: int, now: datetime | None = None
) -> CheckIn:
    """Store this week's PEG check-in; a second one in the same week is refused."""
    now = now or timezone.now()
    checkin = CheckIn(
        patient=patient,
        week=current_week(patient, now),
        average=average,
        enjoyment=enjoyment,
        activity=activity,
        answered_at=now,
    )
    for field in ("average", "enjoyment", "activity"):
        value = getattr(checkin, field)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError({field: _("A whole number from 0 to 10.")})
    checkin.score = peg_score(average, enjoyment, activity)
    checkin.full_clean(exclude=["patient"], validate_constraints=False)
    try:
        with transaction.atomic():
            checkin.save()
    except IntegrityError as exc:
        raise ValidationError(_("You already did this week's check-in."), code="duplicate") from exc
    return checkin


# --- preferences --------------------------------------------------------------------------------


def preferences_for(user: User) -> Preferences:
    """The user's preferences, defaults if they never saved any (nothing is written)."""
    try:
        return user.clinical_preferences
    except Preferences.DoesNotExist:
        return Preferences(user=user)


def save_preferences(*, user: User, **changes: Any) -> Preferences:
    _check_unknown(changes, PREFERENCE_FIELDS)
    preferences = preferences_for(user)
    for field, value in changes.items():
        setattr(preferences, field, value)
    preferences.full_clean(exclude=["user"])
    preferences.save()
    return preferences
