from __future__ import annotations

import time
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user, logout
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import ngettext

from accounts.badges import loading_page_user
from accounts.sockets import close_sockets
from core.i18n import mark_language, request_language
from core.middleware import BothModesMiddleware


def _page_user(request: HttpRequest) -> object:
    """Django's `get_user` (every check of it: the backend, the active flag, the session hash),
    with the header's badge counts loaded in the user's own query (accounts/badges.py)."""
    if not hasattr(request, "_cached_user"):
        token = loading_page_user.set(True)
        try:
            request._cached_user = get_user(request)  # type: ignore[attr-defined]
        finally:
            loading_page_user.reset(token)
    return request._cached_user  # type: ignore[attr-defined]


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, but the page's user comes with the header's badges: one query for both."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _page_user(request))


def activate_timezone_of(user: object) -> None:
    # One rule (User.tzinfo): the user's zone, else the site's; anonymous users have none.
    zone = getattr(user, "tzinfo", None)
    if zone is not None:
        timezone.activate(zone)
    else:
        timezone.deactivate()


class UserLocaleMiddleware(BothModesMiddleware):
    """Shows times in the signed-in user's own time zone (the site's when they chose none) and
    words in their language (core/i18n.py: the profile's, else the browser's).

    Sync and async (core/handlers.py runs a sync chain; an async one must not hop for it)."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        activate_timezone_of(user)
        language = request_language(request, user)
        request.LANGUAGE_CODE = language
        with translation.override(language):
            return mark_language(self.get_response(request), language)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser() if hasattr(request, "auser") else None
        activate_timezone_of(user)
        language = request_language(request, user)
        request.LANGUAGE_CODE = language
        with translation.override(language):
            return mark_language(await self.get_response(request), language)


# The session's last activity, in whole seconds since the epoch.
LAST_ACTIVITY = "_painmap_last_activity"


def idle_message(minutes: int) -> str:
    """The idle sign-out's message, in the page's language (the sign-in page that shows it is
    rendered in the same language: the browser's, as the person is signed out by then)."""
    return ngettext(
        "You were signed out after %(minutes)s minute without activity. Please sign in again.",
        "You were signed out after %(minutes)s minutes without activity. Please sign in again.",
        minutes,
    ) % {"minutes": minutes}


def session_idle(session: SessionBase, now: float) -> bool:
    """Whether a signed-in session went unused for longer than SESSION_IDLE_MINUTES.

    A session without a stamp (signed in just now, or before the idle limit existed) is not.
    """
    stamp = session.get(LAST_ACTIVITY)
    return isinstance(stamp, int) and now - stamp > settings.SESSION_IDLE_MINUTES * 60


class SessionIdleMiddleware(BothModesMiddleware):
    """Signs a browser out after SESSION_IDLE_MINUTES without a request, with a message.

    The last activity lives in the session and is rewritten at most once per
    SESSION_ACTIVITY_RESOLUTION seconds (a minute): a session write on every request would cost
    a database write per page and fragment, while the idle limit only needs minutes.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self._check(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        # The session and user load from the database: one hop for both.
        return await sync_to_async(self._check)(request) or await self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        """The answer for an idle session (signed out), else None (the stamp refreshed)."""
        if request.path.startswith("/api/") or not request.user.is_authenticated:
            return None  # the API signs in with tokens, not sessions
        now = int(time.time())
        if session_idle(request.session, now):
            user, key = request.user, request.session.session_key
            logout(request)
            close_sockets(user_ids=[user.pk], reason="session-idle", session_key=key)
            messages.info(request, idle_message(settings.SESSION_IDLE_MINUTES))
            login_url = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}"
            if request.headers.get("HX-Request") == "true":
                # A fragment request cannot show the sign-in page in place: send the page there.
                response = HttpResponse(status=204, headers={"HX-Redirect": login_url})
            else:
                response = redirect(login_url)
            # The message is in the person's language: the sign-in page that shows it is too
            # (signed out, a page follows the cookie, else the browser).
            if getattr(user, "language", "") in dict(settings.LANGUAGES):
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                )
            return response
        stamp = request.session.get(LAST_ACTIVITY)
        if not isinstance(stamp, int) or now - stamp >= settings.SESSION_ACTIVITY_RESOLUTION:
            request.session[LAST_ACTIVITY] = now
        return None


def stamp_session_at_sign_in(sender: type, request: HttpRequest | None, **kwargs: object) -> None:
    """The first activity stamp, written with the session that login() saves anyway: every
    sign-in (the page, registration, the admin, tests' force_login) goes through login(), so no
    request after it needs a session write of its own. Connected in AccountsConfig.ready."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LAST_ACTIVITY] = int(time.time())
