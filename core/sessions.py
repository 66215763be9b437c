"""The session engine: Django's database sessions, refusing keys no session can have.

Django checks only that a session key is at least 8 characters; a cookie holding a NUL then
reached the session lookup, and PostgreSQL cannot compare text with a NUL (psycopg raises): a
500 on every page, and a crashed WebSocket handshake. Such a key now means "no session".
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and "\x00" not in key
