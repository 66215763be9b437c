from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from pwa import push

register = template.Library()


@register.inclusion_tag("pwa/push_section.html", takes_context=True)
def push_section(context: Any) -> dict[str, Any]:
    """The profile's notifications card: off with a clear reason when the server has no keys."""
    user = context["user"]
    keys = push.vapid_keys()
    return {
        "enabled": keys is not None,
        "public_key": keys.public_key if keys else "",
        "devices": user.push_subscriptions.count() if keys else 0,
        "disabled_reason": gettext(push.DISABLED),
        "csrf_token": context.get("csrf_token"),
        "csp_nonce": context.get("csp_nonce"),
    }
