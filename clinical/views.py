"""The clinical pages: the Medications page (with each medication's doses and the check-in
settings), and the diary's panels (one-tap rescue dose, "did it help?", the PEG check-in).

Every form works without JavaScript (a POST that redirects back, with a message); with htmx
the diary's panels swap in place. Rows are always read through the signed-in patient's own
queryset, so another user's medication or dose is a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from clinical import services
from clinical.brief import brief_context, build_brief
from clinical.forms import CheckInForm, DoseForm, MedicationForm, PreferencesForm, ReliefForm
from clinical.models import DoseTaken, Medication
from clinical.panels import checkin_due, diary_panels_context
from diary.digest import PERIOD_CHOICES, requested_period
from diary.forms import add_service_errors, now_to_the_minute
from diary.views import HtmxHttpRequest
from diary.views.patients import linked_patient

MEDICATIONS = "clinical/medications.html"
DOSES = "clinical/doses.html"
PANELS = "clinical/_diary_panels.html#clinical-panels"
RELIEF_ERROR = _("Choose how much it helped, from 0 to 10, or “Don’t ask”.")
# Suggestions for the unit field (what the patient picks is stored as they see it).
UNITS = (
    pgettext_lazy("unit", "mg"),
    pgettext_lazy("unit", "g"),
    pgettext_lazy("unit", "mcg"),
    pgettext_lazy("unit", "ml"),
    pgettext_lazy("unit", "drops"),
    pgettext_lazy("unit", "tablet(s)"),
    pgettext_lazy("unit", "puff(s)"),
    pgettext_lazy("unit", "patch"),
)


def _require_patient(request: HtmxHttpRequest) -> None:
    if request.user.is_doctor:
        raise Http404("Doctors keep no medication list here.")


def _get_medication(request: HtmxHttpRequest, pk: int) -> Medication:
    _require_patient(request)
    try:
        return Medication.objects.for_user(request.user).get(pk=pk)
    except Medication.DoesNotExist:
        raise Http404("No such medication in your list.") from None


def _get_dose(request: HtmxHttpRequest, pk: int) -> DoseTaken:
    _require_patient(request)
    try:
        return DoseTaken.objects.for_user(request.user).select_related("medication").get(pk=pk)
    except DoseTaken.DoesNotExist:
        raise Http404("No such dose in your list.") from None


def _medications_page(
    request: HtmxHttpRequest,
    *,
    form: MedicationForm | None = None,
    preferences_form: PreferencesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    # Counted in the list's own query: no dose row is read to show how many there are.
    medications = Medication.objects.for_user(user).annotate(dose_count=Count("doses"))
    context = {
        "medications": medications,
        "form": form or MedicationForm(initial={"unit": UNITS[0], "kind": "rescue"}),
        "preferences_form": preferences_form
        or PreferencesForm(instance=services.preferences_for(user)),
        "units": UNITS,
    }
    return render(request, MEDICATIONS, context, status=status)


# --- the Medications page -----------------------------------------------------------------------


@require_GET
@login_required
def medication_list(request: HtmxHttpRequest) -> HttpResponse:
    _require_patient(request)
    return _medications_page(request)


@require_POST
@login_required
def medication_new(request: HtmxHttpRequest) -> HttpResponse:
    _require_patient(request)
    form = MedicationForm(request.POST)
    if form.is_valid():
        try:
            medication = services.add_medication(patient=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("Added %(name)s.") % {"name": medication.name})
            return redirect("clinical:medications")
    return _medications_page(request, form=form, status=422)


@require_http_methods(["GET", "POST"])
@login_required
def medication_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    medication = _get_medication(request, pk)
    form = MedicationForm(request.POST or None, instance=medication)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_medication(medication=medication, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, gettext("Saved %(name)s.") % {"name": medication.name})
                return redirect("clinical:medications")
        status = 422
        medication.refresh_from_db()
    return render(
        request,
        "clinical/medication_edit.html",
        {"medication": medication, "form": form, "units": UNITS},
        status=status,
    )


@require_POST
@login_required
def medication_active(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Stop (`active=0`) or restart (`active=1`) a medication."""
    medication = _get_medication(request, pk)
    active = request.POST.get("active")
    if active not in ("0", "1"):
        messages.error(request, gettext("Choose whether to stop or restart it."))
        return redirect("clinical:medications")
    services.set_medication_active(medication=medication, active=active == "1")
    done = gettext("Restarted %(name)s.") if active == "1" else gettext("Stopped %(name)s.")
    messages.success(request, done % {"name": medication.name})
    return redirect("clinical:medications")


@require_http_methods(["GET", "POST"])
@login_required
def medication_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    medication = _get_medication(request, pk)
    if request.method == "POST":
        name = medication.name
        services.delete_medication(medication=medication)
        messages.success(request, gettext("Deleted %(name)s and its doses.") % {"name": name})
        return redirect("clinical:medications")
    return render(
        request,
        "clinical/medication_delete.html",
        {"medication": medication, "dose_count": medication.doses.count()},
    )


