"""The diary API under /api/diary/ (the original backend's routes and shapes)."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Max
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access
from accounts.models import User
from core.api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, ErrorSerializer, error
from core.prepared import PreparedQuery
from diary import services
from diary.digest import PeriodError, build_digest, parse_period
from diary.exports import EXPORT_FORMATS, export_response
from diary.models import Note, PainEntry, body_parts_by_pk
from diary.serializers import (
    BodyPartSerializer,
    DigestSerializer,
    NoteCreateOnceSerializer,
    NoteDeleteSerializer,
    NoteSerializer,
    NoteUpdateSerializer,
    StatCreateSerializer,
    StatDeleteSerializer,
    StatSerializer,
    StatUpdateSerializer,
    stats_as_json,
)

NO_CONTENT = OpenApiResponse(description="Deleted.")
STATS_CACHE_SECONDS = 300
PATIENT_PARAMETER = OpenApiParameter(
    "patient",
    str,
    description="A linked doctor reads this patient's data (read-only; recorded in the "
    "patient's access log). Anyone else gets 404.",
    required=False,
)
PATIENT_NOT_FOUND = gettext_lazy("Patient not found")


def _patient_for(request: Request) -> User | None:
    """Whose data a GET reads: the caller's, or a linked doctor's patient (logged as a read)."""
    return access.readable_patient(request.user, request.query_params.get("patient", ""))


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    # Not every client can send a DELETE body: there the pk may come as a query parameter.
    data = request.query_params if request.method == "DELETE" and not request.data else request.data
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    """The model's own rules (checked again by the service) as DRF field errors."""
    return serializers.ValidationError(getattr(exc, "message_dict", {"error": exc.messages}))


def _stats_versions(owner_id: int):
    return (
        PainEntry.objects.filter(owner_id=owner_id)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"), top=Max("id"), changed=Max("last_modified"))
    )


# Asked on every GET of the list: compiled once (building it took several times what running it
# did, in a py-spy profile).
_stats_version = PreparedQuery(_stats_versions, owner_id=-7_350_101)


