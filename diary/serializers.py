"""The diary's API shapes (a contract with the original backend's clients)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import LeanSerializer, StrictBooleanField, StrictCharField
from diary.bodymap import PARTS_BY_ID
from diary.models import (
    INTENSITY_MAX,
    INTENSITY_MIN,
    MAX_FACTOR_LENGTH,
    MAX_FACTORS,
    BodyPart,
    Note,
    PainEntry,
    PainType,
    validate_not_in_future,
)
from diary.services import normalise_factors


class BodyPartSerializer(serializers.ModelSerializer):
    # The label people read, in the request's language (Accept-Language); `name` never changes.
    label = serializers.CharField(source="display_label", read_only=True)

    class Meta:
        model = BodyPart
        fields = ["id", "name", "label", "view"]


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "title", "body", "shared", "created_on", "last_modified"]
        read_only_fields = fields


class NoteCreateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=255)
    body = StrictCharField(max_length=20000, required=False, allow_blank=True, default="")
    shared = StrictBooleanField(required=False, default=False)


class ClientIdField(serializers.UUIDField):
    """A UUID written as text: DRF's own also takes a number (12 is UUID int 12)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class NoteCreateOnceSerializer(NoteCreateSerializer):
    client_id = ClientIdField(
        required=False,
        help_text="A UUID you pick for this note: sending it again returns the stored note "
        "(200) instead of storing a second one (201).",
    )


class NoteUpdateSerializer(serializers.Serializer):
    note_pk = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    title = StrictCharField(max_length=255, required=False)
    body = StrictCharField(max_length=20000, required=False, allow_blank=True)
    shared = StrictBooleanField(required=False)


class NoteDeleteSerializer(serializers.Serializer):
    note_pk = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class StatSerializer(serializers.ModelSerializer):
    """A pain entry as the API shows it; `body_part` is the part's id."""

    factors = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What may have set the pain off ([] if none).",
    )

    class Meta:
        model = PainEntry
        fields = [
            "id",
            "body_part",
            "pain_type",
            "intensity",
            "description",
            "date_recorded",
            "factors",
            "last_modified",
        ]
        read_only_fields = fields


FACTORS_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "maxLength": MAX_FACTOR_LENGTH},
    "maxItems": MAX_FACTORS,
    "description": (
        'What may have set the pain off, e.g. ["poor sleep", "stress"]: presets (poor sleep, '
        "stress, weather, long sitting, exercise, lifting, screen time, menstruation) in any "
        f"case, or the patient's own words; at most {MAX_FACTORS} of at most "
        f"{MAX_FACTOR_LENGTH} characters (blank ones are dropped). Optional: left out, a new "
        "entry has none and a change keeps them."
    ),
}


@extend_schema_field(FACTORS_SCHEMA)
class FactorsField(serializers.Field):
    """A list of factors, normalised by the service's rule. Its errors are one flat list of
    messages ({"factors": ["..."]}), not DRF's per-item dict."""

    default_error_messages = {"not_a_list": _("Expected a list of strings.")}

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        try:
            return normalise_factors(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["factors"]) from exc

    def to_representation(self, value: Any) -> list[str]:
        return list(value or [])


# The schema a PrimaryKeyRelatedField on BodyPart had: the contract does not change.
@extend_schema_field({"type": "integer", "maximum": 2**63 - 1, "minimum": 0, "format": "int64"})
class BodyPartField(serializers.Field):
    """A body part by id. The 44 parts are fixed (a data migration loads them), so an id is
    checked against that list instead of a query per write. Not a PrimaryKeyRelatedField: its
    queryset was never asked, yet DRF deep-copied it (a Query) with the serializer's fields on
    every write. The errors are that field's own (and so are their translations)."""

    default_error_messages = serializers.PrimaryKeyRelatedField.default_error_messages

    def to_representation(self, value: BodyPart) -> int:
        return value.pk

    def to_internal_value(self, data: Any) -> BodyPart:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        part = PARTS_BY_ID.get(pk)
        if part is None:
            self.fail("does_not_exist", pk_value=data)
        return BodyPart(id=pk, name=part.name, label=part.label, view=part.view)


