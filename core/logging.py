"""Logging helpers."""

from __future__ import annotations

import logging
import re
from typing import Any

# `token=<key>` in a query string, `Token <key>` in a header, a bare 40-hex DRF key after "token".
_TOKEN_PATTERN = re.compile(r"(?i)(token[=:\s]+)[0-9a-f]{8,}")


def redact_tokens(text: str) -> str:
    return _TOKEN_PATTERN.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Keeps API tokens out of log lines, whatever logged them (a URL with `?token=`, a header)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_token_parameters(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


# Any value of a `token=` query parameter, whatever it looks like (a mistyped key is still
# most of a key), up to the next parameter.
_TOKEN_PARAMETER = re.compile(r"(?i)(token=)[^&\s\"'#]+")


# One-time links carry their secret in the path: a password reset (Django swaps it for
# "set-password" after the first GET) and an email verification.
_LINK_SECRET = re.compile(
    r"(/password-reset/[^/\s?]+/|/verify-email/)(?!set-password/|resend/)[^/\s?\"']+"
)


def redact_token_parameters(text: str) -> str:
    text = _LINK_SECRET.sub(r"\1[redacted]", text)
    return redact_tokens(_TOKEN_PARAMETER.sub(r"\1[redacted]", text))


def redact_daphne_access_log() -> None:
    """Make Daphne's access log redact tokens in the addresses it writes.

    `daphne` (the command the Dockerfile and `make run` use) writes one line per request and
    per socket to stdout through `daphne.access.AccessLogGenerator`, straight to the stream:
    not through `logging`, so the LOGGING filter never sees those lines, and an API client
    that puts `?token=` on an HTTP address would leave its key in the log. Daphne offers no
    hook for the format; this wraps the generator's one writing method, for every generator
    made after it, so it runs when the ASGI application is loaded (before Daphne creates its
    logger). Idempotent.
    """
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # served by something else: nothing to do
        return
    write_entry = AccessLogGenerator.write_entry
    if getattr(write_entry, "redacts_tokens", False):
        return

    def redacting_write_entry(
        self: AccessLogGenerator, host: str, date: Any, request: str, *args: Any, **kwargs: Any
    ) -> None:
        return write_entry(self, host, date, redact_token_parameters(request), *args, **kwargs)

    redacting_write_entry.redacts_tokens = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = redacting_write_entry
