from __future__ import annotations

from django.http import HttpRequest


def care_links(request: HttpRequest) -> dict[str, int]:
    """The header's badge: requests waiting for this doctor's answer (counted with the unread
    badge, in one query kept on the request: accounts/badges.py)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_doctor:
        return {}
    from accounts.badges import request_badges

    return {"pending_link_count": request_badges(request).pending_links}
