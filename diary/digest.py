"""The digest: how a patient's pain changed over a period, in the patient's own days.

Everything is computed from one query of entries (plus one of notes), so its cost in queries
does not grow with the number of entries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from statistics import fmean
from typing import Any

from django.db.models import Max, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import CareLink, User
from diary.models import BodyPart, Note, PainEntry, PainType, body_parts_by_pk, factor_label

MAX_DAYS = 366
# A patient "needs attention" after severe pain this week, or pain clearly rising.
ATTENTION_MAX = 7
ATTENTION_RISE = 1.0
PERIOD_CHOICES = (7, 30, 90)
# A factor seen fewer times says nothing yet: the digest leaves it out.
FACTOR_MIN_ENTRIES = 3


class PeriodError(ValueError):
    """A period that cannot be read from the request; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    @property
    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def middle(self) -> date:
        """The first day of the second half (the halves differ by one day at most)."""
        return self.start + timedelta(days=self.days // 2)


def user_timezone(user: User) -> tzinfo:
    """Kept for callers elsewhere: the rule itself is `User.tzinfo`."""
    return user.tzinfo


@dataclass(frozen=True)
class RequestedPeriod:
    """The period a page was asked for, in the patient's days: a bad request falls back to the
    default period and says why (`error`, shown on the page with a 400)."""

    period: Period
    error: str
    custom: bool  # given as dates, not as a number of days

    @property
    def status(self) -> int:
        return 400 if self.error else 200

    @property
    def query(self) -> dict[str, Any]:
        """The query that asks for this period again (for links to the other page)."""
        if self.custom:
            return {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        return {"days": self.period.days}


def requested_period(params: Any, tz: tzinfo) -> RequestedPeriod:
    """`parse_period` for a page, with "today" in `tz` (the patient's zone, so that a doctor
    elsewhere reads the same days as the patient)."""
    today = timezone.now().astimezone(tz).date()
    try:
        period, error = parse_period(params, today), ""
    except PeriodError as exc:
        period, error = parse_period({}, today), str(exc)
    custom = bool(params.get("start") or params.get("end")) and not error
    return RequestedPeriod(period=period, error=error, custom=custom)


def parse_period(params: Any, today: date) -> Period:
    """`?days=N` (the last N days, today included) or `?start=YYYY-MM-DD&end=YYYY-MM-DD`;
    neither means the last 30 days. A parameter that is given must be valid, even if empty."""
    has_days, has_range = "days" in params, "start" in params or "end" in params
    if has_days and has_range:
        raise PeriodError(_("Give either days or start and end, not both."))
    if has_range:
        start, end = params.get("start"), params.get("end")
        if not (start and end):
            raise PeriodError(_("Give both start and end (YYYY-MM-DD)."))
        try:
            period = Period(date.fromisoformat(start), date.fromisoformat(end))
        except (TypeError, ValueError) as exc:
            raise PeriodError(_("Dates must look like 2026-01-31.")) from exc
        if period.end < period.start:
            raise PeriodError(_("The end comes before the start."))
        if period.days > MAX_DAYS:
            raise PeriodError(_("A period is at most %(max)s days.") % {"max": MAX_DAYS})
        return period
    days = params.get("days", "30")
    if not str(days).isdigit() or not 1 <= int(days) <= MAX_DAYS:
        raise PeriodError(_("days must be a whole number from 1 to %(max)s.") % {"max": MAX_DAYS})
    return Period(today - timedelta(days=int(days) - 1), today)


# Said (and summarised) when a part has no entries in one of the period's halves. The
# direction is a machine value (pages compare it); direction_label is what people read.
NO_TREND = "no trend yet"


@dataclass
class PartDigest:
    body_part: BodyPart
    count: int
    mean: float
    max: int
    latest: int
    trend: float | None  # mean of the second half minus the first; None without both halves

    @property
    def direction(self) -> str:
        """What the pages say about the trend. No trend is not "steady": a single entry, or
        entries in one half of the period only, cannot show whether pain changed."""
        if self.trend is None:
            return NO_TREND if self.count else "—"
        if self.trend >= 0.5:
            return "rising"
        if self.trend <= -0.5:
            return "falling"
        return "steady"

    @property
    def direction_label(self) -> str:
        """The direction in the active language."""
        return {
            NO_TREND: _("no trend yet"),
            "rising": _("rising"),
            "falling": _("falling"),
            "steady": _("steady"),
        }.get(self.direction, self.direction)

    @property
    def no_trend_reason(self) -> str:
        """Why there is no trend, for the page's hint."""
        if self.count == 1:
            return _("Only one entry: a trend needs entries in both halves of the period.")
        return _("Entries in only one half of the period: a trend needs both halves.")


def entries_on_days(entries: int, days: int) -> str:
    """ "5 entries on 3 days", with each number's own plural."""
    said_entries = ngettext("%(count)s entry", "%(count)s entries", entries) % {"count": entries}
    # Translators: "%(entries)s" is e.g. "5 entries"; this is "5 entries on 3 days".
    return ngettext("%(entries)s on %(count)s day", "%(entries)s on %(count)s days", days) % {
        "entries": said_entries,
        "count": days,
    }


@dataclass
class FactorDigest:
    """Pain with vs without one factor over the period: an association, never a cause."""

    factor: str
    entries: int
    days: int
    mean_with: float
    mean_without: float | None  # None when every entry of the period carried it

    @property
    def label(self) -> str:
        """The factor as people read it: a preset in the active language, own words as written."""
        return factor_label(self.factor)

    @property
    def sentence(self) -> str:
        counts = entries_on_days(self.entries, self.days)
        values = {"factor": factor_label(self.factor), "counts": counts}
        if self.mean_without is None:
            return _(
                "Every entry had %(factor)s: pain averaged %(mean)s (%(counts)s), "
                "nothing to compare with."
            ) % {**values, "mean": f"{self.mean_with:.1f}"}
        return _(
            "On days with %(factor)s your pain averaged %(mean)s, otherwise %(other)s (%(counts)s)."
        ) % {**values, "mean": f"{self.mean_with:.1f}", "other": f"{self.mean_without:.1f}"}


@dataclass
class DayDigest:
    date: date
    count: int = 0
    max: int | None = None
    mean: float | None = None


@dataclass
class Digest:
    patient: User
    period: Period
    entries: int
    body_parts: list[PartDigest]
    pain_types: dict[str, int]
    timeline: list[DayDigest]
    notes: list[Note] = field(default_factory=list)
    factors: list[FactorDigest] = field(default_factory=list)
    # (recorded, intensity) of every entry from `margin` before the period to `margin` after
    # it, read with the digest's own rows: for a page's sections that look past the period's
    # edges (the clinical section's hours around a dose) without a query of their own.
    readings: list[tuple[datetime, int]] = field(default_factory=list)
    margin: timedelta = timedelta(0)
    # With `since` (build_digest): the first day read, every entry read from it to `margin` past
    # the period (ENTRY_COLUMNS, by time), and the notes edited in the period besides those
    # written in it (None: not read): for a section that compares the period with the days
    # before it (the doctor's brief, printed first) without queries of its own.
    since: date | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    edited_notes: list[Note] | None = None
    # What the page's sections read for each other, once per page (clinical_tags).
    section_rows: dict[str, Any] = field(default_factory=dict)

    @property
    def days_with_entries(self) -> int:
        return sum(1 for day in self.timeline if day.count)

    @property
    def worst_days(self) -> list[DayDigest]:
        with_entries = [day for day in self.timeline if day.count]
        return sorted(with_entries, key=lambda day: (-(day.max or 0), -(day.mean or 0)))[:3]

    @property
    def peak(self) -> int | None:
        return max((part.max for part in self.body_parts), default=None)

    @property
    def summary(self) -> str:
        days = self.period.days
        if not self.entries:
            return ngettext(
                "No pain recorded in this %(days)s day.",
                "No pain recorded in these %(days)s days.",
                days,
            ) % {"days": days}
        top = self.body_parts[0]
        parts = [
            _("Most pain: %(part)s, mean %(mean)s, %(direction)s.")
            % {
                "part": top.body_part.display_label.lower(),
                "mean": f"{top.mean:.1f}",
                "direction": top.direction_label,
            }
        ]
        entries = ngettext(
            "%(count)s entry on %(with)s of %(days)s days, highest %(peak)s/10.",
            "%(count)s entries on %(with)s of %(days)s days, highest %(peak)s/10.",
            self.entries,
        )
        parts.append(
            entries
            % {
                "count": self.entries,
                "with": self.days_with_entries,
                "days": days,
                "peak": self.peak,
            }
        )
        common = max(self.pain_types.items(), key=lambda item: item[1])
        parts.append(
            _("Mostly %(pain_type)s pain.") % {"pain_type": PainType(common[0]).label.lower()}
        )
        return " ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient.username,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "days": self.period.days,
            "entries": self.entries,
            "days_with_entries": self.days_with_entries,
            "body_parts": [
                {
                    "body_part": part.body_part.pk,
                    "name": part.body_part.name,
                    "label": part.body_part.display_label,
                    "count": part.count,
                    "mean": part.mean,
                    "max": part.max,
                    "latest": part.latest,
                    "trend": part.trend,
                }
                for part in self.body_parts
            ],
            "pain_types": self.pain_types,
            "timeline": [
                {"date": day.date.isoformat(), "count": day.count, "max": day.max, "mean": day.mean}
                for day in self.timeline
            ],
            "worst_days": [
                {"date": day.date.isoformat(), "max": day.max, "mean": day.mean}
                for day in self.worst_days
            ],
            "factors": [
                {
                    "factor": factor.factor,
                    "entries": factor.entries,
                    "days": factor.days,
                    "mean_with": factor.mean_with,
                    "mean_without": factor.mean_without,
                    "sentence": factor.sentence,
                }
                for factor in self.factors
            ],
            "summary": self.summary,
        }


# How far past its period the digest page reads entries (Digest.readings): the clinical
# section's hours around a dose.
SECTION_MARGIN = timedelta(hours=6)


ENTRY_COLUMNS = ("body_part_id", "pain_type", "intensity", "date_recorded", "factors")
NOTE_COLUMNS = ("id", "title", "body", "shared", "created_on", "last_modified")


def entries_and_notes(
    entries: QuerySet[PainEntry], notes: QuerySet[Note] | None, owner_id: int
) -> tuple[list[tuple[Any, ...]], list[Note]]:
    """The entries' ENTRY_COLUMNS (by time) and the notes (by creation), in one query: the two
    as one UNION ALL, each row holding its own columns and NULL in the other's."""
    if notes is None:
        return list(entries.order_by("date_recorded", "id").values_list(*ENTRY_COLUMNS)), []
    nulls = {
        f"note_{name}": Value(None, output_field=Note._meta.get_field(name))
        for name in NOTE_COLUMNS
    }
    entry_nulls = {
        f"entry_{name}": Value(None, output_field=PainEntry._meta.get_field(name))
        for name in ("id", *ENTRY_COLUMNS)
    }
    rows = (
        entries.order_by()
        .annotate(**nulls)
        .values_list("id", *ENTRY_COLUMNS, *nulls)
        .union(
            notes.order_by().annotate(**entry_nulls).values_list(*entry_nulls, *NOTE_COLUMNS),
            all=True,
        )
    )
    width = len(ENTRY_COLUMNS)
    by_time: list[tuple[Any, ...]] = []  # (date_recorded, id, ENTRY_COLUMNS)
    note_list: list[Note] = []
    note_fields = ["id", "owner_id", *NOTE_COLUMNS[1:]]
    for row in rows:
        if row[0] is not None:
            by_time.append((row[4], row[0], row[1 : 1 + width]))
        else:
            note_id, *fields = row[1 + width :]
            note_list.append(Note.from_db(entries.db, note_fields, [note_id, owner_id, *fields]))
    by_time.sort(key=lambda item: item[:2])
    note_list.sort(key=lambda note: (note.created_on, note.pk))
    return [columns for _, _, columns in by_time], note_list


def _round(value: float) -> float:
    return round(value + 0.0, 1)


def build_digest(
    *,
    patient: User,
    period: Period,
    notes: QuerySet[Note] | None = None,
    tz: tzinfo | None = None,
    margin: timedelta = timedelta(0),
    since: date | None = None,
) -> Digest:
    """The numbers of one patient's period. `notes` is what the reader may see (all the
    patient's notes for themself, the shared ones for a doctor); None leaves notes out.
    `margin`: the entries that far outside the period are read too, into `readings` only.
    `since` (a day before the period): the entries from that day on are read too, and the notes
    edited in the period, in the same query, into `rows` and `edited_notes` only."""
    tz = tz or patient.tzinfo
    start = datetime.combine(period.start, time.min, tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    first = start - margin
    if since is not None:
        first = min(first, datetime.combine(since, time.min, tzinfo=tz))
    entries = PainEntry.objects.for_user(patient).filter(
        date_recorded__gte=first, date_recorded__lte=end + margin
    )
    written = Q(created_on__gte=start, created_on__lt=end)
    if notes is not None:
        edited = Q(last_modified__gte=start, last_modified__lt=end)
        notes = notes.filter(written | edited if since is not None else written)
    all_rows, read_notes = entries_and_notes(entries, notes, patient.pk)
    read_rows = [row for row in all_rows if row[3] >= start - margin]
    note_list = [note for note in read_notes if start <= note.created_on < end]
    rows = [row for row in read_rows if start <= row[3] < end]
    parts = body_parts_by_pk()
    by_part: dict[int, list[tuple[date, int]]] = defaultdict(list)
    by_day: dict[date, list[int]] = defaultdict(list)
    types: Counter[str] = Counter(dict.fromkeys(PainType.values, 0))
    read: list[tuple[date, int, list[str]]] = []  # (day, intensity, factors) per entry
    for part_id, pain_type, intensity, recorded, factors in rows:
        day = recorded.astimezone(tz).date()
        by_part[part_id].append((day, intensity))
        by_day[day].append(intensity)
        types[pain_type] += 1
        read.append((day, intensity, factors or []))
    count = len(read)

    part_digests = []
    for part_id, readings in by_part.items():
        values = [intensity for _, intensity in readings]
        first = [intensity for day, intensity in readings if day < period.middle]
        second = [intensity for day, intensity in readings if day >= period.middle]
        trend = _round(fmean(second) - fmean(first)) if first and second else None
        part_digests.append(
            PartDigest(
                body_part=parts[part_id],
                count=len(values),
                mean=_round(fmean(values)),
                max=max(values),
                latest=values[-1],
                trend=trend,
            )
        )
    # Most pain first: highest mean, then the most entries, then the map's order.
    part_digests.sort(key=lambda part: (-part.mean, -part.count, part.body_part.pk))

    timeline = []
    for day in period.dates():
        values = by_day.get(day, [])
        timeline.append(
            DayDigest(
                date=day,
                count=len(values),
                max=max(values) if values else None,
                mean=_round(fmean(values)) if values else None,
            )
        )
    return Digest(
        patient=patient,
        period=period,
        entries=count,
        body_parts=part_digests,
        pain_types=dict(types),
        timeline=timeline,
        notes=note_list,
        factors=factor_digests(read),
        readings=[(recorded, intensity) for _, _, intensity, recorded, _ in read_rows],
        margin=margin,
        since=since,
        rows=all_rows if since is not None else [],
        edited_notes=(
            [note for note in read_notes if start <= note.last_modified < end]
            if since is not None and notes is not None
            else None
        ),
    )


def factor_digests(readings: list[tuple[date, int, list[str]]]) -> list[FactorDigest]:
    """Per factor carried by at least FACTOR_MIN_ENTRIES entries: the mean intensity of the
    entries with it against that of all the other entries. Most entries first."""
    carrying: dict[str, list[int]] = defaultdict(list)
    for position, (_day, _intensity, factors) in enumerate(readings):
        for factor in dict.fromkeys(factors):
            carrying[factor].append(position)
    digests = []
    for factor, positions in carrying.items():
        if len(positions) < FACTOR_MIN_ENTRIES:
            continue
        inside = set(positions)
        with_it = [readings[i][1] for i in positions]
        without = [reading[1] for i, reading in enumerate(readings) if i not in inside]
        digests.append(
            FactorDigest(
                factor=factor,
                entries=len(with_it),
                days=len({readings[i][0] for i in positions}),
                mean_with=_round(fmean(with_it)),
                mean_without=_round(fmean(without)) if without else None,
            )
        )
    digests.sort(key=lambda digest: (-digest.entries, digest.factor))
    return digests


@dataclass
class PatientRow:
    """One line of "My patients": what tells a doctor who needs attention first."""

    patient: User
    last_entry: datetime | None
    recent_max: int | None  # highest intensity in the last 7 days
    trend: float | None  # mean of the last 7 days minus the 7 before

    @property
    def needs_attention(self) -> bool:
        return (self.recent_max or 0) >= ATTENTION_MAX or (self.trend or 0.0) >= ATTENTION_RISE

    @property
    def attention(self) -> tuple[int, float, float]:
        return (
            -(self.recent_max if self.recent_max is not None else -1),
            -(self.trend if self.trend is not None else 0.0),
            -(self.last_entry.timestamp() if self.last_entry else 0.0),
        )


def patients_by_attention(doctor: User) -> list[PatientRow]:
    """Every patient actively linked with `doctor`, most in need of attention first (3 queries)."""
    patients = list(
        User.objects.filter(
            doctor_links__doctor=doctor, doctor_links__status=CareLink.Status.ACTIVE
        ).annotate(last_entry=Max("pain_entries__date_recorded"))
    )
    now = timezone.now()
    week_ago, fortnight_ago = now - timedelta(days=7), now - timedelta(days=14)
    readings: dict[int, tuple[list[int], list[int]]] = {p.pk: ([], []) for p in patients}
    recent = PainEntry.objects.filter(owner__in=patients, date_recorded__gte=fortnight_ago)
    for owner_id, intensity, recorded in recent.values_list(
        "owner_id", "intensity", "date_recorded"
    ):
        earlier, latest = readings[owner_id]
        (latest if recorded >= week_ago else earlier).append(intensity)
    rows = []
    for patient in patients:
        earlier, latest = readings[patient.pk]
        trend = round(fmean(latest) - fmean(earlier), 1) if earlier and latest else None
        rows.append(PatientRow(patient, patient.last_entry, max(latest) if latest else None, trend))
    return sorted(rows, key=lambda row: row.attention)
