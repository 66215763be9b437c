from __future__ import annotations

from typing import Any

from django import template

from messaging.models import Message

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context: dict[str, Any]) -> int:
    """How many messages the signed-in user has not read (the header's badge)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    request = context.get("request")
    if request is not None and getattr(request, "user", None) == user:
        from accounts.badges import request_badges

        return request_badges(request).unread  # with the other badge, in one query
    return Message.objects.unread_for(user).count()
