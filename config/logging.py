"""Logging helpers."""

from __future__ import annotations

import logging
import re

# `token=<key>` in a query string, `Token <key>` in a header, a bare 40-hex DRF key after "token".
_TOKEN_PATTERN = re.compile(r"(?i)(token[=:\s]+)[0-9a-f]{8,}")


def redact_tokens(text: str) -> str:
    return _TOKEN_PATTERN.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Keeps API tokens out of log lines, whatever logged them (a URL with `?token=`, a header)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
