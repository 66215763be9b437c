"""What the diary page shows from this app: one-tap rescue doses, "did it help?" and the
weekly check-in card. The diary includes it through one template tag ({% clinical_panels %})."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Exists, Q, Subquery
from django.utils import timezone

from accounts.models import User
from clinical import services
from clinical.forms import CheckInForm
from clinical.models import RELIEF_MAX, RELIEF_MIN, CheckIn, DoseTaken, Medication, Preferences
from diary.digest import user_timezone


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


def medications_summary(patient: User, now: datetime | None = None) -> dict[str, Any]:
    """What a patient takes, for their doctor: every medication (active first), each with its
    doses and the relief reported in the last four weeks; rescue doses per week (1 query)."""
    since = (now or timezone.now()) - RECENT_DOSES
    recent = Q(doses__taken_at__gte=since)
    medications = list(
        Medication.objects.for_user(patient).annotate(
            recent_doses=Count("doses", filter=recent),
            relief_answers=Count("doses__relief", filter=recent),
            relief_mean=Avg("doses__relief", filter=recent),
        )
    )
    rescue = sum(m.recent_doses for m in medications if m.kind == Medication.Kind.RESCUE)
    return {
        "medications": medications,
        "rescue_doses": rescue,
        "rescue_per_week": round(rescue * 7 / RECENT_DOSES.days, 1),
        "recent_days": RECENT_DOSES.days,
    }
