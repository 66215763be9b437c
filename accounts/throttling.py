"""Brute-force limits kept in the cache (per process by default, shared through Redis).

Every counter is reserved atomically *before* the work it limits (the password check), with the
cache's `add` and `incr`, which are atomic on LocMemCache and on Redis: 80 parallel attempts
cannot all read "9 so far" and all go ahead, as they could with a read-modify-write.

A counter is one cache key whose integer value packs the end of its window and the count
(`end * _SCALE + count`), so a single atomic `incr` both counts and tells when the window ends
(the Retry-After), and a key that lost its expiry (Django's Redis `incr` is EXISTS then INCRBY,
so a key expiring in between is recreated without a TTL) is seen as stale and started afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

_SCALE = 10**9  # counts stay below this; end (Unix seconds) * _SCALE fits in a signed 64 bits


def _digest(*parts: str) -> str:
    joined = "\x00".join(parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class AttemptLimiter:
    """At most `limit` attempts per key in a window of `window` seconds from the key's first one."""

    scope: str
    limit: int
    window: int

    def _cache_key(self, key: str) -> str:
        return f"attempts:{self.scope}:{_digest(key)}"

    def _count(self, key: str) -> tuple[int, int]:
        """Count one attempt atomically; the new count and the end of its window."""
        cache_key = self._cache_key(key)
        for _ in range(3):
            now = time.time()
            end = math.floor(now) + self.window  # never later than the key expires
            if cache.add(cache_key, end * _SCALE + 1, timeout=self.window):
                return 1, end
            try:
                value = cache.incr(cache_key)
            except ValueError:  # it expired between add and incr: add again
                continue
            end, count = divmod(value, _SCALE)
            if end >= now:
                return count, end
            cache.delete(cache_key)  # stale: a key that lost its expiry (see the module doc)
        return 1, math.floor(time.time()) + self.window  # unreachable in practice; fail open

    def hit(self, key: str) -> int | None:
        """Reserve an attempt: None when it may go ahead, else the seconds until one may."""
        count, end = self._count(key)
        if count <= self.limit:
            return None
        return max(1, math.ceil(end - time.time()))

    def refund(self, key: str) -> None:
        """Give back one reserved attempt (one that turned out to be legitimate)."""
        with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to give back
            cache.decr(self._cache_key(key))

    def retry_after(self, key: str) -> int | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        value = cache.get(self._cache_key(key))
        if value is None:
            return None
        end, count = divmod(value, _SCALE)
        now = time.time()
        if end < now or count < self.limit:
            return None
        return max(1, math.ceil(end - now))

    def record(self, key: str) -> None:
        self._count(key)

    def reset(self, key: str) -> None:
        cache.delete(self._cache_key(key))


def login_failures() -> AttemptLimiter:
    """Sign-in attempts per (username, address): the limit an attacker meets first."""
    return AttemptLimiter("login", settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW)


def login_address_attempts() -> AttemptLimiter:
    """Sign-in attempts per address, whatever the username (password spraying)."""
    return AttemptLimiter(
        "login-address", settings.LOGIN_ADDRESS_LIMIT, settings.LOGIN_ADDRESS_WINDOW
    )


def login_username_attempts() -> AttemptLimiter:
    """Sign-in attempts per username from every address (a botnet), waived for the owner."""
    return AttemptLimiter(
        "login-username", settings.LOGIN_USERNAME_LIMIT, settings.LOGIN_USERNAME_WINDOW
    )


def old_password_checks() -> AttemptLimiter:
    """Wrong old passwords when changing the password (page or API), per user: a stolen session
    or token must not become a way to guess the password. A limit of its own, with sign-in's
    numbers, so that such guesses do not lock the owner's sign-in."""
    return AttemptLimiter(
        "password-change", settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_WINDOW
    )


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


# --- The client's address -------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(request: Any) -> str:
    """The address of whoever sent the request, as far as this server can vouch for it.

    The socket peer, unless that peer is one of `TRUSTED_PROXIES`: then the right-most address
    of X-Forwarded-For that is not a trusted proxy. Addresses further left were written by the
    client and prove nothing, so a forged header from anyone else changes nothing.
    """
    meta = request.META
    peer_text = meta.get("REMOTE_ADDR") or ""
    peer = _parse_ip(peer_text)
    if peer is None:
        return peer_text or "unknown"
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not trusted or not any(peer in network for network in trusted):
        return str(peer)
    nearest = peer
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse_ip(hop)
        if address is None:  # garbage: nothing to its left can be trusted either
            break
        nearest = address
        if not any(address in network for network in trusted):
            break
    return str(nearest)


