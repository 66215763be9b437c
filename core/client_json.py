"""JSON from clients (API bodies, socket frames): parsed, or refused with a reason, never a 500.

`json.loads` raises more than ValueError on hostile input: ~20,000 nested brackets (40 KB) are
a RecursionError from inside the decoder, which DRF's parser and the chat socket did not catch
(a 500, a socket closed with 1011). Where that happens depends on how deep the stack already
is, so nesting is also capped at a depth of our own: the same answer on every route, and no
deeply nested value ever reaches code that might recurse over it. No route takes more than a
flat object, so MAX_DEPTH is generous.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BadJSON(ValueError):
    """Input that is not JSON we take; the message can be shown to the client as it is."""


def too_deep(text: str) -> bool:
    """Whether the arrays and objects of `text` nest deeper than MAX_DEPTH (brackets inside
    strings do not count). Counting brackets is enough for every ordinary body: no scan."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0) > MAX_DEPTH


def loads(raw: str | bytes) -> Any:
    """The value `raw` holds; BadJSON saying why when it is not UTF-8, not JSON or too deep."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJSON("The body is not UTF-8 text.") from exc
    if too_deep(raw):
        raise BadJSON(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.")
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:  # not reached with MAX_DEPTH well under the recursion limit
        raise BadJSON(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.") from exc
    except ValueError as exc:
        raise BadJSON(str(exc)) from exc


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; DRF's words.
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")
