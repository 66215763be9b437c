"""Web Push: reminders (and a test notification) to the browsers a person subscribed.

The payload is encrypted for the browser (RFC 8291, by pywebpush) and signed for the push
service with the server's VAPID key (RFC 8292). It carries a title, a line of text and a link
into the app, never health data: a push service and a locked phone's screen both see it.
Keys come from the environment (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT); without
them push is off and the profile says so.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from pywebpush import WebPushException, webpush

from accounts.models import User
from core.i18n import language_of
from pwa.models import PushSubscription

if TYPE_CHECKING:
    from clinical.delivery import Notice

logger = logging.getLogger(__name__)

# How long a push service keeps a notification for a browser that is off (seconds).
PUSH_TTL = 12 * 60 * 60
PUSH_TIMEOUT = 10
# An English message id: shown with gettext() in the reader's language.
DISABLED = gettext_noop(
    "Push notifications are not set up on this server (it needs VAPID keys); "
    "reminders come by email."
)


@dataclass(frozen=True)
class VapidKeys:
    public_key: str
    private_key: str
    subject: str


def vapid_keys() -> VapidKeys | None:
    """The server's keys, or None when push is not set up."""
    public, private, subject = (
        settings.VAPID_PUBLIC_KEY,
        settings.VAPID_PRIVATE_KEY,
        settings.VAPID_SUBJECT,
    )
    if not (public and private and subject):
        return None
    return VapidKeys(public, private, subject)


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def subscription_problem(endpoint: object, p256dh: object, auth: object) -> str:
    """Why a subscription sent by a browser cannot be used ("" when it can).

    The endpoint must be a push service's: https, and a host in PUSH_SERVICE_HOSTS (the server
    posts to it, so it must not be any URL a user likes, such as an address inside our network).
    """
    if not (isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)):
        return gettext("A subscription needs endpoint, keys.p256dh and keys.auth as text.")
    if len(endpoint) > 1000:
        return gettext("The endpoint is too long.")
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed_hosts = [suffix.lower() for suffix in settings.PUSH_SERVICE_HOSTS]
    if not any(host == s or host.endswith("." + s.lstrip(".")) for s in allowed_hosts):
        return gettext("The endpoint is not a known push service.")
    if parts.scheme != "https" and not (
        parts.scheme == "http" and host in settings.PUSH_HTTP_HOSTS
    ):
        return gettext("The endpoint must be an https URL.")
    key = _b64url_bytes(p256dh)
    if key is None or len(key) != 65 or key[0] != 4:
        return gettext("keys.p256dh is not a P-256 public key (base64url, 65 bytes).")
    secret = _b64url_bytes(auth)
    if secret is None or len(secret) != 16:
        return gettext("keys.auth is not a 16-byte secret (base64url).")
    return ""


def subscribe(*, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Store (or move to `user`) a browser's subscription. The caller checked it with
    subscription_problem."""
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
    )
    return subscription


def unsubscribe(*, user: User, endpoint: str) -> int:
    """Forget one of the user's subscriptions; another user's is left alone. How many went."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def _path(link: str) -> str:
    # The worker opens only its own origin's pages; the path works whatever SITE_URL says.
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


def send_push(*, user: User, title: str, body: str, link: str, tag: str = "painmap") -> int:
    """Send one notification to each of the user's browsers; how many push services took it.

    A push service answering 404 or 410 says the subscription is gone (the browser
    unsubscribed, the app was removed): it is deleted. Other failures are logged and left for
    the next notification."""
    keys = vapid_keys()
    if keys is None:
        return 0
    payload = json.dumps({"title": title, "body": body, "url": _path(link), "tag": tag})
    delivered = 0
    for subscription in list(user.push_subscriptions.all()):
        try:
            webpush(
                subscription_info=subscription.as_subscription_info(),
                data=payload,
                vapid_private_key=keys.private_key,
                vapid_claims={"sub": keys.subject},
                ttl=PUSH_TTL,
                timeout=PUSH_TIMEOUT,
            )
        except WebPushException as error:
            code = error.response.status_code if error.response is not None else None
            if code in (404, 410):
                subscription.delete()
            else:
                logger.warning("Push to subscription %s failed: %s", subscription.pk, code)
            continue
        except Exception:  # the network, a bad key: the next subscription still gets its turn
            logger.exception("Push to subscription %s failed", subscription.pk)
            continue
        PushSubscription.objects.filter(pk=subscription.pk).update(last_sent=timezone.now())
        delivered += 1
    return delivered


class PushChannel:
    """clinical.delivery's channel for Web Push (a Notice holds no health details)."""

    name = "push"

    @staticmethod
    def reaches(user: User) -> bool:
        return vapid_keys() is not None and user.push_subscriptions.exists()

    def deliver(self, notice: Notice) -> bool:
        # The words in the recipient's language (a Notice's texts may be lazy translations).
        with translation.override(language_of(notice.user)):
            title, body = str(notice.subject), str(notice.text)
        sent = send_push(user=notice.user, title=title, body=body, link=notice.link, tag="reminder")
        return sent > 0
