"""The installable app: the web app manifest and the service worker, both served from the site
root (a service worker controls only the paths below its own URL, and the diary is at /diary/).

The worker's source is static/js/sw.js; this view puts in front of it what only the server
knows: the static files' URLs (hashed in production), a version that changes with any of them,
and the app's own paths. A new version makes the browser install the new worker.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from pwa import push

# What the diary and notes pages load, so that they open offline. Bootstrap's CSS and htmx come
# from here, never a CDN.
PRECACHE_FILES = (
    "css/bootstrap-5.3.9.min.css",
    "css/painmap.css",
    "js/painmap.js",
    "js/bodymap.js",
    "js/offline.js",
    "django_htmx/htmx-2.min.js",
    "django_htmx/ext/hx-ws-2.min.js",
    "django_htmx/django-htmx.js",
    "img/favicon.svg",
    "img/icons/icon-192.png",
)
ICONS = (
    ("img/icons/icon-192.png", "192x192", "any"),
    ("img/icons/icon-512.png", "512x512", "any"),
    ("img/icons/icon-maskable-192.png", "192x192", "maskable"),
    ("img/icons/icon-maskable-512.png", "512x512", "maskable"),
)
THEME_COLOUR = "#c2410c"  # the brand's orange, as in the favicon


def _read(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(path)
    with open(found, "rb") as file:
        return file.read()


def _worker_source() -> str:
    urls = [static(path) for path in PRECACHE_FILES]
    digest = hashlib.sha256(_read("js/sw.js"))
    for path in PRECACHE_FILES:
        digest.update(path.encode())
        digest.update(_read(path))
    config = {
        "version": digest.hexdigest()[:16],
        "precache": urls,
        "staticPrefix": settings.STATIC_URL
        if settings.STATIC_URL.startswith("/")
        else f"/{settings.STATIC_URL}",
        # Pages kept for offline use (the last version seen): the patient's diary and notes.
        "pages": [reverse("diary:diary"), reverse("diary:notes")],
        # The entry form without a part: what the map opens offline.
        "entryForm": reverse("diary:entry-new"),
        # Leaving the account forgets the kept pages (a shared phone or computer).
        "signOut": [
            reverse("logout"),
            reverse("sign_out_everywhere"),
            reverse("account_delete"),
        ],
        # ManifestStaticFilesStorage (DEBUG off) puts each file's hash in its URL.
        "hashedStatic": not settings.DEBUG,
        "icon": static("img/icons/icon-192.png"),
        "home": reverse("diary:diary"),
        # The page shown offline for any other page: rendered by the server in the person's
        # language and kept (the worker has no catalog, so it carries no words of its own).
        "offlinePage": reverse("pwa-offline"),
    }
    head = f"const CONFIG = {json.dumps(config)};\n"
    return head + _read("js/sw.js").decode()


# In production the files never change while the process runs; with DEBUG they may, and
# the worker is rebuilt on every request (a handful of small files read).
_cached_worker_source = lru_cache(maxsize=1)(_worker_source)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    source = _worker_source() if settings.DEBUG else _cached_worker_source()
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    # Served from the root already; the header says the whole site is its scope on purpose.
    response["Service-Worker-Allowed"] = "/"
    # Browsers check the worker at every navigation; no cache may answer for the server.
    response["Cache-Control"] = "no-store, private"
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What the service worker shows offline for a page it did not keep, in the language of
    whoever fetched it (the worker fetches it again when the kept diary's language changes).
    It names no one and holds nothing of anyone's: kept across sign-outs."""
    return render(request, "pwa/offline.html", {"home": reverse("diary:diary")})


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    home = reverse("diary:diary")
    data = {
        "id": home,
        "name": gettext("Painmap — pain diary"),
        "short_name": "Painmap",
        "description": gettext("Record where and how much it hurts, also without a connection."),
        "start_url": home,
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f6f7f9",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    return response


# --- Web Push subscriptions (session + CSRF, like every page form) ------------------------------


def _json_body(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@require_POST
@login_required
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """Keep this browser's PushSubscription (its toJSON(): endpoint and keys)."""
    if push.vapid_keys() is None:
        return JsonResponse({"error": gettext(push.DISABLED)}, status=409)
    data = _json_body(request)
    if data is None:
        return JsonResponse(
            {"error": gettext("Send the subscription as a JSON object.")}, status=400
        )
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if problem := push.subscription_problem(endpoint, p256dh, auth):
        return JsonResponse({"error": problem}, status=400)
    push.subscribe(user=request.user, endpoint=endpoint, p256dh=p256dh, auth=auth)
    count = request.user.push_subscriptions.count()
    return JsonResponse({"subscribed": True, "devices": count}, status=201)


@require_POST
@login_required
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    endpoint = data.get("endpoint") if data else None
    if not isinstance(endpoint, str) or not endpoint:
        return JsonResponse({"error": gettext('Send {"endpoint": ...} as JSON.')}, status=400)
    deleted = push.unsubscribe(user=request.user, endpoint=endpoint)
    count = request.user.push_subscriptions.count()
    return JsonResponse({"deleted": deleted, "devices": count})


@require_POST
@login_required
def push_test(request: HttpRequest) -> HttpResponse:
    """The profile's "Send a test notification" (a plain form: works without JavaScript)."""
    if push.vapid_keys() is None:
        messages.error(request, gettext(push.DISABLED))
    elif not request.user.push_subscriptions.exists():
        messages.error(
            request, gettext("No device of yours is subscribed: turn notifications on first.")
        )
    else:
        sent = push.send_push(
            user=request.user,
            title="Painmap",
            # The person who asked is the recipient: the page's language is theirs.
            body=gettext("Notifications work on this device."),
            link=reverse("diary:diary"),
            tag="test",
        )
        if sent:
            messages.success(
                request,
                ngettext(
                    "A test notification was sent to %(count)s device.",
                    "A test notification was sent to %(count)s devices.",
                    sent,
                )
                % {"count": sent},
            )
        else:
            messages.error(
                request,
                gettext("The push service did not take the notification. Try turning it on again."),
            )
    return redirect(f"{reverse('profile')}#push")
