"""The patient's diary page: the body map, recording pain (in one part or several at once), and
the entries listed by day.

A save answers only what changed: the entry panel with its confirmation, the changed regions and
the changed day groups of the list as out-of-band swaps (a few KB), never the whole map again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.models import User
from diary import services
from diary.bodymap import LABELS, label_of, map_views, part_choices, regions_named
from diary.entry_cache import diary_cache_token
from diary.forms import (
    PainEntryForm,
    RecordPainForm,
    add_service_errors,
    join_labels,
    now_to_the_minute,
)
from diary.models import INTENSITY_MAX, INTENSITY_MIN, PainEntry
from diary.views import DIARY, HtmxHttpRequest, answer

# The map shows how much each part hurt lately, not ever.
RECENT = timedelta(days=7)
# Enough for months of daily entries; older ones are one filter away.
ENTRY_LIST_LIMIT = 200
# The rendered entry list is kept this long under its diary's version (a new version is a new
# key: the old one just expires). Rendering 200 entries is most of the diary page's CPU.
ENTRY_LIST_CACHE_SECONDS = 3600


# --- what the page shows ------------------------------------------------------------------------


def _recent_levels(user: User, names: set[str] | None = None) -> dict[int, int]:
    entries = PainEntry.objects.for_user(user).since(timezone.now() - RECENT)
    if names is not None:
        entries = entries.filter(body_part__name__in=names)
    return entries.max_intensity_by_part()


def map_context(user: User, levels: dict[int, int] | None = None) -> dict[str, Any]:
    return {
        "map_views": map_views(_recent_levels(user) if levels is None else levels),
        "levels": range(INTENSITY_MIN, INTENSITY_MAX + 1),
    }


def diary_state(owner: User) -> tuple[dict[int, int], str]:
    """The map's levels (each part's highest intensity of the last RECENT) and a version of the
    whole diary, in one query: a row per body part with its recent top, count, newest id and
    latest change. Any insert, update or delete changes the version (as the API's stats list
    version does), whichever process made it, with no invalidation to forget; the version from
    `diary_cache_token` (bumped by every write through diary.services) rides along in the key."""
    token = diary_cache_token(owner.pk)  # first: a write after this reading changes it
    rows = (
        PainEntry.objects.for_user(owner)
        .order_by()
        .values("body_part_id")
        .annotate(
            top=Max("intensity", filter=Q(date_recorded__gte=timezone.now() - RECENT)),
            n=Count("id"),
            newest=Max("id"),
            changed=Max("last_modified"),
        )
    )
    levels: dict[int, int] = {}
    count = newest = 0
    changed = 0.0
    for row in rows:
        if row["top"] is not None:
            levels[row["body_part_id"]] = row["top"]
        count += row["n"]
        newest = max(newest, row["newest"])
        changed = max(changed, row["changed"].timestamp())
    return levels, f"{count}-{newest}-{changed}-{token}"


# The titles of the fragments on a page of their own (no JavaScript).
RECORD_PAIN = gettext_lazy("Record pain")
EDIT_ENTRY = gettext_lazy("Edit entry")
DELETE_ENTRY = gettext_lazy("Delete entry")


def day_heading(day: date, today: date) -> str:
    """ "Today", "Yesterday", "Mon 30 Nov" (the year only when it is not this year's), in the
    active language."""
    if day == today:
        return _("Today")
    if day == today - timedelta(days=1):
        return _("Yesterday")
    if day.year == today.year:
        # Translators: a date format (Django's date filter), e.g. "Mon 30 Nov".
        return date_format(day, pgettext("date format", "D j M"))
    # Translators: a date format (Django's date filter), e.g. "Mon 30 Nov 2025".
    return date_format(day, pgettext("date format", "D j M Y"))


@dataclass
class Day:
    """One day's group in the entry list, in the zone being shown (timezone.get_current_timezone).

    `oob` is how a save swaps it into the page: "" (in place, within the list), "true" (replace
    the group), "delete" (the day has no entry left) or "afterbegin:#entry-days" (a new newest
    day, inserted by a wrapper, see the template's entry-day partial)."""

    date: date
    heading: str
    entries: list[PainEntry]
    oob: str = ""

    @property
    def id(self) -> str:
        return f"entry-day-{self.date.isoformat()}"

    @property
    def relative(self) -> bool:
        return self.heading in (_("Today"), _("Yesterday"))


def _local_day(entry: PainEntry) -> date:
    return timezone.localtime(entry.date_recorded).date()


def _list_queryset(owner: User, part: str = "") -> QuerySet[PainEntry]:
    entries = PainEntry.objects.for_user(owner).select_related("body_part")
    return entries.filter(body_part__name=part) if part else entries


class EntryListing:
    """The entries newest first, grouped by day in the current zone, read on first use: a page
    whose list comes from the fragment cache never queries them."""

    def __init__(self, owner: User, part: str) -> None:
        self.owner, self.part = owner, part
        self.today = timezone.localdate()

    @cached_property
    def _rows(self) -> list[PainEntry]:
        return list(_list_queryset(self.owner, self.part)[: ENTRY_LIST_LIMIT + 1])

    def days(self) -> list[Day]:
        return [
            Day(day, day_heading(day, self.today), list(group))
            for day, group in groupby(self._rows[:ENTRY_LIST_LIMIT], key=_local_day)
        ]

    def truncated(self) -> bool:
        return len(self._rows) > ENTRY_LIST_LIMIT

    def recent_levels(self) -> dict[int, int]:
        """The map's levels from the listed rows when they hold every entry of the last RECENT
        (all of them, or the oldest read is older): no query of its own. Else (over
        ENTRY_LIST_LIMIT entries in a week) the map's own query."""
        since = timezone.now() - RECENT
        rows = self._rows
        if self.part or (len(rows) > ENTRY_LIST_LIMIT and rows[-1].date_recorded >= since):
            return _recent_levels(self.owner)
        levels: dict[int, int] = {}
        for entry in rows:
            if entry.date_recorded >= since:
                part = entry.body_part_id
                levels[part] = max(levels.get(part, entry.intensity), entry.intensity)
        return levels


def entry_list_context(
    owner: User, part: str = "", *, version: str | None = None, readonly: bool = False
) -> dict[str, Any]:
    """The entry list's context; `part` filters. With the diary's `version` (diary_state) the
    rendered days are cached under a key of everything they show (see ENTRY_LIST_CACHE)."""
    listing = EntryListing(owner, part)
    key = None
    if version is not None:
        zone = timezone.get_current_timezone_name()
        # The readonly list's empty state names the patient.
        name = owner.display_name() if readonly else ""
        # The language too: the days hold words and dates in it.
        language = translation.get_language()
        key = (
            f"{owner.pk}:{version}:{part}:{zone}:{listing.today}:{int(readonly)}:{name}:{language}"
        )
    return {
        "listing": listing,
        "days": listing.days,  # callables: the template calls them only on a cache miss
        "truncated": listing.truncated,
        "entry_list_key": key,
        "entry_list_seconds": ENTRY_LIST_CACHE_SECONDS,
        "part": part,
        "part_label": label_of(part),
        "part_choices": part_choices(),
    }


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def _on_day(entries: QuerySet[PainEntry], day: date) -> QuerySet[PainEntry]:
    start, end = _day_bounds(day)
    return entries.filter(date_recorded__gte=start, date_recorded__lt=end)


@dataclass(frozen=True)
class ListState:
    """What the entry list showed of some days before a change, to tell what the change moved."""

    part: str
    days: frozenset[date]
    shown: frozenset[date]  # those of `days` that had a group in the list
    empty: bool  # the list showed its empty state


def list_state(request: HtmxHttpRequest, days: set[date]) -> ListState:
    # The list may be filtered to one part: the forms send the filter along (hx-include).
    part = request.POST.get("part", "")
    part = part if part in LABELS else ""
    entries = _list_queryset(request.user, part)
    return ListState(
        part=part,
        days=frozenset(days),
        shown=frozenset(day for day in days if _on_day(entries, day).exists()),
        empty=not entries.exists(),
    )


def _changed_list(request: HtmxHttpRequest, before: ListState) -> str:
    """The changed day groups of the list, out of band; the whole list only when the change
    empties it, fills it, or adds a day between two shown ones (rare: a back-dated entry)."""
    entries = _list_queryset(request.user, before.part)
    newest = entries.first()
    whole = before.empty or newest is None
    today = timezone.localdate()
    days: list[Day] = []
    for day in sorted(before.days, reverse=True):
        rows = list(_on_day(entries, day))
        if rows:
            if day in before.shown:
                oob = "true"
            elif newest is not None and day == _local_day(newest):
                oob = "afterbegin:#entry-days"
            else:
                whole = True
                break
            days.append(Day(day, day_heading(day, today), rows, oob))
        elif day in before.shown:
            days.append(Day(day, "", [], "delete"))
    if whole:
        context = {**entry_list_context(request.user, before.part), "oob": True}
        return render_to_string(f"{DIARY}#entry-list", context, request)
    return "".join(render_to_string(f"{DIARY}#entry-day", {"day": day}, request) for day in days)


def changed_answer(
    request: HtmxHttpRequest, *, main: str, parts: set[str], before: ListState
) -> HttpResponse:
    """`main` for the request's target, then the changed regions and day groups out of band."""
    regions = regions_named(parts, _recent_levels(request.user, parts))
    html = main + render_to_string(f"{DIARY}#map-regions-oob", {"regions": regions}, request)
    if before.part and before.part not in parts:
        return HttpResponse(html)  # the list shows another part's history: nothing changed there
    return HttpResponse(html + _changed_list(request, before))


def _get_entry(request: HtmxHttpRequest, pk: int) -> PainEntry:
    try:
        return PainEntry.objects.for_user(request.user).select_related("body_part").get(pk=pk)
    except PainEntry.DoesNotExist:
        raise Http404(_("No such entry in your diary.")) from None


def saved_summary(entries: list[PainEntry]) -> str:
    """ "Left knee and Right knee, burning, 6/10" for the confirmation."""
    where = join_labels([entry.body_part.display_label for entry in entries])
    first = entries[0]
    return _("%(where)s, %(pain_type)s, %(intensity)s/10") % {
        "where": where,
        "pain_type": first.get_pain_type_display().lower(),
        "intensity": first.intensity,
    }


# --- the diary page -----------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def diary(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_doctor:
        # A doctor keeps no diary here (the nav offers none): their work is their patients.
        return redirect("diary:patients")
    if request.htmx and request.htmx.target == "entry-panel":
        # The form's Cancel: the panel's prompt again, not the whole page to cut it from.
        return render(request, f"{DIARY}#entry-panel", {})
    part = request.GET.get("part", "")
    status = 200
    unknown_part = ""
    if part and part not in LABELS:
        unknown_part, part, status = part, "", 400
    if request.htmx and request.htmx.target == "entry-list":
        context = {**entry_list_context(request.user, part), "unknown_part": unknown_part}
        return answer(request, DIARY, context, fragment="entry-list", status=status)
    levels, version = diary_state(request.user)
    context = {
        **entry_list_context(request.user, part, version=version),
        **map_context(request.user, levels),
        "unknown_part": unknown_part,
    }
    return render(request, DIARY, context, status=status)


# --- pain entries -------------------------------------------------------------------------------


def _new_entry_form(user: User, parts: list[str]) -> RecordPainForm:
    """A blank form whose defaults are the last type and intensity used in these parts: on a bad
    day the same pain is recorded again with one click."""
    last = PainEntry.objects.for_user(user).last_in_parts(parts) if parts else None
    defaults = PainEntry(
        pain_type=last.pain_type if last else "",
        intensity=last.intensity if last else None,
        date_recorded=now_to_the_minute(),
    )
    return RecordPainForm(instance=defaults, initial={"body_part": parts}, owner=user)


@require_http_methods(["GET", "POST"])
@login_required
def entry_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        asked = request.GET.getlist("part")
        parts = [name for name in dict.fromkeys(asked) if name in LABELS]
        context = {
            "form": _new_entry_form(request.user, parts),
            "unknown_part": any(name not in LABELS for name in asked if name),
            # From the map the parts are fixed and named in the heading; without JavaScript
            # they stay a (preselected) <select> the user can see and change.
            "chosen_parts": parts if request.htmx else [],
        }
        return answer(request, DIARY, context, fragment="entry-panel", alone=RECORD_PAIN)

    form = RecordPainForm(request.POST, owner=request.user)
    # The form from a map click hides the parts; it shows the list again only to a no-JS user.
    chosen = [name for name in request.POST.getlist("chosen_part") if name in LABELS]
    if not form.is_valid() and (stored := _stored_before(request)):
        # A resend (the offline outbox, a double click) of what was stored: answered as saved,
        # even though the form would no longer validate. A valid resend is record_pain_once's.
        return _saved_answer(request, stored, before=None)
    if form.is_valid():
        data = dict(form.cleaned_data)
        body_parts = data.pop("body_part")
        client_id = data.pop("client_id", None)
        day = timezone.localtime(data["date_recorded"]).date()
        before = list_state(request, {day})
        try:
            if client_id is None:
                entries = services.record_pain_in_parts(
                    owner=request.user, body_parts=body_parts, **data
                )
            else:
                recorded = services.record_pain_once(
                    owner=request.user, client_id=client_id, body_parts=body_parts, **data
                )
                entries = recorded.entries
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _saved_answer(request, entries, before=before)
    context = {"form": form, "chosen_parts": chosen}
    return answer(request, DIARY, context, fragment="entry-panel", alone=RECORD_PAIN, status=422)


def _stored_before(request: HtmxHttpRequest) -> list[PainEntry]:
    """The entries already stored under the posted client_id (none if it is missing or bad)."""
    try:
        client_id = UUID(request.POST.get("client_id", ""))
    except ValueError:
        return []
    return services.stored_with_client_id(owner=request.user, client_id=client_id)


def _saved_answer(
    request: HtmxHttpRequest, entries: list[PainEntry], *, before: ListState | None
) -> HttpResponse:
    if not request.htmx:
        messages.success(request, _("Saved: %(summary)s.") % {"summary": saved_summary(entries)})
        return redirect("diary:diary")
    main = render_to_string(
        f"{DIARY}#entry-panel",
        {"saved": entries, "saved_summary": saved_summary(entries)},
        request,
    )
    if before is None:  # a resend: the list already shows these entries
        return HttpResponse(main)
    parts = {entry.body_part.name for entry in entries}
    return changed_answer(request, main=main, parts=parts, before=before)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def entry_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    if request.htmx:
        return answer(request, DIARY, {"entry": entry}, fragment="entry-item")
    return redirect(f"{reverse('diary:diary')}#entry-{entry.pk}")


@require_http_methods(["GET", "POST"])
@login_required
def entry_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    data = request.POST if request.method == "POST" else None
    form = PainEntryForm(data, instance=entry, auto_id=f"entry-{entry.pk}-%s")
    if form.is_bound and form.is_valid():
        old_day, old_part = _local_day(entry), entry.body_part.name
        new_day = timezone.localtime(form.cleaned_data["date_recorded"]).date()
        before = list_state(request, {old_day, new_day})
        try:
            services.update_pain_entry(entry=entry, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The entry was saved."))
                return redirect("diary:diary")
            parts = {old_part, entry.body_part.name}
            return changed_answer(request, main="", parts=parts, before=before)
    status = 422 if form.is_bound else 200
    context = {"form": form, "entry": entry}
    response = answer(
        request, DIARY, context, fragment="entry-edit", alone=EDIT_ENTRY, status=status
    )
    if request.htmx and form.is_bound:
        # The form's own swap is "none" (a save is all out of band): its errors go in its place.
        response["HX-Retarget"] = f"#entry-{entry.pk}"
        response["HX-Reswap"] = "outerHTML"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def entry_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    if request.method == "GET":
        context = {"entry": entry}
        return answer(request, DIARY, context, fragment="entry-delete", alone=DELETE_ENTRY)
    before = list_state(request, {_local_day(entry)})
    part = entry.body_part.name
    services.delete_pain_entry(entry=entry)
    if not request.htmx:
        messages.success(request, _("The entry was deleted."))
        return redirect("diary:diary")
    return changed_answer(request, main="", parts={part}, before=before)
