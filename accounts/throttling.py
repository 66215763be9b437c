"""Brute-force limits kept in the cache (per process by default, shared through Redis)."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class AttemptLimiter:
    """At most `limit` recorded attempts per key in a sliding window of `window` seconds."""

    scope: str
    limit: int
    window: int

    def _cache_key(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"attempts:{self.scope}:{digest}"

    def _recent(self, key: str, now: float) -> list[float]:
        stamps = cache.get(self._cache_key(key)) or []
        return [stamp for stamp in stamps if stamp > now - self.window]

    def retry_after(self, key: str) -> int | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        now = time.time()
        recent = self._recent(key, now)
        if len(recent) < self.limit:
            return None
        return max(1, math.ceil(recent[-self.limit] + self.window - now))

    def record(self, key: str) -> None:
        now = time.time()
        recent = self._recent(key, now)[-(self.limit - 1) :] if self.limit > 1 else []
        cache.set(self._cache_key(key), [*recent, now], timeout=self.window)

    def reset(self, key: str) -> None:
        cache.delete(self._cache_key(key))


def login_failures() -> AttemptLimiter:
    return AttemptLimiter("login", settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW)


def registrations() -> AttemptLimiter:
    return AttemptLimiter("register", settings.REGISTRATION_LIMIT, settings.REGISTRATION_WINDOW)


def password_resets() -> AttemptLimiter:
    """Reset emails asked for, counted per client address and per email address (two keys)."""
    return AttemptLimiter(
        "password-reset", settings.PASSWORD_RESET_LIMIT, settings.PASSWORD_RESET_WINDOW
    )


def verification_emails() -> AttemptLimiter:
    """Verification links sent, per account: each may go to an address nobody has proven yet."""
    return AttemptLimiter(
        "verify-email", settings.VERIFICATION_EMAIL_LIMIT, settings.VERIFICATION_EMAIL_WINDOW
    )


def client_address(request: HttpRequest) -> str:
    # Daphne fills REMOTE_ADDR from X-Forwarded-For when started with --proxy-headers.
    return request.META.get("REMOTE_ADDR") or "unknown"


def too_many_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if seconds >= 60 else f"{seconds} s"
    return f"Too many attempts. Try again in {wait}."
