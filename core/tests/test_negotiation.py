"""The API's content negotiation answers as DRF's own does, faster for the common headers."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.negotiation import JSONContentNegotiation

HEADERS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/html, */*;q=0.8",
    "application/xml",
    "",
]


def outcome(negotiation, accept: str | None, renderers) -> tuple:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/", **extra))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except exceptions.NotAcceptable:
        return ("406",)
    return (type(renderer), media_type)


@pytest.mark.parametrize("accept", HEADERS)
@pytest.mark.parametrize(
    "renderers", [[JSONRenderer()], [JSONRenderer(), BrowsableAPIRenderer()]], ids=["json", "two"]
)
def test_same_answer_as_drf(accept, renderers):
    assert outcome(JSONContentNegotiation(), accept, renderers) == outcome(
        DefaultContentNegotiation(), accept, renderers
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "status"), [(None, 200), ("*/*", 200), ("text/html", 406)])
def test_the_api_still_refuses_what_it_cannot_give(patient_api, accept, status):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = patient_api.get("/api/diary/bodyparts/", **extra)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if status == 406:
        assert "error" in response.json() or "detail" in response.json()


def test_the_docs_page_still_negotiates_html(db):
    response = Client().get("/api/docs/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
