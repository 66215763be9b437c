"""/readyz: the database and the channel layer answer (200), or which one does not (503)."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError

from config import health

# A Redis nobody listens on: connecting is refused at once.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
    }
}


@pytest.mark.django_db
def test_readyz_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "channel_layer": "ok"},
    }
    assert "no-store" in response["Cache-Control"]  # a proxy must not cache a readiness


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_fails(client, monkeypatch):
    def refused() -> None:
        raise OperationalError('connection to server at "db.internal" (10.0.0.5) failed: secret')

    monkeypatch.setattr(health, "_query_database", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body == {
        "status": "unavailable",
        "checks": {"database": "unavailable (OperationalError)", "channel_layer": "ok"},
    }
    # The public answer names the kind of error, not the infrastructure behind it.
    assert "db.internal" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_is_503_when_the_channel_layer_is_unreachable(client, settings):
    settings.CHANNEL_LAYERS = UNREACHABLE_REDIS  # channels drops its cached layer on change
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["channel_layer"].startswith("unavailable (")
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_is_503_when_no_channel_layer_is_configured(client, settings):
    settings.CHANNEL_LAYERS = {}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == "unavailable (RuntimeError)"


@pytest.mark.django_db
def test_a_hung_check_is_a_prompt_503(client, monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.05)
    monkeypatch.setattr(health, "_query_database", lambda: time.sleep(0.5))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable (timed out)"


def test_healthz_stays_a_liveness_check(client, monkeypatch):
    """A database outage must not make an orchestrator restart every live process: /healthz
    answers without the database (no django_db mark here: any query would raise)."""
    monkeypatch.setattr(health, "_query_database", lambda: 1 / 0)
    response = client.get("/healthz")
    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_only_answers_get(client):
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_not_redirected_to_https(client, settings):
    """Health checkers ask over plain HTTP from inside the network (as for /healthz)."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/readyz").status_code == 200
