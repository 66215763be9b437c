"""The digest's clinical section: rescue doses per week, pain around doses, the PEG trend; and
each patient's latest PEG for the doctor's patient list.

Numbers only describe what was recorded. Pain "before" and "after" a dose is the pain the
patient happened to record in those hours; nothing here says the medication did anything,
and the wording on the page must not either.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from statistics import fmean
from typing import Any

from django.db.models import DateField, DateTimeField, IntegerField, Value

from accounts.models import User
from clinical.models import CheckIn, DoseTaken, Medication, week_start
from clinical.peg import rose_meaningfully
from diary.digest import Period
from diary.models import PainEntry

# Around a dose: long enough to hold an entry or two on each side, short enough that the
# entries are about the same episode of pain.
AROUND = timedelta(hours=6)
# My patients looks at check-ins this recent: an older score says little about now.
RECENT_PEG = timedelta(days=90)


@dataclass(frozen=True)
class WeekRow:
    start: date
    rescue_doses: int
    peg: Decimal | None
    peg_change: Decimal | None
    peg_rose: bool


@dataclass(frozen=True)
class AroundDoses:
    doses: int  # rescue doses with entries both before and after
    doses_without: int  # rescue doses lacking entries on one side or both
    before_mean: float | None
    after_mean: float | None
    entries_before: int
    entries_after: int


@dataclass
class ClinicalDigest:
    weeks: list[WeekRow]
    rescue_doses: int
    around: AroundDoses
    relief_answers: int
    relief_mean: float | None
    has_data: bool = field(default=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "rescue_doses": self.rescue_doses,
            "weeks": [
                {
                    "week": row.start.isoformat(),
                    "rescue_doses": row.rescue_doses,
                    "peg": float(row.peg) if row.peg is not None else None,
                    "peg_change": float(row.peg_change) if row.peg_change is not None else None,
                    "peg_rose": row.peg_rose,
                }
                for row in self.weeks
            ],
        }


def _bounds(period: Period, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time.min, tzinfo=tz)
    return start, datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)


def around_doses(dose_times: list[datetime], entries: list[tuple[datetime, int]]) -> AroundDoses:
    """Mean recorded pain in the AROUND hours before vs after each dose that has entries on
    both sides: the mean of each dose's own before-mean (and after-mean), so a dose with many
    entries does not outweigh the others. An entry at the dose's exact time counts for
    neither side."""
    befores: list[float] = []
    afters: list[float] = []
    entries_before = entries_after = without = 0
    for taken in dose_times:
        before = [i for at, i in entries if taken - AROUND <= at < taken]
        after = [i for at, i in entries if taken < at <= taken + AROUND]
        if before and after:
            befores.append(fmean(before))
            afters.append(fmean(after))
            entries_before += len(before)
            entries_after += len(after)
        else:
            without += 1
    return AroundDoses(
        doses=len(befores),
        doses_without=without,
        before_mean=round(fmean(befores), 1) if befores else None,
        after_mean=round(fmean(afters), 1) if afters else None,
        entries_before=entries_before,
        entries_after=entries_after,
    )


# The check-ins read from before a period's first week: one earlier, for the first change.
CHECKIN_LOOKBACK = timedelta(days=7 * 8)


@dataclass(frozen=True)
class DoseRow:
    id: int
    taken_at: datetime
    relief: int | None
    medication_id: int
    name: str
    kind: str


def doses_and_checkins(
    patient: User,
    start: datetime,
    end: datetime,
    first_week: date,
    last_day: date,
    *,
    rescue_only: bool = True,
) -> tuple[list[DoseRow], list[tuple[date, Decimal]]]:
    """The doses taken from `start` to before `end` (rescue ones only, or all; newest first)
    and the check-ins from CHECKIN_LOOKBACK before `first_week` to `last_day` (by week), in one
    query: the two lists as one UNION ALL, each row holding its own columns and NULL in the
    other's."""
    score_field = CheckIn._meta.get_field("score")
    doses = DoseTaken.objects.filter(
        medication__patient=patient, taken_at__gte=start, taken_at__lt=end
    )
    if rescue_only:
        doses = doses.filter(medication__kind=Medication.Kind.RESCUE)
    doses = doses.annotate(
        week=Value(None, output_field=DateField()),
        score=Value(None, output_field=score_field),
    )
    medication_field = Medication._meta.get_field
    weeks = CheckIn.objects.filter(
        patient=patient, week__gte=first_week - CHECKIN_LOOKBACK, week__lte=last_day
    ).annotate(
        dose_id=Value(None, output_field=IntegerField()),
        taken_at=Value(None, output_field=DateTimeField()),
        relief=Value(None, output_field=IntegerField()),
        medication_id=Value(None, output_field=IntegerField()),
        medication_name=Value(None, output_field=medication_field("name")),
        medication_kind=Value(None, output_field=medication_field("kind")),
    )
    places = Decimal(1).scaleb(-score_field.decimal_places)
    dose_rows, checkins = [], []
    rows = (
        doses.order_by()
        .values_list(
            "id",
            "taken_at",
            "relief",
            "medication_id",
            "medication__name",
            "medication__kind",
            "week",
            "score",
        )
        .union(
            weeks.order_by().values_list(
                "dose_id",
                "taken_at",
                "relief",
                "medication_id",
                "medication_name",
                "medication_kind",
                "week",
                "score",
            ),
            all=True,
        )
    )
    for *dose, week, score in rows:
        if week is None:
            dose_rows.append(DoseRow(*dose))
        else:  # quantized as the column is (a UNION's column is no model field's on SQLite)
            checkins.append((week, Decimal(score).quantize(places)))
    dose_rows.sort(key=lambda row: (row.taken_at, row.id), reverse=True)
    checkins.sort()
    return dose_rows, checkins