def _address_bucket(address: str) -> str:
    """The unit one subscriber controls: an IPv6 /64 (handed out whole), else the address."""
    parsed = _parse_ip(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address


# --- Sign-in ----------------------------------------------------------------------------------

DEVICE_COOKIE = "painmap_device"
_DEVICE_SALT = "accounts.throttling.known-device"
_DEVICES_KEPT = 5  # accounts remembered per browser


def _username_tag(username: str) -> str:
    return _digest("device", username.lower())[:16]


def _device_tags(request: HttpRequest) -> list[str]:
    value = request.get_signed_cookie(
        DEVICE_COOKIE,
        default="",
        salt=_DEVICE_SALT,
        max_age=settings.LOGIN_KNOWN_DAYS * 86400,
    )
    return [tag for tag in value.split(",") if tag]


def _known_key(username: str, bucket: str) -> str:
    return f"attempts:known:{_digest(username.lower(), bucket)}"


@dataclass
class SignInAttempt:
    """One sign-in attempt, counted against every limit before its password is checked."""

    request: HttpRequest | None
    username: str
    bucket: str
    retry_after: int | None = None
    counted_address: bool = False
    counted_username: bool = False

    def succeeded(self) -> None:
        """The password was right: give back the shared counts, remember this place."""
        login_failures().reset(self._pair)
        if self.counted_address:
            login_address_attempts().refund(self.bucket)
        if self.counted_username:
            login_username_attempts().refund(self.username.lower())
        _remember(self.request, self.username, self.bucket)

    @property
    def _pair(self) -> str:
        return f"{self.username.lower()}\x00{self.bucket}"


def _remember(request: HttpRequest | None, username: str, bucket: str) -> None:
    cache.set(_known_key(username, bucket), 1, timeout=settings.LOGIN_KNOWN_DAYS * 86400)
    if request is not None:  # remember_device() puts this on a page sign-in's response
        request.signed_in_username = username  # type: ignore[attr-defined]


def remember_registration(request: HttpRequest, username: str) -> None:
    """A new account's first address and browser count as its owner's, as after a sign-in."""
    _remember(request, username, _address_bucket(client_address(request)))


def begin_sign_in(request: HttpRequest | None, username: str) -> SignInAttempt:
    """Count a sign-in attempt; `retry_after` is set when it must be refused (a 429).

    Limits, each counted atomically before the password is checked:
    - per (username, address): LOGIN_FAILURE_LIMIT per LOGIN_FAILURE_WINDOW, always;
    - per address, any username: LOGIN_ADDRESS_LIMIT per LOGIN_ADDRESS_WINDOW;
    - per username, any address: LOGIN_USERNAME_LIMIT per LOGIN_USERNAME_WINDOW.
    The owner's proof skips the last two: a signed cookie saying that this browser signed in to
    the account before, or an address the account signed in from before. So an attacker
    elsewhere can use up the per-username limit without locking the owner out. A successful
    sign-in gives its attempt back to the shared counters.

    Cache round trips on Redis for a successful sign-in: 3 with the device cookie, 4 from a
    known address, 10 from a new place (Django's Redis `incr` is two).
    """
    address = client_address(request) if request is not None else "unknown"
    attempt = SignInAttempt(request=request, username=username, bucket=_address_bucket(address))
    if (wait := login_failures().hit(attempt._pair)) is not None:
        attempt.retry_after = wait
        return attempt
    if request is not None and _username_tag(username) in _device_tags(request):
        return attempt
    if cache.get(_known_key(username, attempt.bucket)):
        return attempt
    attempt.counted_address = True
    if (wait := login_address_attempts().hit(attempt.bucket)) is not None:
        attempt.retry_after = wait
        return attempt
    attempt.counted_username = True
    attempt.retry_after = login_username_attempts().hit(username.lower())
    return attempt


def remember_device(request: HttpRequest, response: HttpResponse) -> None:
    """After a page sign-in, mark this browser as one the account owner uses (OWASP's device
    cookie): signed, so that nobody else can make one, and good for LOGIN_KNOWN_DAYS."""
    username = getattr(request, "signed_in_username", None)
    if not username:
        return
    tag = _username_tag(username)
    tags = [tag, *(t for t in _device_tags(request) if t != tag)][:_DEVICES_KEPT]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        ",".join(tags),
        salt=_DEVICE_SALT,
        max_age=settings.LOGIN_KNOWN_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def too_many_message(seconds: int) -> str:
    """What a person is told when a limit stops them, in the active language."""
    if seconds < 60:
        return ngettext(
            "Too many attempts. Try again in %(seconds)s second.",
            "Too many attempts. Try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many attempts. Try again in %(minutes)s minute.",
        "Too many attempts. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}
