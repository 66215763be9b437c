"""LeanSerializer validates exactly as DRF's Serializer does, with fields of its own."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework import serializers

from diary.serializers import StatCreateSerializer, StatUpdateSerializer

# The same declarations on DRF's own Serializer (the metaclass collects them as declared).
PlainStatCreate = type(
    "PlainStatCreate", (serializers.Serializer,), dict(StatCreateSerializer._declared_fields)
)

INPUTS = [
    {"body_part": 21, "pain_type": "burning", "intensity": 6},
    {"body_part": "21", "pain_type": "stabbing", "intensity": 0, "description": "x" * 10},
    {"body_part": 21, "pain_type": "burning", "intensity": 6, "factors": ["Poor  Sleep"]},
    {"body_part": 21, "pain_type": "burning", "intensity": 6, "client_id": "not-a-uuid"},
    {"body_part": 999, "pain_type": "aching", "intensity": 11},
    {"body_part": True, "pain_type": None, "intensity": "six", "description": 5},
    {"body_part": 21, "pain_type": "burning", "intensity": 6, "date_recorded": "2999-01-01"},
    {"factors": "stress"},
    {},
]


@pytest.mark.django_db
@pytest.mark.parametrize("data", INPUTS)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_same_errors_and_values_as_drfs_serializer(data, language):
    with translation.override(language):
        lean, plain = StatCreateSerializer(data=data), PlainStatCreate(data=data)
        assert lean.is_valid() == plain.is_valid()
        assert lean.errors == plain.errors
        if not lean.errors:
            assert lean.validated_data == plain.validated_data


def test_every_serializer_has_fields_of_its_own():
    first, second = StatCreateSerializer(), StatCreateSerializer()
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first
        assert second.fields[name].parent is second
    # StatUpdateSerializer makes its fields optional: on its own copies, not the declarations.
    update = StatUpdateSerializer()
    assert update.fields["intensity"].required is False
    assert StatCreateSerializer().fields["intensity"].required is True
