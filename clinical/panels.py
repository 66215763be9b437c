"""What the diary page shows from this app: one-tap rescue doses, "did it help?" and the
weekly check-in card. The diary includes it through one template tag ({% clinical_panels %})."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    Exists,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from accounts.models import User
from clinical import services
from clinical.forms import CheckInForm
from clinical.models import RELIEF_MAX, RELIEF_MIN, CheckIn, DoseTaken, Medication, Preferences
from diary.digest import NOTE_COLUMNS, user_timezone
from diary.models import Note


def checkin_due(user: User, now: datetime | None = None) -> bool:
    """Whether the diary shows the check-in card: from the patient's chosen day to the end of
    that week (a missed day is caught up later in the week), until it is done."""
    now = now or timezone.now()
    today = now.astimezone(user_timezone(user)).date()
    if today.weekday() < services.preferences_for(user).checkin_weekday:
        return False
    return not CheckIn.objects.filter(patient=user, week=services.current_week(user, now)).exists()


def _panel_state(user: User, now: datetime) -> tuple[bool, DoseTaken | None]:
    """Whether the check-in card is due, and the dose to ask "did it help?" about (the latest
    one awaiting it), in one query of scalar subqueries on the user's row (the panels' four
    questions were four queries)."""
    pending = DoseTaken.objects.for_user(user).awaiting_relief(now).order_by("-taken_at", "-pk")

    def latest(field: str) -> Subquery:
        return Subquery(pending.values(field)[:1])

    fields = {
        "weekday": Subquery(Preferences.objects.filter(user=user).values("checkin_weekday")),
        "checked_in": Exists(
            CheckIn.objects.filter(patient=user, week=services.current_week(user, now))
        ),
        "dose_id": latest("pk"),
        "dose": latest("dose"),
        "taken_at": latest("taken_at"),
        "medication_id": latest("medication_id"),
        "medication_name": latest("medication__name"),
        "medication_unit": latest("medication__unit"),
    }
    row = User.objects.filter(pk=user.pk).annotate(**fields).values(*fields).get()
    weekday = row["weekday"]
    if weekday is None:  # never saved their preferences: the default day
        weekday = Preferences._meta.get_field("checkin_weekday").default
    today = now.astimezone(user_timezone(user)).date()
    due = today.weekday() >= weekday and not row["checked_in"]
    dose = None
    if row["dose_id"] is not None:
        medication = Medication(
            pk=row["medication_id"],
            patient=user,
            name=row["medication_name"],
            unit=row["medication_unit"],
        )
        dose = DoseTaken(
            pk=row["dose_id"], medication=medication, dose=row["dose"], taken_at=row["taken_at"]
        )
    return due, dose


def diary_panels_context(user: User, **extra: Any) -> dict[str, Any]:
    """Two queries, whatever the data: the panels' state (above) and the rescue medications."""
    due, pending = _panel_state(user, timezone.now())
    return {
        "rescue_medications": list(Medication.objects.for_user(user).active().rescue()),
        "pending_relief": pending,
        "checkin_due": due,
        "relief_scale": range(RELIEF_MIN, RELIEF_MAX + 1),
        "relief_ask_hours": settings.RELIEF_ASK_AFTER // 3600,
        "checkin_form": extra.pop("checkin_form", None) or (CheckInForm() if due else None),
        **extra,
    }


# The doctor's medication panel looks at the last four weeks: recent enough to be "now".
RECENT_DOSES = timedelta(days=28)


def notes_and_medications(
    patient: User, notes: QuerySet[Note], now: datetime | None = None
) -> tuple[list[Note], dict[str, Any]]:
    """A doctor's view of a patient's diary: `notes` (the ones the doctor may read, newest edit
    first) and what the patient takes: every medication (active first, then by name), each with
    its doses and the relief reported in the last four weeks, and rescue doses per week. One
    query: the two as one UNION ALL, each row holding its own columns and NULL in the other's,
    ordered as each model orders itself (in SQL: the database's collation orders the names)."""
    since = (now or timezone.now()) - RECENT_DOSES
    recent = Q(doses__taken_at__gte=since)
    field = Medication._meta.get_field
    note_nulls = {
        f"note_{name}": Value(None, output_field=Note._meta.get_field(name))
        for name in NOTE_COLUMNS
    }
    medication_nulls = {
        **{f"medication_{name}": Value(None, output_field=field(name)) for name in MEDICATION},
        "no_recent_doses": Value(None, output_field=IntegerField()),
        "no_relief_answers": Value(None, output_field=IntegerField()),
        "no_relief_mean": Value(None, output_field=FloatField()),
    }
    medications = (
        Medication.objects.for_user(patient)
        .order_by()
        .annotate(
            recent_doses=Count("doses", filter=recent),
            relief_answers=Count("doses__relief", filter=recent),
            relief_mean=Avg("doses__relief", filter=recent),
            **note_nulls,
        )
        .values_list(*MEDICATION, "recent_doses", "relief_answers", "relief_mean", *note_nulls)
    )
    rows = medications.union(
        notes.order_by().annotate(**medication_nulls).values_list(*medication_nulls, *NOTE_COLUMNS),
        all=True,
    ).order_by("-active", "name", "id", "-note_last_modified", "-note_id")
    width = len(MEDICATION) + 3
    note_fields = ["id", "owner_id", *NOTE_COLUMNS[1:]]
    medication_list, note_list = [], []
    for row in rows:
        if row[0] is None:
            note_id, *values = row[width:]
            note_list.append(Note.from_db(notes.db, note_fields, [note_id, patient.pk, *values]))
            continue
        medication_id, *values = row[: len(MEDICATION)]
        medication = Medication.from_db(  # the values in the model's field order
            notes.db, ["id", "patient_id", *MEDICATION[1:]], [medication_id, patient.pk, *values]
        )
        medication.recent_doses, medication.relief_answers, medication.relief_mean = row[
            len(MEDICATION) : width
        ]
        medication_list.append(medication)
    return note_list, _summary(medication_list)


# What the doctor's medication panel shows of each medication.
MEDICATION = ("id", "name", "usual_dose", "unit", "kind", "active")


def _summary(medications: list[Medication]) -> dict[str, Any]:
    """What the doctor's medication panel shows (clinical/_medications_readonly.html)."""
    rescue = sum(m.recent_doses for m in medications if m.kind == Medication.Kind.RESCUE)
    return {
        "medications": medications,
        "rescue_doses": rescue,
        "rescue_per_week": round(rescue * 7 / RECENT_DOSES.days, 1),
        "recent_days": RECENT_DOSES.days,
    }
