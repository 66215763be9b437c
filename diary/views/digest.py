"""The digest pages: a period of a patient's pain, for the patient or a linked doctor.

The page only reads: no htmx fragments.
"""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from accounts.models import User
from diary.bodymap import map_views
from diary.charts import COMPACT_WIDTH, timeline_chart
from diary.digest import (
    PERIOD_CHOICES,
    SECTION_MARGIN,
    Digest,
    Period,
    build_digest,
    requested_period,
)
from diary.models import INTENSITY_MAX, INTENSITY_MIN, PainType
from diary.views import HtmxHttpRequest
from diary.views.patients import linked_patient

DIGEST = "diary/digest.html"
COLOR_MODES = {
    "mean": gettext_lazy("Mean intensity"),
    "count": gettext_lazy("Number of entries"),
}


def period_label(period: Period) -> str:
    """E.g. "1-30 Jan 2026" or "20 Dec 2025 - 18 Jan 2026" (en dashes): fits in a legend. The
    month names are the active language's (the formats are translated: Russian says "января")."""
    start, end = period.start, period.end
    # Translators: a date format (Django's date filter), e.g. "30 Jan 2026".
    full = date_format(end, pgettext("date format", "j M Y"))
    if start == end:
        return full
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{full}"
    if start.year == end.year:
        # Translators: the first day of a period whose last day reads "j M Y" (e.g. "28 Sep" in
        # "28 Sep - 27 Oct 2026"): the same month form as that one (Russian: "j E").
        first = date_format(start, pgettext("period start date format", "j M"))
    else:
        first = date_format(start, pgettext("date format", "j M Y"))
    return f"{first} – {full}"


def heatmap_levels(digest: Digest, color: str) -> dict[int, int]:
    """Each part's level 0-10 on the map: its mean intensity, or its number of entries relative
    to the busiest part. Counts round up so a part with any entry never looks like no entry."""
    if color == "count":
        busiest = max((part.count for part in digest.body_parts), default=0)
        return {
            part.body_part.pk: ceil(INTENSITY_MAX * part.count / busiest)
            for part in digest.body_parts
        }
    return {part.body_part.pk: round(part.mean) for part in digest.body_parts}


def _pain_type_rows(digest: Digest) -> list[dict[str, Any]]:
    """The mix of pain types as bars: widths in steps of 10 % (CSS classes, no inline style)."""
    rows = []
    for value, count in sorted(digest.pain_types.items(), key=lambda item: -item[1]):
        share = count / digest.entries if digest.entries else 0.0
        rows.append(
            {
                "label": PainType(value).label,
                "count": count,
                "percent": round(100 * share),
                "width": 10 * round(10 * share) if count else 0,
            }
        )
    return rows


def _digest_page(request: HtmxHttpRequest, patient: User, *, as_doctor: bool) -> HttpResponse:
    tz = patient.tzinfo
    asked = requested_period(request.GET, tz)
    period, period_error, custom, status = asked.period, asked.error, asked.custom, asked.status
    color = "count" if request.GET.get("color") == "count" else "mean"
    notes = patient.notes.filter(shared=True) if as_doctor else patient.notes.all()
    # A doctor's digest prints the brief first ({% clinical_brief_print %}), which compares the
    # period with the one before: read those days (and the notes edited in the period) too, in
    # the digest's own query.
    digest = build_digest(
        patient=patient,
        period=period,
        notes=notes,
        tz=tz,
        margin=SECTION_MARGIN,
        since=period.previous.start if as_doctor else None,
    )

    label = period_label(period)
    current_days = None if custom else period.days
    period_query = asked.query
    export = {"patient": patient.username} if as_doctor else {}
    if color == "count":
        legend_title = _("Number of entries, %(period)s (10 = the busiest part)") % {
            "period": label
        }
        level_label = _("entries, busiest part = 10")
    else:
        legend_title = _("Mean intensity, %(period)s") % {"period": label}
        level_label = _("mean intensity")
    chart_title = _("Pain per day, %(period)s: highest and mean") % {"period": label}
    base = (
        reverse("diary:patient-digest", args=[patient.username])
        if as_doctor
        else reverse("diary:digest")
    )
    context = {
        "patient": patient,
        "as_doctor": as_doctor,
        "digest": digest,
        "period_label": label,
        "period_error": period_error,
        "period_links": [
            {
                "days": days,
                "url": f"{base}?{urlencode({'days': days, 'color': color})}",
                "current": days == current_days,
            }
            for days in PERIOD_CHOICES
        ],
        "custom": custom,
        "color": color,
        "color_links": [
            {
                "mode": mode,
                "label": mode_label,
                "url": f"{base}?{urlencode({**period_query, 'color': mode})}",
                "current": mode == color,
            }
            for mode, mode_label in COLOR_MODES.items()
        ],
        "chart": timeline_chart(digest.timeline, title=chart_title),
        # The same chart drawn for a phone; the page shows one of the two by screen width.
        "chart_compact": timeline_chart(
            digest.timeline,
            chart_id="timeline-chart-compact",
            title=chart_title,
            width=COMPACT_WIDTH,
        ),
        "pain_type_rows": _pain_type_rows(digest),
        "export_links": [
            (name, f"/diary/export/?{urlencode({'format': fmt, **export})}")
            for name, fmt in (
                (_("Download CSV (entries)"), "csv"),
                (_("Notes CSV"), "csv-notes"),
                ("FHIR R4 (JSON)", "fhir"),
            )
        ],
        "longer_url": f"{base}?{urlencode({'days': 90, 'color': color})}",
        # The shared body-map partial, as a read-only heatmap of the period.
        "map_views": map_views(heatmap_levels(digest, color)),
        "levels": range(INTENSITY_MIN, INTENSITY_MAX + 1),
        "legend_title": legend_title,
        "level_label": level_label,
        "readonly": True,
    }
    if as_doctor:
        context.update(
            patient_zone=tz.key, viewer_zone=request.user.tzinfo.key, patient_now=timezone.now()
        )
    # Rendered in the patient's zone: their days, their times, whoever reads.
    with timezone.override(tz):
        return render(request, DIGEST, context, status=status)


@require_GET
@login_required
def digest(request: HtmxHttpRequest) -> HttpResponse:
    return _digest_page(request, request.user, as_doctor=False)


@require_GET
@login_required
def patient_digest(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """A linked patient's digest: the same page, with only the notes the patient shared."""
    patient = linked_patient(request, username, what="digest")
    return _digest_page(request, patient, as_doctor=True)
