"""Web Push against a real HTTP server standing in for the push service: it records what our
server posts (headers, encrypted body), and the test checks the VAPID JWT's signature and
decrypts the payload with the browser's keys, as a browser would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core import mail
from django.utils import timezone

from clinical.delivery import Notice, deliver
from pwa import push
from pwa.management.commands.vapid_keys import new_keys
from pwa.models import PushSubscription

pytestmark = pytest.mark.django_db


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A tiny push service: records every POST and answers with `status`."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                service.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """What a browser keeps for one subscription: its ECDH key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        self.json = {
            "endpoint": endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.stop()


@pytest.fixture
def vapid(settings) -> tuple[str, str]:
    public, private = new_keys()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = "mailto:care@example.org"
    settings.PUSH_SERVICE_HOSTS = ["127.0.0.1"]
    settings.PUSH_HTTP_HOSTS = ["127.0.0.1"]
    return public, private


def subscribed(user, push_service: PushService, name: str = "a") -> Browser:
    browser = Browser(f"{push_service.url}/push/{name}")
    keys = browser.json["keys"]
    push.subscribe(
        user=user, endpoint=browser.json["endpoint"], p256dh=keys["p256dh"], auth=keys["auth"]
    )
    return browser


def check_vapid(headers: dict, public_key: str, audience: str) -> dict:
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if bad
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == audience
    assert decoded["exp"] > time.time()
    return decoded


def test_a_push_is_encrypted_for_the_browser_and_signed_with_vapid(patient, push_service, vapid):
    browser = subscribed(patient, push_service)
    sent = push.send_push(
        user=patient, title="Painmap", body="Time to record", link="https://x.example/diary/?a=1"
    )
    assert sent == 1
    (request,) = push_service.received
    assert request["path"] == "/push/a"
    headers = request["headers"]
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) == push.PUSH_TTL
    claims = check_vapid(headers, vapid[0], push_service.url)
    assert claims["sub"] == "mailto:care@example.org"
    assert b"Time to record" not in request["body"]  # encrypted on the wire
    assert browser.decrypt(request["body"]) == {
        "title": "Painmap",
        "body": "Time to record",
        "url": "/diary/?a=1",
        "tag": "painmap",
    }
    assert PushSubscription.objects.get().last_sent is not None


@pytest.mark.parametrize("gone", [404, 410])
def test_a_gone_subscription_is_deleted(patient, push_service, vapid, gone):
    subscribed(patient, push_service)
    push_service.status = gone
    assert push.send_push(user=patient, title="t", body="b", link="/diary/") == 0
    assert not PushSubscription.objects.exists()


def test_a_failing_push_service_keeps_the_subscription(patient, push_service, vapid):
    subscribed(patient, push_service)
    push_service.status = 500
    assert push.send_push(user=patient, title="t", body="b", link="/diary/") == 0
    assert PushSubscription.objects.count() == 1


def test_each_browser_gets_its_own_push_and_others_get_none(
    patient, other_patient, push_service, vapid
):
    mine = [subscribed(patient, push_service, "a"), subscribed(patient, push_service, "b")]
    subscribed(other_patient, push_service, "c")
    assert push.send_push(user=patient, title="t", body="hello", link="/diary/") == 2
    assert sorted(r["path"] for r in push_service.received) == ["/push/a", "/push/b"]
    by_path = {r["path"]: r["body"] for r in push_service.received}
    assert mine[0].decrypt(by_path["/push/a"])["body"] == "hello"
    assert mine[1].decrypt(by_path["/push/b"])["body"] == "hello"


def test_reminders_go_by_push_first_and_no_email_then(patient, push_service, vapid):
    patient.email_verified_at = timezone.now()
    patient.save()
    browser = subscribed(patient, push_service)
    notice = Notice(patient, "Painmap reminder", "How is your pain today?", "http://t/diary/")
    assert deliver(notice) is True
    assert browser.decrypt(push_service.received[0]["body"])["tag"] == "reminder"
    assert mail.outbox == []
    # The push service refusing: the same reminder goes by email.
    push_service.status = 500
    assert deliver(notice) is True
    assert len(mail.outbox) == 1


def test_without_keys_nothing_is_pushed_and_email_still_works(patient, push_service, settings):
    settings.VAPID_PRIVATE_KEY = ""
    settings.PUSH_SERVICE_HOSTS = ["127.0.0.1"]
    PushSubscription.objects.create(
        user=patient, endpoint=f"{push_service.url}/push/a", p256dh="x", auth="y"
    )
    assert push.send_push(user=patient, title="t", body="b", link="/") == 0
    assert push_service.received == []
    patient.email_verified_at = timezone.now()
    patient.save()
    assert deliver(Notice(patient, "s", "t", "/")) is True
    assert len(mail.outbox) == 1