@require_http_methods(["GET", "POST"])
@login_required
def medication_doses(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One medication's doses, newest first, and a form to record one (back-dated or now)."""
    medication = _get_medication(request, pk)
    status = 200
    if request.method == "POST":
        form = DoseForm(request.POST)
        if form.is_valid():
            try:
                services.take_dose(medication=medication, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, gettext("Recorded a dose of %(name)s.") % {"name": medication.name}
                )
                return redirect("clinical:medication-doses", pk=medication.pk)
        status = 422
    else:
        form = DoseForm(initial={"taken_at": now_to_the_minute(), "dose": medication.usual_dose})
    return render(
        request,
        DOSES,
        {
            "medication": medication,
            "doses": medication.doses.select_related("entry__body_part")[:200],
            "form": form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def dose_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks first: the dose's row turns into a confirmation (htmx), or a page of its own
    (no JavaScript); `?cancel=1` gives the row back. POST deletes."""
    dose = _get_dose(request, pk)
    medication = dose.medication
    if request.method == "GET":
        context = {"dose": dose, "medication": medication}
        if not request.htmx:
            return render(request, "clinical/dose_delete.html", context)
        fragment = "dose-row" if request.GET.get("cancel") else "dose-delete"
        return render(request, f"{DOSES}#{fragment}", context)
    taken_at = timezone.localtime(dose.taken_at)
    services.delete_dose(dose=dose)
    if request.htmx:
        # The row goes (an empty swap); the status line says so, for screen readers too.
        return render(request, f"{DOSES}#dose-deleted", {"taken_at": taken_at})
    when = formats.date_format(taken_at, "j E, H:i")
    messages.success(request, gettext("Deleted the dose of %(when)s.") % {"when": when})
    return redirect("clinical:medication-doses", pk=medication.pk)


@require_POST
@login_required
def preferences(request: HtmxHttpRequest) -> HttpResponse:
    _require_patient(request)
    form = PreferencesForm(request.POST, instance=services.preferences_for(request.user))
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.save_preferences(user=request.user, **fields)
        messages.success(request, gettext("Saved your check-in and reminder settings."))
        return redirect("clinical:medications")
    return _medications_page(request, preferences_form=form, status=422)


# --- the diary's panels -------------------------------------------------------------------------


def _panels(request: HtmxHttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    """After a panel's form: the panels again (htmx), or back to the diary (no JavaScript)."""
    if request.htmx:
        return render(request, PANELS, diary_panels_context(request.user, **extra), status=status)
    if status >= 400:
        return render(
            request,
            "clinical/panel_page.html",
            diary_panels_context(request.user, **extra),
            status=status,
        )
    return redirect("diary:diary")


@require_POST
@login_required
@vary_on_headers("HX-Request")
def take_rescue(request: HtmxHttpRequest) -> HttpResponse:
    """The diary's one tap: a dose of a rescue medication, now, at its usual dose."""
    _require_patient(request)
    pk = request.POST.get("medication", "")
    medication = (
        Medication.objects.for_user(request.user).active().filter(pk=int(pk)).first()
        if pk.isdigit() and len(pk) < 19
        else None
    )
    if medication is None:
        return _panels(
            request, status=422, panel_error=gettext("Choose one of your rescue medications.")
        )
    dose = services.take_dose(medication=medication)
    if not request.htmx:
        at = timezone.localtime(dose.taken_at)
        messages.success(
            request,
            gettext("Recorded %(name)s at %(time)s. The diary asks later if it helped.")
            % {"name": medication.name, "time": f"{at:%H:%M}"},
        )
    return _panels(request, taken=dose)


@require_POST
@login_required
@vary_on_headers("HX-Request")
def dose_relief(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The answer to "did it help?" (0-10), or "don't ask" for this dose."""
    dose = _get_dose(request, pk)
    form = ReliefForm(request.POST)
    if not form.is_valid():
        return _panels(request, status=422, relief_error=RELIEF_ERROR)
    relief = None if form.cleaned_data["dismiss"] else form.cleaned_data["relief"]
    services.answer_relief(dose=dose, relief=relief)
    if relief is not None and not request.htmx:
        messages.success(
            request, gettext("Thanks: relief %(relief)s/10 noted.") % {"relief": relief}
        )
    return _panels(request, relief_answered=dose if relief is not None else None)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def checkin(request: HtmxHttpRequest) -> HttpResponse:
    """The weekly PEG check-in: on the diary as a card, here as a page of its own."""
    _require_patient(request)
    if request.method == "GET":
        if not checkin_due(request.user):
            messages.info(
                request, gettext("No check-in is due: the diary shows it on your check-in day.")
            )
            return redirect("diary:diary")
        return render(request, "clinical/panel_page.html", diary_panels_context(request.user))
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            done = services.record_checkin(patient=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(
                    request, gettext("Check-in saved: PEG score %(score)s.") % {"score": done.score}
                )
            return _panels(request, checkin_done=done)
    return _panels(request, status=422, checkin_form=form)


# --- the doctor's brief -------------------------------------------------------------------------


@require_GET
@login_required
def patient_brief(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """A linked patient's 60-second brief: the period (`?days=N` or `?start=&end=`, as the
    digest; the last 30 days by default) against the one before it. Read-only, logged as a
    read of the diary, rendered in the patient's zone."""
    patient = linked_patient(request, username, what="brief")
    tz = patient.tzinfo
    asked = requested_period(request.GET, tz)
    period, period_error, custom, status = asked.period, asked.error, asked.custom, asked.status
    brief = build_brief(patient=patient, period=period, tz=tz)
    base = reverse("clinical:patient-brief", args=[patient.username])
    context = {
        **brief_context(brief),
        "period_error": period_error,
        "custom": custom,
        "period_links": [
            {
                "days": days,
                "url": f"{base}?days={days}",
                "current": not custom and days == period.days,
            }
            for days in PERIOD_CHOICES
        ],
        "digest_url": f"{reverse('diary:patient-digest', args=[patient.username])}"
        f"?{urlencode(asked.query)}",
        "patient_zone": tz.key,
        "viewer_zone": request.user.tzinfo.key,
        "patient_now": timezone.now(),  # the zone note's clock
    }
    with timezone.override(tz):
        return render(request, "clinical/brief.html", context, status=status)
