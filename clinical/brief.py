"""The doctor's 60-second brief: what changed since the last visit, on one page.

A period (the digest's, by default the last 30 days) beside the one just before it, of the same
length: the body heatmaps of both, the worst regions and how they moved, the PEG trend, rescue
doses per week and what the patient says helped, the top factors, the notes the patient shared
and the worst days. Four queries whatever the data (entries of both periods, shared notes,
doses, check-ins); every number only describes what was recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from statistics import fmean
from typing import Any

from accounts.models import User
from clinical.models import CheckIn, DoseTaken, Medication, week_start
from clinical.peg import rose_meaningfully
from diary.bodymap import map_views
from diary.digest import DayDigest, FactorDigest, Period, factor_digests
from diary.models import (
    INTENSITY_MAX,
    INTENSITY_MIN,
    BodyPart,
    Note,
    PainEntry,
    body_parts_by_pk,
)
from diary.views.digest import period_label

# A brief is read in a minute: the few rows that matter most, the digest has the rest.
TOP_REGIONS = 5
TOP_FACTORS = 3
WORST_DAYS = 3
# A region's mean that moved less than this between the periods is "about the same".
REGION_CHANGE = 0.5


def previous_period(period: Period) -> Period:
    """The period of the same length that ends the day before `period` starts."""
    return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


@dataclass(frozen=True)
class RegionRow:
    body_part: BodyPart
    count: int
    mean: float
    max: int
    count_before: int
    mean_before: float | None  # None: nothing recorded there in the period before

    @property
    def change(self) -> float | None:
        return None if self.mean_before is None else round(self.mean - self.mean_before, 1)

    @property
    def direction(self) -> str:
        if self.change is None:
            return "new"
        if self.change >= REGION_CHANGE:
            return "worse"
        if self.change <= -REGION_CHANGE:
            return "better"
        return "about the same"


@dataclass(frozen=True)
class PegRow:
    week: date
    score: Decimal
    change: Decimal | None  # from the check-in before it
    rose: bool  # up 1 point or more (clinical.peg.MEANINGFUL_RISE)


@dataclass(frozen=True)
class ReliefRow:
    """What the patient said about one medication's doses in the period."""

    name: str
    kind: str
    doses: int
    answers: int
    mean: float | None


@dataclass(frozen=True)
class PeriodFigures:
    entries: int
    days_with_entries: int
    mean: float | None
    peak: int | None
    rescue_doses: int
    days: int

    @property
    def rescue_per_week(self) -> float:
        return round(7 * self.rescue_doses / self.days, 1)


