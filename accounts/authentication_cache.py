"""API token → user, in one query, then from the cache for a short while.

Every API request and every token socket asks who a token belongs to. Without a cache that is
a query per request (and was two per socket handshake): the token, its last use, the user and
the user's role groups, here one SELECT. What it found is kept in the configured Django cache
(Redis when REDIS_URL is set, so every process shares it) for at most TOKEN_CACHE_SECONDS:

- the key is a hash of the token, never the token itself (a cache dump signs nobody in); the
  user is kept without the password hash (a deferred field, loaded only if asked for);
- a token that ends (revoked, idle, signed out, the password changed, "sign out everywhere",
  the account deactivated or deleted) and a user who changes (saved, role groups changed) are
  forgotten: `forget_token` / `forget_users`, called by accounts.services and by model signals
  for the paths that bypass services (the admin). Forgetting writes a tombstone, not a delete,
  and filling the cache only adds (never overwrites): a request that read the database just
  before a revoke committed cannot put the old answer back;
- the token's expiry is checked on every request against the cached last use, exactly as the
  database would decide (the cached last use is never newer than the stored one), and an entry
  lives no longer than the token's idle deadline nor past the moment its use must be written.

With the default in-process cache (no REDIS_URL, one server process) a change made by another
process (a `manage.py shell`) reaches the server within TOKEN_CACHE_SECONDS; with Redis at once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import TokenUse, User
from core.prepared import PreparedQuery

logger = logging.getLogger(__name__)

KEY_LENGTH = Token._meta.get_field("key").max_length
CACHE_PREFIX = "auth:token:v1:"
REVOKED = "revoked"  # the tombstone


def plausible_key(key: str) -> bool:
    """Whether `key` could be a token at all; PostgreSQL cannot even compare text with a NUL
    (psycopg raises), so such a key must never reach a query."""
    return isinstance(key, str) and 0 < len(key) <= KEY_LENGTH and "\x00" not in key


def cache_key(key: str) -> str:
    """Where the token's entry lives: a SHA-256 of the token (160 random bits: no guessing)."""
    return CACHE_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What the cache keeps about a live token of an active user."""

    user: User
    created: datetime
    last_used: datetime


def _cache_seconds() -> int:
    return max(0, int(getattr(settings, "TOKEN_CACHE_SECONDS", 0)))


def _idle_deadline(last_used: datetime) -> datetime:
    return last_used + timedelta(days=settings.TOKEN_IDLE_DAYS)


def _token(key: str, user: User, created: datetime) -> Token:
    """The Token DRF puts in `request.auth` (a loaded row, not a new one). It knows its user,
    but the user is not made to know it (`Token(user=...)` caches both ways): without that
    reference cycle both go with the request or handshake, not later with the cyclic GC."""
    token = Token(key=key, user_id=user.pk, created=created)
    Token._meta.get_field("user").set_cached_value(token, user)
    token._state.adding = False
    token._state.db = "default"
    return token


def _cached(key: str, now: datetime) -> Entry | None:
    if not _cache_seconds():
        return None
    try:
        entry = cache.get(cache_key(key))
    except Exception:  # the cache is away: the database answers
        logger.warning("Token cache unavailable; reading the database", exc_info=True)
        return None
    if not isinstance(entry, Entry) or now >= _idle_deadline(entry.last_used):
        return None  # missing, forgotten, or (maybe) expired: the database decides
    return entry


def _remember(key: str, entry: Entry, now: datetime) -> None:
    resolution = timedelta(seconds=settings.TOKEN_USE_RESOLUTION)
    ends = min(
        now + timedelta(seconds=_cache_seconds()),
        entry.last_used + resolution,  # by then the use must be written again
        _idle_deadline(entry.last_used),
    )
    seconds = int((ends - now).total_seconds())
    if seconds < 1:
        return
    try:
        cache.add(cache_key(key), entry, seconds)  # never over a tombstone
    except Exception:
        logger.warning("Token cache unavailable; not caching", exc_info=True)


def _note_use(key: str, last_used: datetime, now: datetime) -> datetime | None:
    """Write the token's use if the last one is TOKEN_USE_RESOLUTION old; the last use now
    stored, or None when the token is gone meanwhile."""
    if (now - last_used).total_seconds() < settings.TOKEN_USE_RESOLUTION:
        return last_used
    if not TokenUse.objects.filter(token_id=key).update(last_used=now):
        try:
            with transaction.atomic():
                TokenUse.objects.get_or_create(token_id=key, defaults={"last_used": now})
        except IntegrityError:  # the token was deleted meanwhile
            return None
    return now


def _token_users(key: str) -> QuerySet[User]:
    return (
        User.objects.with_roles()
        .defer("password")
        .annotate(_token_created=F("auth_token__created"))
        .annotate(_token_last_used=F("auth_token__use__last_used"))
        .filter(auth_token__key=key)
    )


# Compiled once (core.prepared): the ORM took longer to build this than SQLite to answer it.
_token_user = PreparedQuery(_token_users, key="\x1ftoken\x1f")


def _from_database(key: str, now: datetime) -> tuple[User, Token] | None:
    found = _token_user.fetch(key=key)
    if not found:
        return None
    user = found[0]
    created = user.__dict__.pop("_token_created")
    last_used = user.__dict__.pop("_token_last_used") or created
    if now - last_used > timedelta(days=settings.TOKEN_IDLE_DAYS):
        # Idle too long: deleted, so that the next sign-in issues a new one.
        Token.objects.filter(key=key).delete()
        return None
    user.group_names  # noqa: B018 - the role, from the same query, kept with the user
    if not user.is_active:
        return user, _token(key, user, created)  # refused by the caller, not cached
    stored = _note_use(key, last_used, now)
    if stored is None:
        return None
    _remember(key, Entry(user=user, created=created, last_used=stored), now)
    return user, _token(key, user, created)


def resolve_token(key: Any) -> tuple[User, Token] | None:
    """The user of a live API token and the token, or None (unknown, or idle for longer than
    TOKEN_IDLE_DAYS: then deleted). The caller refuses an inactive user. Notes the use, at
    most once per TOKEN_USE_RESOLUTION. At most one query; none while cached."""
    if not plausible_key(key):
        return None
    now = timezone.now()
    entry = _cached(key, now)
    if entry is not None:
        return entry.user, _token(key, entry.user, entry.created)
    return _from_database(key, now)


# ---- Forgetting ------------------------------------------------------------------------------


def _tombstone(hashed: list[str]) -> None:
    seconds = _cache_seconds()
    if not hashed or not seconds:
        return
    try:
        cache.set_many(dict.fromkeys(hashed, REVOKED), seconds)
    except Exception:
        logger.error("Token cache unavailable: %d token(s) not forgotten", len(hashed))


def forget_token(*keys: str) -> None:
    """The tokens' entries go, now and again once the current transaction commits (a reader
    between the two finds the tombstone). Every path where a token ends or changes calls it."""
    hashed = [cache_key(key) for key in keys if key]
    _tombstone(hashed)
    transaction.on_commit(lambda: _tombstone(hashed))


def forget_users(user_ids: list[int]) -> None:
    """Forget the tokens of these users (a change to the user or their roles): one query."""
    ids = [pk for pk in user_ids if pk is not None]
    if not ids or not _cache_seconds():
        return
    keys = list(Token.objects.filter(user_id__in=ids).values_list("key", flat=True))
    forget_token(*keys)
