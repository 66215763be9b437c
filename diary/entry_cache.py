"""The cache token of a diary's entry list: one more part of its cache key, replaced by every
edit and deletion through diary.services once it commits, in every process (the token lives in
the configured cache: Redis, shared, with REDIS_URL; else this one process's memory).

The list's key also holds a version read from the database (diary.views.entries.diary_state:
count, newest id, latest change), which sees writes that bypass the services (the admin,
another process's ORM); the token covers what that version cannot see (an edit stamped by a
clock running behind another process's). A new entry needs no token: its id is above every id
the diary ever had (ids are never reused: AUTOINCREMENT on SQLite, a sequence on PostgreSQL),
so the newest id, and the version, are new.
"""

from __future__ import annotations

from uuid import uuid4

from django.core.cache import cache
from django.db import transaction

TOKEN_SECONDS = 7 * 24 * 3600


def _token_key(owner_id: int) -> str:
    return f"diary:entries:token:{owner_id}"


def diary_cache_token(owner_id: int) -> str:
    """The owner's cache token: part of the entry list's cache key, replaced by every write."""
    key = _token_key(owner_id)
    token = cache.get(key)
    if token is None:
        token = uuid4().hex[:12]
        if not cache.add(key, token, TOKEN_SECONDS):  # another request set it meanwhile
            token = cache.get(key) or token
    return token


def bump_diary_cache(owner_id: int) -> None:
    """An edit or deletion of the owner's entries: once it commits, every cached list of theirs
    is old (in every process: the token lives in the shared cache)."""
    transaction.on_commit(lambda: cache.set(_token_key(owner_id), uuid4().hex[:12], TOKEN_SECONDS))
