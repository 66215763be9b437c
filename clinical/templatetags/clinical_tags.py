"""Template tags through which diary pages show this app's parts without importing it."""

from __future__ import annotations

from typing import Any

from django import template

from clinical.panels import diary_panels_context

register = template.Library()


@register.inclusion_tag("clinical/_diary_panels.html", takes_context=True)
def clinical_panels(context: template.Context) -> dict[str, Any]:
    """The diary page's medication and check-in panels, for the signed-in patient."""
    request = context["request"]
    return {
        **diary_panels_context(request.user),
        "request": request,
    }
