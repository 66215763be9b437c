"""The manifest, the service worker's script and the push subscription endpoints."""

from __future__ import annotations

import json
import struct

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from pwa import views
from pwa.management.commands.vapid_keys import new_keys
from pwa.models import PushSubscription
from pwa.tests.test_push import Browser

pytestmark = pytest.mark.django_db

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def test_the_worker_is_served_from_the_root_with_its_headers(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-store" in response["Cache-Control"]
    source = response.content.decode()
    config = json.loads(source.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["pages"] == ["/diary/", "/diary/notes/"]
    assert config["entryForm"] == "/diary/entries/new/"
    assert "/accounts/logout/" in config["signOut"]
    assert len(config["precache"]) == len(views.PRECACHE_FILES)
    assert 'self.addEventListener("fetch"' in source
    # No script from anywhere else, nothing evaluated: the strict CSP holds for the worker too.
    assert "importScripts" not in source
    assert "eval(" not in source


def test_the_worker_version_follows_the_files(client, monkeypatch):
    first = client.get("/sw.js").content.decode().split("\n", 1)[0]
    real_read = views._read
    monkeypatch.setattr(
        views, "_read", lambda path: real_read(path) + (b"//x" if path == "js/offline.js" else b"")
    )
    views._cached_worker_source.cache_clear()
    second = views._worker_source().split("\n", 1)[0]
    views._cached_worker_source.cache_clear()
    assert first != second


def test_the_manifest_opens_the_diary_and_its_icons_exist(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = response.json()
    assert (data["start_url"], data["scope"], data["display"]) == ("/diary/", "/", "standalone")
    assert {icon["purpose"] for icon in data["icons"]} == {"any", "maskable"}
    for path, sizes, _purpose in views.ICONS:
        with open(finders.find(path), "rb") as file:
            head = file.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert f"{width}x{height}" == sizes


def test_every_page_links_the_manifest_and_the_offline_script(client, patient):
    client.force_login(patient)
    html = client.get("/diary/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert "js/offline.js" in html
    assert f'role="status" data-user="{patient.pk}" hidden' in html


# Subscriptions -------------------------------------------------------------------------------


@pytest.fixture
def keys(settings):
    public, private = new_keys()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:care@example.org"
    return public


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_profile_says_push_is_off_without_keys(client, patient):
    client.force_login(patient)
    html = client.get("/accounts/profile/").content.decode()
    assert 'id="push-disabled"' in html
    assert "not set up on this server" in html
    assert 'id="push-enable"' not in html
    response = post_json(client, "/push/subscribe/", Browser(ENDPOINT).json)
    assert response.status_code == 409
    assert "VAPID" in response.json()["error"]
    test = client.post("/push/test/", follow=True)
    assert "not set up on this server" in test.content.decode()


def test_profile_offers_push_with_keys(client, patient, keys):
    client.force_login(patient)
    html = client.get("/accounts/profile/").content.decode()
    assert f'data-public-key="{keys}"' in html
    assert 'id="push-test"' in html
    assert "js/push.js" in html


def test_subscribe_stores_once_per_endpoint_and_moves_it_between_users(
    client, patient, other_patient, keys
):
    client.force_login(patient)
    subscription = Browser(ENDPOINT).json
    assert post_json(client, "/push/subscribe/", subscription).status_code == 201
    assert post_json(client, "/push/subscribe/", subscription).json()["devices"] == 1
    assert PushSubscription.objects.get().user == patient
    other = Client()
    other.force_login(other_patient)
    assert post_json(other, "/push/subscribe/", subscription).status_code == 201
    assert PushSubscription.objects.get().user == other_patient
    # the first user cannot remove what is now the other's
    assert post_json(client, "/push/unsubscribe/", {"endpoint": ENDPOINT}).json()["deleted"] == 0
    assert PushSubscription.objects.count() == 1
    assert post_json(other, "/push/unsubscribe/", {"endpoint": ENDPOINT}).json()["deleted"] == 1
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"endpoint": "https://evil.example/push"}, "not a known push service"),
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "https"),
        ({"endpoint": "https://10.0.0.1/push"}, "not a known push service"),
        ({"endpoint": 5}, "as text"),
        ({"keys": {"p256dh": "abc", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        ({"keys": None}, "as text"),
    ],
)
def test_a_bad_subscription_is_a_400_naming_the_problem(client, patient, keys, change, message):
    client.force_login(patient)
    body = {**Browser(ENDPOINT).json, **change}
    response = post_json(client, "/push/subscribe/", body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", '"\\ud800"'])
def test_a_malformed_body_is_a_400(client, patient, keys, body):
    client.force_login(patient)
    response = client.post("/push/subscribe/", body, content_type="application/json")
    assert response.status_code == 400
    unsubscribe = client.post("/push/unsubscribe/", body, content_type="application/json")
    assert unsubscribe.status_code == 400


def test_subscribing_needs_sign_in_and_the_csrf_token(patient, keys):
    anonymous = Client()
    assert (
        anonymous.post("/push/subscribe/", "{}", content_type="application/json").status_code == 302
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    refused = post_json(client, "/push/subscribe/", Browser(ENDPOINT).json)
    assert refused.status_code == 403
    assert client.post("/push/test/").status_code == 403
    assert not PushSubscription.objects.exists()


def test_the_test_button_without_a_device_says_so(client, patient, keys):
    client.force_login(patient)
    html = client.post("/push/test/", follow=True).content.decode()
    assert "No device of yours is subscribed" in html
