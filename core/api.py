"""Shared pieces of the JSON API."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """The shape of every non-field error: {"error": "..."}."""

    error = serializers.CharField()


# 400s are either field errors ({"field": ["message", ...]}) or one {"error": "message"}.
BAD_REQUEST = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        },
    },
    description='Bad input: errors keyed by field, or {"error": "..."}.',
)
UNAUTHORIZED = OpenApiResponse(ErrorSerializer, description="Missing or invalid token.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object (or not yours).")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Not allowed for you.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="Changed by someone else meanwhile.")


def _rebuilt(field: serializers.Field) -> serializers.Field:
    # As Field.__deepcopy__ rebuilds a field, without deep-copying its arguments. A field given
    # as an argument (a ListField's child) is bound to its parent: that one is copied.
    args = [copy.deepcopy(a) if isinstance(a, serializers.Field) else a for a in field._args]
    kwargs = {
        key: copy.deepcopy(value) if isinstance(value, serializers.Field) else value
        for key, value in field._kwargs.items()
    }
    return field.__class__(*args, **kwargs)


class LeanSerializer(serializers.Serializer):
    """A Serializer whose fields are rebuilt from their declarations for each instance, as
    DRF's are, but without deep-copying every argument: DRF's copy went through the choices'
    and help texts' lazy strings one attribute at a time, and was the largest part of
    validating a stat in a profile of POST /api/diary/stats/. The arguments are shared by
    every instance, so none may be changed in place: a mutable default is given as a callable
    (`default=list`), never as `default=[]`."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _rebuilt(field) for name, field in self._declared_fields.items()}


class StrictCharField(serializers.CharField):
    """A CharField that takes text only: DRF would turn a number or a boolean into a string."""

    default_error_messages = {"not_a_string": gettext_lazy("Expected a string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    default_error_messages = {"not_a_string": gettext_lazy("Expected a string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only: DRF would also take 0, 1, "yes" and "off"."""

    default_error_messages = {"not_a_boolean": gettext_lazy("Expected true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with `{"detail": ...}` errors renamed to the API's `{"error": ...}`.

    Validation errors keep DRF's field-keyed shape ({"field": ["message"]}).
    """
    if isinstance(exc, RequestDataTooBig):
        # Raised when the view first reads request.data; Django would answer an HTML 400.
        return Response({"error": gettext(BODY_TOO_LARGE)}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if not isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        detail = response.data.get("detail")
        if detail is not None:
            response.data = {"error": str(detail)}
    return response


class BadRequest(exceptions.APIException):
    """A 400 answered as one {"error": message} (not as field errors): raise it from a view."""

    status_code = 400
    default_detail = gettext_lazy("Bad request.")
    default_code = "bad_request"


def error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response({"error": message}, status=status, headers=headers)


BODY_TOO_LARGE = gettext_noop("The request body is too large.")
