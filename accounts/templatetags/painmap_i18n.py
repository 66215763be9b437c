"""`{% script_catalog %}`: the page's words for static/js, inline (core/i18n.py)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from core.i18n import script_catalog_tag

register = template.Library()


@register.simple_tag(takes_context=True)
def script_catalog(context: template.Context) -> SafeString:
    nonce = context.get("csp_nonce")
    return script_catalog_tag(str(nonce) if nonce else None)