class StatWriteSerializer(LeanSerializer):
    """The fields a client may set on a stat; validated before the service stores them."""

    body_part = BodyPartField()
    pain_type = serializers.ChoiceField(choices=PainType.choices)
    intensity = serializers.IntegerField(min_value=INTENSITY_MIN, max_value=INTENSITY_MAX)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    date_recorded = serializers.DateTimeField(required=False, validators=[validate_not_in_future])
    factors = FactorsField(required=False)


class StatCreateSerializer(StatWriteSerializer):
    """A new stat; `client_id` makes a retry safe."""

    client_id = ClientIdField(
        required=False,
        help_text="A UUID you pick for this entry: sending it again returns the stored entry "
        "(200) instead of storing a second one (201).",
    )


class StatUpdateSerializer(StatWriteSerializer):
    """`stat_pk` and any of the writable fields; what is left out stays as it is."""

    stat_pk = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in fields.items():
            if name != "stat_pk":
                field.required = False
                field.default = serializers.empty
        return fields


class StatDeleteSerializer(serializers.Serializer):
    stat_pk = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


STAT_COLUMNS = (
    "id",
    "body_part_id",
    "pain_type",
    "intensity",
    "description",
    "date_recorded",
    "factors",
    "last_modified",
)


def _iso(value: datetime) -> str:
    # What DRF's DateTimeField renders under the API's UTC: ISO 8601 with "Z".
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z"


def stats_as_json(entries: QuerySet[PainEntry] | Iterable[PainEntry]) -> list[dict[str, Any]]:
    """StatSerializer(many=True).data without DRF's per-field machinery: the list is hot, so a
    queryset is read as plain tuples (no model instances) and dates are formatted directly."""
    if isinstance(entries, QuerySet):
        rows = entries.values_list(*STAT_COLUMNS)
    else:
        rows = ([getattr(entry, column) for column in STAT_COLUMNS] for entry in entries)
    return [
        {
            "id": pk,
            "body_part": body_part,
            "pain_type": pain_type,
            "intensity": intensity,
            "description": description,
            "date_recorded": _iso(recorded),
            "factors": factors or [],
            "last_modified": _iso(modified),
        }
        for pk, body_part, pain_type, intensity, description, recorded, factors, modified in rows
    ]


# The digest's shape, for the OpenAPI schema (the numbers come from diary.digest).
class DigestPartSerializer(serializers.Serializer):
    body_part = serializers.IntegerField()
    name = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    mean = serializers.FloatField()
    max = serializers.IntegerField()
    latest = serializers.IntegerField()
    trend = serializers.FloatField(
        allow_null=True,
        help_text=(
            "Mean of the period's second half minus its first; null when there is no trend yet "
            "(a single entry, or entries in only one half)."
        ),
    )


class DigestDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()
    max = serializers.IntegerField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)


class WorstDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    max = serializers.IntegerField()
    mean = serializers.FloatField()


class DigestFactorSerializer(serializers.Serializer):
    factor = serializers.CharField()
    entries = serializers.IntegerField(help_text="Entries of the period carrying this factor.")
    days = serializers.IntegerField(help_text="Days with at least one such entry.")
    mean_with = serializers.FloatField(help_text="Mean intensity of those entries.")
    mean_without = serializers.FloatField(
        allow_null=True, help_text="Mean intensity of the period's other entries (null if none)."
    )
    sentence = serializers.CharField()


class DigestSerializer(serializers.Serializer):
    patient = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    entries = serializers.IntegerField()
    days_with_entries = serializers.IntegerField()
    body_parts = DigestPartSerializer(many=True)
    pain_types = serializers.DictField(child=serializers.IntegerField())
    timeline = DigestDaySerializer(many=True)
    worst_days = WorstDaySerializer(many=True)
    factors = DigestFactorSerializer(
        many=True,
        required=False,
        help_text="Per factor carried by at least 3 entries of the period: pain with vs without "
        "it (an association, not a cause).",
    )
    summary = serializers.CharField()
