"""The diary's pages, cut by concern: entries (the body map and pain entries), notes, patients (a
doctor reading a linked patient), exports and digest.

Every form also works without JavaScript: a plain POST redirects back, and every fragment has a
page of its own; `answer` picks the fragment for htmx and the page around it otherwise. Rows are
always fetched through the signed-in user's own queryset, so another user's entry or note is a
404, whichever door the request came through. Views answering a fragment to htmx and a page
otherwise at one URL send `Vary: HX-Request`, or the browser's Back button could show a cached
fragment as the page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from accounts.models import User

DIARY = "diary/diary.html"
NOTES = "diary/notes.html"
PAGE = "diary/page.html"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User


def answer(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str,
    alone: str = "",
    status: int = 200,
) -> HttpResponse:
    """The fragment `template#fragment` to htmx; to a browser without JavaScript the page around
    it: the whole `template`, or with `alone` (a title) the fragment on a page of its own."""
    if request.htmx:
        response = render(request, f"{template}#{fragment}", context, status=status)
    elif alone:
        back = "diary:notes" if template == NOTES else "diary:diary"
        page = {"title": alone, "fragment": f"{template}#{fragment}", "back": back, "page": True}
        response = render(request, PAGE, {**context, **page}, status=status)
    else:
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
