from __future__ import annotations

from django.http import HttpRequest

from accounts.models import CareLink


def care_links(request: HttpRequest) -> dict[str, int]:
    """The header's badge: requests waiting for this doctor's answer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_doctor:
        return {}
    return {"pending_link_count": CareLink.objects.filter(doctor=user, status="pending").count()}