def build_clinical_digest(
    *,
    patient: User,
    period: Period,
    tz: tzinfo,
    readings: list[tuple[datetime, int]] | None = None,
    rows: tuple[list[DoseRow], list[tuple[date, Decimal]]] | None = None,
) -> ClinicalDigest:
    """The section for one period, in the patient's days. 2 queries; 1 given `readings` (the
    digest's (recorded, intensity) of at least AROUND past the period's edges); none given
    `rows` too (`doses_and_checkins` of this period or a longer one, rescue doses or all: it
    keeps the period's rescue doses and its check-ins)."""
    start, end = _bounds(period, tz)
    first_week = week_start(period.start)
    if rows is None:
        rows = doses_and_checkins(patient, start, end, first_week, period.end)
    dose_rows, all_checkins = rows
    rescue = [
        (row.taken_at, row.relief)
        for row in dose_rows
        if row.kind == Medication.Kind.RESCUE and start <= row.taken_at < end
    ]
    checkins = [
        (week, score)
        for week, score in all_checkins
        if first_week - CHECKIN_LOOKBACK <= week <= period.end
    ]
    if readings is None:
        entries = list(
            PainEntry.objects.for_user(patient)
            .filter(date_recorded__gte=start - AROUND, date_recorded__lte=end + AROUND)
            .values_list("date_recorded", "intensity")
        )
    else:
        entries = [(at, i) for at, i in readings if start - AROUND <= at <= end + AROUND]

    per_week: dict[date, int] = defaultdict(int)
    for taken, _relief in rescue:
        per_week[week_start(taken.astimezone(tz).date())] += 1
    scores = dict(checkins)
    previous: Decimal | None = None
    for week, score in checkins:
        if week >= first_week:
            break
        previous = score
    weeks = []
    week = first_week
    while week <= period.end:
        score = scores.get(week)
        change = score - previous if score is not None and previous is not None else None
        weeks.append(
            WeekRow(week, per_week.get(week, 0), score, change, rose_meaningfully(previous, score))
        )
        if score is not None:
            previous = score
        week += timedelta(days=7)

    reliefs = [relief for _taken, relief in rescue if relief is not None]
    around = around_doses([taken for taken, _relief in rescue], entries)
    return ClinicalDigest(
        weeks=weeks,
        rescue_doses=len(rescue),
        around=around,
        relief_answers=len(reliefs),
        relief_mean=round(fmean(reliefs), 1) if reliefs else None,
        has_data=bool(rescue) or any(row.peg is not None for row in weeks),
    )


@dataclass(frozen=True)
class PegSummary:
    latest: Decimal | None
    week: date | None
    change: Decimal | None
    rose: bool


def latest_pegs(patient_ids: list[int], today: date) -> dict[int, PegSummary]:
    """Each patient's latest recent PEG score and its change from the one before (1 query)."""
    rows = (
        CheckIn.objects.filter(patient_id__in=patient_ids, week__gte=today - RECENT_PEG)
        .order_by("patient_id", "-week")
        .values_list("patient_id", "week", "score")
    )
    two: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for patient_id, week, score in rows:
        if len(two[patient_id]) < 2:
            two[patient_id].append((week, score))
    result = {}
    for patient_id in patient_ids:
        latest = two.get(patient_id, [])
        if not latest:
            result[patient_id] = PegSummary(None, None, None, False)
            continue
        week, score = latest[0]
        before = latest[1][1] if len(latest) > 1 else None
        change = score - before if before is not None else None
        result[patient_id] = PegSummary(score, week, change, rose_meaningfully(before, score))
    return result
