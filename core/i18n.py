"""Languages: which one a request or a person gets, and the script catalog pages carry.

A page is in its user's profile language, else the browser's (the header switcher's cookie,
then Accept-Language), else English; the token API follows Accept-Language only, and its
machine fields (`name`, `pain_type`) never change. Emails and socket fragments use the
recipient's profile language (`language_of`). Translations live in locale/<code>/LC_MESSAGES:
`django.po` for Python and templates, `djangojs.po` for static/js (see the README).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.i18n import JavaScriptCatalog


def language_of(user: object) -> str:
    """The language a person chose in their profile, else the site's default."""
    chosen = getattr(user, "language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def request_language(request: HttpRequest, user: object = None) -> str:
    """The profile's language for a signed-in user who chose one, else the browser's."""
    chosen = getattr(user, "language", "") or ""
    if chosen in dict(settings.LANGUAGES):
        return chosen
    return translation.get_language_from_request(request)


def mark_language(response: HttpResponse, language: str) -> HttpResponse:
    """What Django's LocaleMiddleware adds: the answer's language, and that it depends on it."""
    response.headers.setdefault("Content-Language", language)
    patch_vary_headers(response, ("Accept-Language",))
    return response


@functools.cache
def script_catalog(language: str) -> str:
    """Django's JavaScript catalog (gettext, ngettext, interpolate, the plural rule) for the
    project's `djangojs` messages only, rendered once per language per process. Pages carry it
    inline: no request of its own, and a page the service worker kept offline keeps its words.
    """
    with translation.override(language):
        view = JavaScriptCatalog()
        view.translation = translation.trans_real.DjangoTranslation(
            language, domain="djangojs", localedirs=[str(path) for path in settings.LOCALE_PATHS]
        )
        return view.render_to_response(view.get_context_data()).content.decode()


def script_catalog_tag(nonce: str | None) -> SafeString:
    nonce_attr = f' nonce="{nonce}"' if nonce else ""
    catalog = script_catalog(translation.get_language())
    return mark_safe(f"<script{nonce_attr}>{catalog}</script>")
