"""/readyz: the database and the channel layer answer (200), or which one does not (503)."""

from __future__ import annotations

import time

import pytest
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from core import health

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


# /metrics: counted at the ASGI boundary, shown to a scraper with the token.

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Token {TOKEN}", "Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}"],
)
def test_metrics_refuse_a_wrong_token(client, metrics_on, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"painmap_" not in response.content


def test_metrics_with_the_token(client, metrics_on):
    response = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    for name in (
        "painmap_http_request_duration_seconds_count",
        "painmap_websockets_open",
        "painmap_websocket_frames_sent_total",
    ):
        assert f"\n{name} " in text


def test_metrics_only_answer_get(client, metrics_on):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


def sample(metrics: health.Metrics, name: str) -> float:
    """One sample's value from the rendered text, as Prometheus would parse it."""
    for line in metrics.render().splitlines():
        if not line.startswith("#") and line.rsplit(" ", 1)[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def http_app(scope, receive, send):
    status = 201 if scope["path"] == "/created" else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    await send({"type": "http.response.body", "body": b"end"})


async def http_call(app, path: str) -> None:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "path": path, "method": "GET"}, receive, send)
    assert sent[0]["type"] == "http.response.start"  # passed through unchanged


@pytest.mark.asyncio
async def test_requests_and_latencies_are_counted():
    metrics = health.Metrics()
    app = health.instrument(http_app, metrics)
    await http_call(app, "/created")
    await http_call(app, "/created")
    await http_call(app, "/missing")
    assert sample(metrics, 'painmap_http_responses_total{code="201"}') == 2
    assert sample(metrics, 'painmap_http_responses_total{code="404"}') == 1
    # One latency per response, at its last body chunk; buckets are cumulative up to +Inf.
    assert sample(metrics, "painmap_http_request_duration_seconds_count") == 3
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="+Inf"}') == 3
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="10.0"}') == 3


def test_slow_requests_land_in_the_right_bucket():
    metrics = health.Metrics()
    metrics.observe_latency(0.003)
    metrics.observe_latency(0.3)
    metrics.observe_latency(60.0)  # beyond the last bucket: only in +Inf
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="0.005"}') == 1
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="0.25"}') == 1
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="0.5"}') == 2
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="10.0"}') == 2
    assert sample(metrics, 'painmap_http_request_duration_seconds_bucket{le="+Inf"}') == 3
    assert sample(metrics, "painmap_http_request_duration_seconds_sum") == pytest.approx(60.303)


async def echo_socket(scope, receive, send):
    """Accepts (unless the path says no), echoes every frame twice, returns on disconnect."""
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            if scope["path"] == "/refuse/":
                await send({"type": "websocket.close", "code": 4403})
                return
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if message.get("text") == "crash":
                raise RuntimeError("a consumer bug")
            for _ in range(2):
                await send({"type": "websocket.send", "text": message["text"]})
        elif message["type"] == "websocket.disconnect":
            return


@pytest.mark.asyncio
async def test_sockets_and_frames_are_counted():
    metrics = health.Metrics()
    app = health.instrument(echo_socket, metrics)
    first = WebsocketCommunicator(app, "/ws/one/")
    second = WebsocketCommunicator(app, "/ws/two/")
    assert (await first.connect())[0]
    assert (await second.connect())[0]
    assert sample(metrics, "painmap_websockets_open") == 2
    await first.send_to(text_data="hello")
    assert await first.receive_from() == "hello"
    assert await first.receive_from() == "hello"
    assert sample(metrics, "painmap_websocket_frames_received_total") == 1
    assert sample(metrics, "painmap_websocket_frames_sent_total") == 2
    await first.disconnect()
    assert sample(metrics, "painmap_websockets_open") == 1
    await second.disconnect()
    assert sample(metrics, "painmap_websockets_open") == 0
    assert sample(metrics, "painmap_websockets_accepted_total") == 2


@pytest.mark.asyncio
async def test_a_refused_or_crashed_socket_leaves_the_gauge_right():
    metrics = health.Metrics()
    app = health.instrument(echo_socket, metrics)
    refused = WebsocketCommunicator(app, "/refuse/")
    connected, code = await refused.connect()
    assert (connected, code) == (False, 4403)
    assert sample(metrics, "painmap_websockets_accepted_total") == 0
    crashing = WebsocketCommunicator(app, "/ws/crash/")
    assert (await crashing.connect())[0]
    assert sample(metrics, "painmap_websockets_open") == 1
    await crashing.send_to(text_data="crash")
    with pytest.raises(RuntimeError):
        await crashing.wait()
    assert sample(metrics, "painmap_websockets_open") == 0


@pytest.mark.asyncio
async def test_other_scopes_pass_through():
    seen = []

    async def lifespan_app(scope, receive, send):
        seen.append(scope["type"])

    await health.instrument(lifespan_app, health.Metrics())({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_instrument_wraps_the_real_application():
    """What config/asgi.py serves works unchanged inside the wrapper, and is counted."""
    from channels.testing import HttpCommunicator

    from config.asgi import application

    metrics = health.Metrics()
    app = health.instrument(application, metrics)
    response = await HttpCommunicator(
        app, "GET", "/healthz", headers=[(b"host", b"testserver")]
    ).get_response()
    assert response["status"] == 200
    assert sample(metrics, 'painmap_http_responses_total{code="200"}') == 1
    # Nobody signed in: the chat refuses the socket, which is never counted as open.
    refused = WebsocketCommunicator(app, "/ws/inbox/", headers=[(b"origin", b"http://localhost")])
    connected, _ = await refused.connect()
    assert not connected
    assert sample(metrics, "painmap_websockets_accepted_total") == 0
    assert sample(metrics, "painmap_websockets_open") == 0