@dataclass
class Brief:
    patient: User
    period: Period
    before: Period
    now: PeriodFigures
    then: PeriodFigures
    regions: list[RegionRow]
    map_now: list[dict[str, Any]]
    map_before: list[dict[str, Any]]
    pegs: list[PegRow]
    relief: list[ReliefRow]
    factors: list[FactorDigest]
    notes: list[Note]
    worst_days: list[DayDigest]
    regions_more: int = 0
    factors_more: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing at all to read in either period: the page says so once."""
        doses = self.relief or self.now.rescue_doses or self.then.rescue_doses
        return not (self.has_entries or doses or self.pegs or self.notes)

    @property
    def has_entries(self) -> bool:
        return bool(self.now.entries or self.then.entries)

    @property
    def peg_latest(self) -> PegRow | None:
        return self.pegs[-1] if self.pegs else None

    @property
    def peg_before(self) -> PegRow | None:
        """The last check-in of the period before: what "since last visit" compares with."""
        earlier = [row for row in self.pegs if row.week < week_start(self.period.start)]
        return earlier[-1] if earlier else None

    @property
    def peg_rose(self) -> bool:
        """Up 1 point or more from the period before, or within the period (any week's rise)."""
        latest, before = self.peg_latest, self.peg_before
        if (
            latest is not None
            and before is not None
            and latest is not before
            and rose_meaningfully(before.score, latest.score)
        ):
            return True
        return any(row.rose for row in self.pegs if row.week >= week_start(self.period.start))


def _mean(values: list[int]) -> float | None:
    return round(fmean(values) + 0.0, 1) if values else None


def _figures(readings: list[tuple[date, int]], rescue: int, period: Period) -> PeriodFigures:
    values = [intensity for _, intensity in readings]
    return PeriodFigures(
        entries=len(values),
        days_with_entries=len({day for day, _ in readings}),
        mean=_mean(values),
        peak=max(values, default=None),
        rescue_doses=rescue,
        days=period.days,
    )


def _levels(by_part: dict[int, list[int]]) -> dict[int, int]:
    """Each part's level on the heatmap: its mean intensity, as the digest's map colours it."""
    return {part_id: round(fmean(values)) for part_id, values in by_part.items()}


def _heatmap(by_part: dict[int, list[int]]) -> list[dict[str, Any]]:
    """Both views of the body map coloured by each part's mean, each with what a screen reader
    says instead of the picture (the parts with pain, worst first)."""
    views = []
    for view in map_views(_levels(by_part)):
        coloured = sorted(
            (r for r in view.regions if r.level is not None), key=lambda r: (-r.level, r.label)
        )
        said = ", ".join(f"{r.label.lower()} {r.level}" for r in coloured) or "nothing recorded"
        views.append({"view": view, "summary": said})
    return views


def _changes(brief: Brief) -> list[str]:
    """The headline: a few plain sentences comparing the two periods."""
    now, then = brief.now, brief.then
    said = []
    if now.entries or then.entries:
        said.append(
            f"{now.entries} entr{'y' if now.entries == 1 else 'ies'} on "
            f"{now.days_with_entries} day{'' if now.days_with_entries == 1 else 's'} "
            f"(before: {then.entries} on {then.days_with_entries})."
        )
    if now.mean is not None and then.mean is not None:
        delta = round(now.mean - then.mean, 1)
        trend = "up" if delta > 0 else "down" if delta < 0 else "no change"
        sign = f" {delta:+.1f}" if delta else ""
        said.append(f"Mean pain {now.mean:.1f}, before {then.mean:.1f} ({trend}{sign}).")
    elif now.mean is not None:
        said.append(f"Mean pain {now.mean:.1f}; nothing recorded the period before.")
    worse = [row.body_part.label for row in brief.regions if row.direction == "worse"]
    if worse:
        said.append(f"Worse: {', '.join(label.lower() for label in worse)}.")
    if now.rescue_doses or then.rescue_doses:
        said.append(
            f"Rescue doses {now.rescue_per_week:.1f} a week (before {then.rescue_per_week:.1f})."
        )
    return said


def build_brief(*, patient: User, period: Period, tz: tzinfo) -> Brief:
    """The brief of `period` against the period before it, in the patient's days (4 queries)."""
    before = previous_period(period)
    start = datetime.combine(before.start, time.min, tzinfo=tz)
    middle = datetime.combine(period.start, time.min, tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)

    rows = (
        PainEntry.objects.for_user(patient)
        .filter(date_recorded__gte=start, date_recorded__lt=end)
        .order_by("date_recorded", "id")
        .values_list("body_part_id", "intensity", "date_recorded", "factors")
    )
    by_part_now: dict[int, list[int]] = defaultdict(list)
    by_part_then: dict[int, list[int]] = defaultdict(list)
    by_day: dict[date, list[int]] = defaultdict(list)
    readings_now: list[tuple[date, int]] = []
    readings_then: list[tuple[date, int]] = []
    with_factors: list[tuple[date, int, list[str]]] = []
    for part_id, intensity, recorded, factors in rows:
        day = recorded.astimezone(tz).date()
        if recorded >= middle:
            by_part_now[part_id].append(intensity)
            by_day[day].append(intensity)
            readings_now.append((day, intensity))
            with_factors.append((day, intensity, factors or []))
        else:
            by_part_then[part_id].append(intensity)
            readings_then.append((day, intensity))

    # Written or edited in the period: a list of questions for the visit is often kept and
    # updated, and its latest version is what the doctor should read.
    notes = list(
        patient.notes.filter(
            shared=True, last_modified__gte=middle, last_modified__lt=end
        ).order_by("-last_modified", "-id")
    )

    doses = list(
        DoseTaken.objects.filter(
            medication__patient=patient, taken_at__gte=start, taken_at__lt=end
        ).values_list("taken_at", "relief", "medication_id", "medication__name", "medication__kind")
    )
    rescue_now = rescue_then = 0
    per_medication: dict[int, list] = {}
    for taken, relief, medication_id, name, kind in doses:
        is_rescue = kind == Medication.Kind.RESCUE
        if taken < middle:
            rescue_then += is_rescue
            continue
        rescue_now += is_rescue
        row = per_medication.setdefault(medication_id, [name, kind, 0, []])
        row[2] += 1
        if relief is not None:
            row[3].append(relief)
    relief = [
        ReliefRow(name=name, kind=kind, doses=count, answers=len(answers), mean=_mean(answers))
        for name, kind, count, answers in per_medication.values()
    ]
    # What helped most first; medications without an answer last, by how often they were taken.
    relief.sort(key=lambda r: (r.mean is None, -(r.mean or 0), -r.doses, r.name.lower()))

    # One check-in before the earlier period too, so its first week has a change.
    checkins = list(
        CheckIn.objects.filter(
            patient=patient,
            week__gte=week_start(before.start) - timedelta(days=7 * 8),
            week__lte=period.end,
        )
        .order_by("week")
        .values_list("week", "score")
    )
    pegs = []
    previous: Decimal | None = None
    for week, score in checkins:
        if week >= week_start(before.start):
            change = score - previous if previous is not None else None
            pegs.append(PegRow(week, score, change, rose_meaningfully(previous, score)))
        previous = score

    parts = body_parts_by_pk()
    regions = [
        RegionRow(
            body_part=parts[part_id],
            count=len(values),
            mean=_mean(values) or 0.0,
            max=max(values),
            count_before=len(by_part_then.get(part_id, [])),
            mean_before=_mean(by_part_then.get(part_id, [])),
        )
        for part_id, values in by_part_now.items()
    ]
    regions.sort(key=lambda row: (-row.mean, -row.max, -row.count, row.body_part.pk))
    days = [
        DayDigest(date=day, count=len(values), max=max(values), mean=_mean(values))
        for day, values in by_day.items()
    ]
    days.sort(key=lambda day: (-(day.max or 0), -(day.mean or 0), day.date))
    factors = factor_digests(with_factors)

    brief = Brief(
        patient=patient,
        period=period,
        before=before,
        now=_figures(readings_now, rescue_now, period),
        then=_figures(readings_then, rescue_then, before),
        regions=regions[:TOP_REGIONS],
        regions_more=max(0, len(regions) - TOP_REGIONS),
        map_now=_heatmap(by_part_now),
        map_before=_heatmap(by_part_then),
        pegs=pegs,
        relief=relief,
        factors=factors[:TOP_FACTORS],
        factors_more=max(0, len(factors) - TOP_FACTORS),
        notes=notes,
        worst_days=days[:WORST_DAYS],
    )
    brief.changes = _changes(brief)
    return brief


def brief_context(brief: Brief) -> dict[str, Any]:
    """What the brief's template needs, on its page or first in the printed digest."""
    return {
        "brief": brief,
        "patient": brief.patient,
        "brief_label": period_label(brief.period),
        "before_label": period_label(brief.before),
        "levels": range(INTENSITY_MIN, INTENSITY_MAX + 1),
    }
