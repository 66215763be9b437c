"""The digest page's download buttons."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from diary.exports import EXPORT_FORMATS, export_response
from diary.views import HtmxHttpRequest


@require_GET
@login_required
def export(request: HtmxHttpRequest) -> HttpResponse:
    """`?format=csv|csv-notes|fhir`, a doctor adds `&patient=<username>`. Times are in the
    patient's zone, as from the API (diary.exports.export_response)."""
    fmt = request.GET.get("format", "")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse(_("Unknown export format."), status=400, content_type="text/plain")
    patient = access.readable_patient(request.user, request.GET.get("patient", ""))
    if patient is None:
        raise Http404(_("No such patient among yours."))
    return export_response(viewer=request.user, patient=patient, fmt=fmt)
