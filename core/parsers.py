"""The API's one parser: JSON, every body it cannot take a 400, never a 500.

A module of its own: DRF reads DEFAULT_PARSER_CLASSES while rest_framework.views is imported,
which core.api imports.
"""

from __future__ import annotations

from typing import IO, Any

from django.utils.translation import gettext
from rest_framework import exceptions, parsers

from core import client_json


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but every body it cannot take is a 400 (ParseError), never a 500.

    DRF's caught only ValueError: a deeply nested body was a RecursionError (core.client_json
    says more). The body's size is checked before this runs (DATA_UPLOAD_MAX_MEMORY_SIZE,
    RequestDataTooBig, answered by core.api.exception_handler).
    """

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                gettext("JSON parse error - the body is not %(encoding)s text.")
                % {"encoding": encoding}
            ) from exc
        try:
            return client_json.loads(text)
        except client_json.BadJSON as exc:
            raise exceptions.ParseError(
                gettext("JSON parse error - %(reason)s") % {"reason": exc}
            ) from exc
