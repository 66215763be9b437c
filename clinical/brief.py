"""The doctor's 60-second brief: what changed since the last visit, on one page.

A period (the digest's, by default the last 30 days) beside the one just before it, of the same
length: the body heatmaps of both, the worst regions and how they moved, the PEG trend, rescue
doses per week and what the patient says helped, the top factors, the notes the patient shared
and the worst days. Two queries whatever the data (entries of both periods with the shared
notes, doses with check-ins: two UNION ALLs), none in the printed digest (it reuses the digest
page's rows); every number only describes what was recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from statistics import fmean
from typing import Any

from django.utils import formats
from django.utils.translation import gettext, ngettext

from accounts.models import User
from clinical.digest import CHECKIN_LOOKBACK, DoseRow, doses_and_checkins
from clinical.models import Medication, week_start
from clinical.peg import rose_meaningfully
from diary.bodymap import map_views
from diary.digest import (
    DayDigest,
    Digest,
    FactorDigest,
    Period,
    entries_and_notes,
    factor_digests,
)
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
    return period.previous


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
        said = ", ".join(f"{r.label.lower()} {r.level}" for r in coloured) or gettext(
            "nothing recorded"
        )
        views.append({"view": view, "summary": said})
    return views


def _number(value: float) -> str:
    """One decimal, as the page's language writes it (5.8, 5,8)."""
    return formats.number_format(value, 1)


def _signed(value: float) -> str:
    return ("+" if value > 0 else "-") + _number(abs(value))


def _changes(brief: Brief) -> list[str]:
    """The headline: a few plain sentences comparing the two periods, in the reader's language
    (each a whole sentence to translate: word order and plurals differ between languages)."""
    now, then = brief.now, brief.then
    said = []
    if now.entries or then.entries:
        days = ngettext("%(count)s day", "%(count)s days", now.days_with_entries) % {
            "count": now.days_with_entries
        }
        said.append(
            ngettext(
                "%(count)s entry on %(days)s (before: %(before)s on %(before_days)s).",
                "%(count)s entries on %(days)s (before: %(before)s on %(before_days)s).",
                now.entries,
            )
            % {
                "count": now.entries,
                "days": days,
                "before": then.entries,
                "before_days": then.days_with_entries,
            }
        )
    if now.mean is not None and then.mean is not None:
        delta = round(now.mean - then.mean, 1)
        values = {"now": _number(now.mean), "then": _number(then.mean), "delta": _signed(delta)}
        if delta > 0:
            said.append(gettext("Mean pain %(now)s, before %(then)s (up %(delta)s).") % values)
        elif delta < 0:
            said.append(gettext("Mean pain %(now)s, before %(then)s (down %(delta)s).") % values)
        else:
            said.append(gettext("Mean pain %(now)s, before %(then)s (no change).") % values)
    elif now.mean is not None:
        said.append(
            gettext("Mean pain %(now)s; nothing recorded the period before.")
            % {"now": _number(now.mean)}
        )
    worse = [row.body_part.display_label for row in brief.regions if row.direction == "worse"]
    if worse:
        parts = ", ".join(str(label).lower() for label in worse)
        said.append(gettext("Worse: %(parts)s.") % {"parts": parts})
    if now.rescue_doses or then.rescue_doses:
        said.append(
            gettext("Rescue doses %(now)s a week (before %(then)s).")
            % {"now": _number(now.rescue_per_week), "then": _number(then.rescue_per_week)}
        )
    return said


def build_brief(*, patient: User, period: Period, tz: tzinfo) -> Brief:
    """The brief of `period` against the period before it, in the patient's days (2 queries:
    the entries of both periods with the shared notes, the doses with the check-ins)."""
    before = previous_period(period)
    start, middle, end = _bounds(period, tz)
    entries = PainEntry.objects.for_user(patient).filter(
        date_recorded__gte=start, date_recorded__lt=end
    )
    # Written or edited in the period: a list of questions for the visit is often kept and
    # updated, and its latest version is what the doctor should read.
    shared = patient.notes.filter(shared=True, last_modified__gte=middle, last_modified__lt=end)
    rows, notes = entries_and_notes(entries, shared, patient.pk)
    doses, checkins = doses_and_checkins(
        patient, start, end, week_start(before.start), period.end, rescue_only=False
    )
    return brief_from_rows(
        patient=patient,
        period=period,
        tz=tz,
        entries=[(part, intensity, at, factors) for part, _, intensity, at, factors in rows],
        notes=notes,
        doses=doses,
        checkins=checkins,
    )


