"""The clinical API under /api/diary/: medications, doses and PEG check-ins.

Same conventions as diary/api.py: token auth, `{"error": ...}` or field errors, PATCH and
DELETE name the row in the body (`medication_pk`, `dose_pk`), another user's row is a 404,
and a linked doctor reads (GET only) with `?patient=<username>`, which the patient's access
log records.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access
from accounts.models import User
from clinical import services
from clinical.models import (
    DOSE_MAX,
    PEG_MAX,
    PEG_MIN,
    RELIEF_MAX,
    RELIEF_MIN,
    CheckIn,
    DoseTaken,
    Medication,
)
from core.api import (
    BAD_REQUEST,
    NOT_FOUND,
    UNAUTHORIZED,
    BadRequest,
    StrictBooleanField,
    StrictCharField,
    error,
)
from diary.digest import user_timezone
from diary.models import PainEntry, validate_not_in_future

PK_MAX = 2**63 - 1
NO_CONTENT = OpenApiResponse(description="Deleted.")
PATIENT_PARAMETER = OpenApiParameter(
    "patient",
    str,
    description="A linked doctor reads this patient's data (read-only; recorded in the "
    "patient's access log). Anyone else gets 404.",
    required=False,
)
PATIENT_NOT_FOUND = _("Patient not found")
DOSE_OPTIONS = {
    "max_digits": 7,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "max_value": DOSE_MAX,
    "coerce_to_string": False,
}


# --- shapes -------------------------------------------------------------------------------------


class MedicationSerializer(serializers.ModelSerializer):
    usual_dose = serializers.DecimalField(**DOSE_OPTIONS)

    class Meta:
        model = Medication
        fields = ["id", "name", "usual_dose", "unit", "kind", "active", "created", "stopped"]
        read_only_fields = fields


class MedicationCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    usual_dose = serializers.DecimalField(**DOSE_OPTIONS)
    unit = StrictCharField(max_length=16, required=False, default="mg")
    kind = serializers.ChoiceField(
        choices=Medication.Kind.choices, required=False, default="rescue"
    )


class MedicationUpdateSerializer(serializers.Serializer):
    medication_pk = serializers.IntegerField(min_value=1, max_value=PK_MAX)
    name = StrictCharField(max_length=100, required=False)
    usual_dose = serializers.DecimalField(required=False, **DOSE_OPTIONS)
    unit = StrictCharField(max_length=16, required=False)
    kind = serializers.ChoiceField(choices=Medication.Kind.choices, required=False)
    active = StrictBooleanField(required=False, help_text="false stops it, true restarts it.")


class MedicationDeleteSerializer(serializers.Serializer):
    medication_pk = serializers.IntegerField(min_value=1, max_value=PK_MAX)


class DoseSerializer(serializers.ModelSerializer):
    medication_name = serializers.CharField(source="medication.name", read_only=True)
    dose = serializers.DecimalField(**DOSE_OPTIONS)
    relief = serializers.IntegerField(
        allow_null=True, help_text="0 (no relief) to 10 (complete relief); null: not answered."
    )

    class Meta:
        model = DoseTaken
        fields = ["id", "medication", "medication_name", "taken_at", "dose", "entry", "relief"]
        read_only_fields = fields


class DoseCreateSerializer(serializers.Serializer):
    medication = serializers.IntegerField(min_value=1, max_value=PK_MAX)
    taken_at = serializers.DateTimeField(required=False, validators=[validate_not_in_future])
    dose = serializers.DecimalField(required=False, **DOSE_OPTIONS)
    entry = serializers.IntegerField(
        min_value=1, max_value=PK_MAX, required=False, allow_null=True, help_text="A pain entry."
    )
    relief = serializers.IntegerField(
        min_value=RELIEF_MIN, max_value=RELIEF_MAX, required=False, allow_null=True
    )


class DoseUpdateSerializer(serializers.Serializer):
    dose_pk = serializers.IntegerField(min_value=1, max_value=PK_MAX)
    taken_at = serializers.DateTimeField(required=False, validators=[validate_not_in_future])
    dose = serializers.DecimalField(required=False, **DOSE_OPTIONS)
    entry = serializers.IntegerField(min_value=1, max_value=PK_MAX, required=False, allow_null=True)
    relief = serializers.IntegerField(
        min_value=RELIEF_MIN, max_value=RELIEF_MAX, required=False, allow_null=True
    )


class DoseDeleteSerializer(serializers.Serializer):
    dose_pk = serializers.IntegerField(min_value=1, max_value=PK_MAX)


class CheckInSerializer(serializers.ModelSerializer):
    score = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        coerce_to_string=False,
        help_text="The mean of the three answers (LOINC 91147-9, Mean score [PEG]).",
    )

    class Meta:
        model = CheckIn
        fields = ["id", "week", "average", "enjoyment", "activity", "score", "answered_at"]
        read_only_fields = fields


class CheckInCreateSerializer(serializers.Serializer):
    average = serializers.IntegerField(
        min_value=PEG_MIN, max_value=PEG_MAX, help_text="Average pain in the past week (0-10)."
    )
    enjoyment = serializers.IntegerField(
        min_value=PEG_MIN,
        max_value=PEG_MAX,
        help_text="How much pain interfered with enjoyment of life in the past week (0-10).",
    )
    activity = serializers.IntegerField(
        min_value=PEG_MIN,
        max_value=PEG_MAX,
        help_text="How much pain interfered with general activity in the past week (0-10).",
    )


# --- helpers ------------------------------------------------------------------------------------


def _reader(request: Request, what: str) -> User | None:
    """Whose rows a GET reads (the caller's, or a linked doctor's patient: logged)."""
    patient = access.readable_patient(request.user, request.query_params.get("patient", ""))
    if patient is not None:
        access.record_diary_access(viewer=request.user, patient=patient, what=what)
    return patient


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    # Not every client can send a DELETE body: there the pk may come as a query parameter.
    data = request.query_params if request.method == "DELETE" and not request.data else request.data
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(getattr(exc, "message_dict", {"error": exc.messages}))


def _own_entry(user: User, data: dict[str, Any]) -> None:
    """Turn an `entry` id into the caller's own pain entry (a field error otherwise)."""
    if data.get("entry") is None:
        return
    entry = PainEntry.objects.for_user(user).filter(pk=data["entry"]).first()
    if entry is None:
        raise serializers.ValidationError({"entry": [_("No such pain entry in your diary.")]})
    data["entry"] = entry