def _stats_list(request: Request, patient: User) -> HttpResponse:
    """The list, rendered once per version of the diary and answered from the cache after.

    The version comes from the database on every request (count, newest id, latest change:
    any insert, update or delete changes it), so nothing has to invalidate the cache and
    several processes never serve a stale list. It doubles as the ETag: a client sending it
    back in If-None-Match gets a 304 without a body.
    """
    rows = _stats_version.values(owner_id=patient.pk)
    version = rows[0] if rows else {"n": 0, "top": None, "changed": None}
    changed = version["changed"].timestamp() if version["changed"] else 0
    # "v2": the rows gained `factors`; an ETag from before must not answer 304 to the new shape.
    etag = f'"v2-{version["n"]}-{version["top"] or 0}-{changed}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    key = f"diary:stats:{patient.pk}:{etag}"
    body = cache.get(key)
    if body is None:
        body = json.dumps(stats_as_json(PainEntry.objects.for_user(patient)), ensure_ascii=False)
        cache.set(key, body, timeout=STATS_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json", headers=headers)


_body_parts_json: dict[str, bytes] = {}


def body_parts_json() -> bytes:
    """The body parts as the API sends them, built once per process: the 44 parts are a fixed
    contract (a migration loads them; the admin shows them read-only), so serializing the same
    rows on every request bought nothing. One body per language: `label` is in the active one
    (Accept-Language). An empty table (a test database being flushed) is never kept."""
    language = translation.get_language() or ""
    body = _body_parts_json.get(language)
    if body is None:
        data = BodyPartSerializer(body_parts_by_pk().values(), many=True).data
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        if not data:
            return body
        _body_parts_json[language] = body
    return body


@extend_schema(responses={200: BodyPartSerializer(many=True), 401: UNAUTHORIZED})
@api_view(["GET"])
def body_parts(request: Request) -> HttpResponse:
    """The 44 body parts of the map (ids and names are stable)."""
    return HttpResponse(body_parts_json(), content_type="application/json")


@extend_schema(
    methods=["GET"],
    parameters=[PATIENT_PARAMETER],
    responses={200: NoteSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Your notes, newest first (a linked doctor: the patient's shared notes)",
)
@extend_schema(
    methods=["POST"],
    request=NoteCreateOnceSerializer,
    responses={
        201: NoteSerializer,
        200: OpenApiResponse(NoteSerializer, description="This client_id was already stored."),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
    },
    summary="Write a note",
)
@extend_schema(
    methods=["PATCH"],
    request=NoteUpdateSerializer,
    responses={200: NoteSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Change a note's title or body",
)
@extend_schema(
    methods=["DELETE"],
    request=NoteDeleteSerializer,
    responses={204: NO_CONTENT, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Delete a note",
)
@api_view(["GET", "POST", "PATCH", "DELETE"])
def notes(request: Request) -> Response:
    user = request.user
    if request.method == "GET":
        patient = _patient_for(request)
        if patient is None:
            return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
        readable = patient.notes.all()
        if patient.pk != user.pk:
            readable = readable.filter(shared=True)
            access.record_diary_access(viewer=user, patient=patient, what="shared notes (API)")
        return Response(NoteSerializer(readable, many=True).data)
    if request.method == "POST":
        data = _validated(NoteCreateOnceSerializer, request)
        client_id = data.pop("client_id", None)
        try:
            if client_id is None:
                note, created = services.create_note(owner=user, **data), True
            else:
                note, created = services.create_note_once(owner=user, client_id=client_id, **data)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        # 201 when stored now; 200 for a resend: nothing was created, here is what was.
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(NoteSerializer(note).data, status=answer)

    serializer_class = NoteUpdateSerializer if request.method == "PATCH" else NoteDeleteSerializer
    data = _validated(serializer_class, request)
    note = Note.objects.filter(owner=user, pk=data.pop("note_pk")).first()
    if note is None:
        return error(_("Note not found"), status.HTTP_404_NOT_FOUND)
    if request.method == "DELETE":
        services.delete_note(note=note)
        return Response(status=status.HTTP_204_NO_CONTENT)
    try:
        services.update_note(note=note, **data)
    except DjangoValidationError as exc:
        raise _service_errors(exc) from exc
    return Response(NoteSerializer(note).data)


@extend_schema(
    methods=["GET"],
    parameters=[PATIENT_PARAMETER],
    responses={200: StatSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Your pain entries, newest first (a linked doctor: the patient's)",
)
@extend_schema(
    methods=["POST"],
    request=StatCreateSerializer,
    responses={
        201: StatSerializer,
        200: OpenApiResponse(StatSerializer, description="This client_id was already stored."),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
    },
    summary="Record pain in one body part (date_recorded: now by default, never the future)",
)
@extend_schema(
    methods=["PATCH"],
    request=StatUpdateSerializer,
    responses={200: StatSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Change a pain entry",
)
@extend_schema(
    methods=["DELETE"],
    request=StatDeleteSerializer,
    responses={204: NO_CONTENT, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Delete a pain entry",
)
@api_view(["GET", "POST", "PATCH", "DELETE"])
def stats(request: Request) -> Response:
    user = request.user
    if request.method == "GET":
        patient = _patient_for(request)
        if patient is None:
            return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
        access.record_diary_access(viewer=user, patient=patient, what="pain entries (API)")
        return _stats_list(request, patient)
    if request.method == "POST":
        data = _validated(StatCreateSerializer, request)
        client_id = data.pop("client_id", None)
        try:
            if client_id is None:
                entry, created = services.record_pain(owner=user, **data), True
            else:
                body_part = data.pop("body_part")
                recorded = services.record_pain_once(
                    owner=user, client_id=client_id, body_parts=[body_part], **data
                )
                entry, created = recorded.entries[0], recorded.created
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        # 201 when stored now; 200 for a resend: nothing was created, here is what was.
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(stats_as_json([entry])[0], status=answer)

    serializer_class = StatUpdateSerializer if request.method == "PATCH" else StatDeleteSerializer
    data = _validated(serializer_class, request)
    entry = PainEntry.objects.for_user(user).filter(pk=data.pop("stat_pk")).first()
    if entry is None:
        return error(_("Stat not found"), status.HTTP_404_NOT_FOUND)
    if request.method == "DELETE":
        services.delete_pain_entry(entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)
    try:
        services.update_pain_entry(entry=entry, **data)
    except DjangoValidationError as exc:
        raise _service_errors(exc) from exc
    return Response(stats_as_json([entry])[0])


@extend_schema(
    parameters=[
        PATIENT_PARAMETER,
        OpenApiParameter("days", int, description="The last N days, today included (1-366)."),
        OpenApiParameter("start", OpenApiTypes.DATE, description="First day (with end)."),
        OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included (with start)."),
    ],
    responses={200: DigestSerializer, 400: ErrorSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="How pain changed over a period, in the patient's own days (default: 30 days)",
)
@api_view(["GET"])
def digest(request: Request) -> Response:
    patient = _patient_for(request)
    if patient is None:
        return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
    tz = patient.tzinfo
    try:
        period = parse_period(request.query_params, timezone.now().astimezone(tz).date())
    except PeriodError as exc:
        return error(str(exc), status.HTTP_400_BAD_REQUEST)
    result = build_digest(patient=patient, period=period, tz=tz)
    access.record_diary_access(viewer=request.user, patient=patient, what="digest (API)")
    return Response(result.as_json())


@extend_schema(
    parameters=[
        PATIENT_PARAMETER,
        OpenApiParameter(
            "format",
            str,
            enum=list(EXPORT_FORMATS),
            required=True,
            description="csv: pain entries; csv-notes: notes (a doctor gets the shared ones); "
            "fhir: a FHIR R4 Bundle: the entries as Symptoms IG observations, medications "
            "and doses as MedicationStatements, PEG check-ins as QuestionnaireResponses.",
        ),
    ],
    responses={
        (200, "text/csv"): OpenApiTypes.STR,
        (200, "application/fhir+json"): OpenApiTypes.OBJECT,
        400: ErrorSerializer,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
    },
    summary="Download the diary: CSV for spreadsheets, FHIR R4 for health records",
)
@api_view(["GET"])
def export(request: Request) -> Response | HttpResponse:
    fmt = request.query_params.get("format", "")
    if fmt not in EXPORT_FORMATS:
        return error(
            _("format must be one of: %(formats)s") % {"formats": ", ".join(EXPORT_FORMATS)}, 400
        )
    patient = _patient_for(request)
    if patient is None:
        return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
    return export_response(viewer=request.user, patient=patient, fmt=fmt)
