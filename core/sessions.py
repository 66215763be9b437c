"""The session engine: Django's cached database sessions, refusing keys no session can have.

Cached: a page reads its session from the cache (Redis with REDIS_URL, shared by every
process; else this one process's memory), the database only on a miss, so a page saves the
session's query. Writes go to both (Django's `cached_db`). Nothing about trust is cached: the
session holds the user's id and session hash, and every request loads the user from the
database and checks that hash (sign out everywhere, a password change, a deactivation end
every session at once by changing it: accounts.services.end_credentials). Several processes
need the shared cache anyway (the sign-in limits live there): compose.yml sets REDIS_URL.

Django checks only that a session key is at least 8 characters; a cookie holding a NUL then
reached the session lookup, and PostgreSQL cannot compare text with a NUL (psycopg raises): a
500 on every page, and a crashed WebSocket handshake. Such a key now means "no session".
"""

from __future__ import annotations

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseSessionStore


class SessionStore(CachedDatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and "\x00" not in key