def _since(request: Request, patient: User) -> datetime | None:
    """`?since=` as an ISO date (midnight in the patient's zone) or date-time (UTC if naive)."""
    raw = request.query_params.get("since")
    if raw is None:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is None:
                raise ValueError
            return datetime.combine(day, time.min, tzinfo=user_timezone(patient))
    except ValueError:
        raise BadRequest(
            _("since must be a date (2026-01-31) or a date-time (ISO 8601).")
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.UTC)
    return moment


# --- medications --------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[PATIENT_PARAMETER],
    responses={200: MedicationSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Your medications, active first (a linked doctor: the patient's)",
)
@extend_schema(
    methods=["POST"],
    request=MedicationCreateSerializer,
    responses={201: MedicationSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    summary="Add a medication (kind: rescue, taken as needed, or preventive)",
)
@extend_schema(
    methods=["PATCH"],
    request=MedicationUpdateSerializer,
    responses={200: MedicationSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Change a medication, or stop (active: false) / restart it",
)
@extend_schema(
    methods=["DELETE"],
    request=MedicationDeleteSerializer,
    responses={204: NO_CONTENT, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Delete a medication and its doses",
)
@api_view(["GET", "POST", "PATCH", "DELETE"])
def medications(request: Request) -> Response:
    user = request.user
    if request.method == "GET":
        patient = _reader(request, "medications (API)")
        if patient is None:
            return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
        rows = Medication.objects.for_user(patient)
        return Response(MedicationSerializer(rows, many=True).data)
    if request.method == "POST":
        data = _validated(MedicationCreateSerializer, request)
        try:
            medication = services.add_medication(patient=user, **data)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(MedicationSerializer(medication).data, status=status.HTTP_201_CREATED)

    serializer_class = (
        MedicationUpdateSerializer if request.method == "PATCH" else MedicationDeleteSerializer
    )
    data = _validated(serializer_class, request)
    medication = Medication.objects.for_user(user).filter(pk=data.pop("medication_pk")).first()
    if medication is None:
        return error(_("Medication not found"), status.HTTP_404_NOT_FOUND)
    if request.method == "DELETE":
        services.delete_medication(medication=medication)
        return Response(status=status.HTTP_204_NO_CONTENT)
    active = data.pop("active", None)
    try:
        if data:
            services.update_medication(medication=medication, **data)
    except DjangoValidationError as exc:
        raise _service_errors(exc) from exc
    if active is not None and active != medication.active:
        services.set_medication_active(medication=medication, active=active)
    return Response(MedicationSerializer(medication).data)


# --- doses --------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[
        PATIENT_PARAMETER,
        OpenApiParameter(
            "since",
            OpenApiTypes.STR,
            description="Only doses taken from then on: a date (the patient's midnight) or an "
            "ISO 8601 date-time.",
        ),
    ],
    responses={
        200: DoseSerializer(many=True),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
    },
    summary="Doses taken, newest first (a linked doctor: the patient's)",
)
@extend_schema(
    methods=["POST"],
    request=DoseCreateSerializer,
    responses={201: DoseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    summary="Record a dose (now and the usual dose unless given; never the future)",
)
@extend_schema(
    methods=["PATCH"],
    request=DoseUpdateSerializer,
    responses={200: DoseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Change a dose, e.g. its relief (0-10)",
)
@extend_schema(
    methods=["DELETE"],
    request=DoseDeleteSerializer,
    responses={204: NO_CONTENT, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Delete a dose",
)
@api_view(["GET", "POST", "PATCH", "DELETE"])
def doses(request: Request) -> Response:
    user = request.user
    if request.method == "GET":
        patient = access.readable_patient(user, request.query_params.get("patient", ""))
        if patient is None:
            return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
        since = _since(request, patient)
        access.record_diary_access(viewer=user, patient=patient, what="medication doses (API)")
        rows = DoseTaken.objects.for_user(patient).select_related("medication")
        if since is not None:
            rows = rows.filter(taken_at__gte=since)
        return Response(DoseSerializer(rows, many=True).data)
    if request.method == "POST":
        data = _validated(DoseCreateSerializer, request)
        medication = Medication.objects.for_user(user).filter(pk=data.pop("medication")).first()
        if medication is None:
            raise serializers.ValidationError(
                {"medication": [_("No such medication in your list.")]}
            )
        _own_entry(user, data)
        try:
            dose = services.take_dose(medication=medication, **data)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(DoseSerializer(dose).data, status=status.HTTP_201_CREATED)

    serializer_class = DoseUpdateSerializer if request.method == "PATCH" else DoseDeleteSerializer
    data = _validated(serializer_class, request)
    dose = (
        DoseTaken.objects.for_user(user)
        .select_related("medication")
        .filter(pk=data.pop("dose_pk"))
        .first()
    )
    if dose is None:
        return error(_("Dose not found"), status.HTTP_404_NOT_FOUND)
    if request.method == "DELETE":
        services.delete_dose(dose=dose)
        return Response(status=status.HTTP_204_NO_CONTENT)
    _own_entry(user, data)
    try:
        services.update_dose(dose=dose, **data)
    except DjangoValidationError as exc:
        raise _service_errors(exc) from exc
    return Response(DoseSerializer(dose).data)


# --- PEG check-ins ------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[PATIENT_PARAMETER],
    responses={200: CheckInSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    summary="Weekly PEG check-ins, newest first (a linked doctor: the patient's)",
)
@extend_schema(
    methods=["POST"],
    request=CheckInCreateSerializer,
    responses={201: CheckInSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    summary="This week's PEG-3 check-in (one per week, in the patient's zone); score = mean",
)
@api_view(["GET", "POST"])
def checkins(request: Request) -> Response:
    if request.method == "GET":
        patient = _reader(request, "weekly check-ins (API)")
        if patient is None:
            return error(PATIENT_NOT_FOUND, status.HTTP_404_NOT_FOUND)
        return Response(CheckInSerializer(patient.checkins.all(), many=True).data)
    data = _validated(CheckInCreateSerializer, request)
    try:
        checkin = services.record_checkin(patient=request.user, **data)
    except DjangoValidationError as exc:
        if exc.code == "duplicate":
            return error(exc.messages[0], status.HTTP_400_BAD_REQUEST)
        raise _service_errors(exc) from exc
    return Response(CheckInSerializer(checkin).data, status=status.HTTP_201_CREATED)
