"""The API's content negotiation (DRF's DEFAULT_CONTENT_NEGOTIATION_CLASS). A module of its own:
DRF imports it while its views module loads, so it may import nothing that imports those."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation


class JSONContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for what most clients send (no Accept header,
    `*/*` or `application/json`) to a view that renders JSON only, as DRF's own would answer
    it: DRF parsed and ranked the header on every request. Anything else goes to DRF's, which
    picks among several renderers or refuses what none gives (406)."""

    ANY = frozenset({None, "*/*", "application/json"})

    def select_renderer(
        self, request: Any, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        if (
            len(renderers) == 1
            and format_suffix is None
            and renderers[0].media_type == "application/json"
            and request.META.get("HTTP_ACCEPT") in self.ANY
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