def brief_from_digest(
    digest: Digest, doses: list[DoseRow], checkins: list[tuple[date, Decimal]], tz: tzinfo
) -> Brief:
    """The brief of a doctor's digest's period, from the rows the digest page read already:
    its entries and notes (read with `since` the period before), the doses of any kind and the
    check-ins (`doses_and_checkins` from the period before). A digest that did not read the
    period before gets the brief's own 2 queries."""
    period = digest.period
    before = previous_period(period)
    if digest.since is None or digest.since > before.start or digest.edited_notes is None:
        return build_brief(patient=digest.patient, period=period, tz=tz)
    return brief_from_rows(
        patient=digest.patient,
        period=period,
        tz=tz,
        entries=[(part, intensity, at, factors) for part, _, intensity, at, factors in digest.rows],
        notes=[note for note in digest.edited_notes if note.shared],
        doses=doses,
        checkins=checkins,
    )


def _bounds(period: Period, tz: tzinfo) -> tuple[datetime, datetime, datetime]:
    """The start of the period before, of the period, and the end of the period."""
    return (
        datetime.combine(previous_period(period).start, time.min, tzinfo=tz),
        datetime.combine(period.start, time.min, tzinfo=tz),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz),
    )


def brief_from_rows(
    *,
    patient: User,
    period: Period,
    tz: tzinfo,
    entries: list[tuple[int, int, datetime, list[str] | None]],
    notes: list[Note],
    doses: list[DoseRow],
    checkins: list[tuple[date, Decimal]],
) -> Brief:
    """The brief from rows read elsewhere, each list possibly over a longer time (only what
    falls in the two periods counts): entries (body part id, intensity, recorded, factors) by
    time, the shared notes, the doses newest first, the check-ins by week."""
    before = previous_period(period)
    start, middle, end = _bounds(period, tz)
    by_part_now: dict[int, list[int]] = defaultdict(list)
    by_part_then: dict[int, list[int]] = defaultdict(list)
    by_day: dict[date, list[int]] = defaultdict(list)
    readings_now: list[tuple[date, int]] = []
    readings_then: list[tuple[date, int]] = []
    with_factors: list[tuple[date, int, list[str]]] = []
    for part_id, intensity, recorded, factors in entries:
        if not start <= recorded < end:
            continue
        day = recorded.astimezone(tz).date()
        if recorded >= middle:
            by_part_now[part_id].append(intensity)
            by_day[day].append(intensity)
            readings_now.append((day, intensity))
            with_factors.append((day, intensity, factors or []))
        else:
            by_part_then[part_id].append(intensity)
            readings_then.append((day, intensity))

    notes = sorted(
        (note for note in notes if middle <= note.last_modified < end),
        key=lambda note: (note.last_modified, note.pk),
        reverse=True,
    )

    rescue_now = rescue_then = 0
    per_medication: dict[int, list] = {}
    for row in doses:
        if not start <= row.taken_at < end:
            continue
        is_rescue = row.kind == Medication.Kind.RESCUE
        if row.taken_at < middle:
            rescue_then += is_rescue
            continue
        rescue_now += is_rescue
        medication = per_medication.setdefault(row.medication_id, [row.name, row.kind, 0, []])
        medication[2] += 1
        if row.relief is not None:
            medication[3].append(row.relief)
    relief = [
        ReliefRow(name=name, kind=kind, doses=count, answers=len(answers), mean=_mean(answers))
        for name, kind, count, answers in per_medication.values()
    ]
    # What helped most first; medications without an answer last, by how often they were taken.
    relief.sort(key=lambda r: (r.mean is None, -(r.mean or 0), -r.doses, r.name.lower()))

    # One check-in before the earlier period too, so its first week has a change.
    first_week = week_start(before.start)
    pegs = []
    previous: Decimal | None = None
    for week, score in checkins:
        if not first_week - CHECKIN_LOOKBACK <= week <= period.end:
            continue
        if week >= first_week:
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
