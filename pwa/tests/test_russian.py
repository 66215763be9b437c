"""Notifications and the offline page in Russian: a push says its words in the recipient's
language (and still nothing about their health); the service worker's offline page is the
server's, in the language of whoever fetched it."""

from __future__ import annotations

import json

import pytest
from django.utils.translation import gettext_lazy

from clinical.delivery import Notice
from pwa import push
from pwa.tests.test_push import Browser
from pwa.tests.test_views import ENDPOINT, keys, post_json  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9"}


def speaks(user, language: str):
    user.language = language
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """What would have gone to the push service: the payload's words, per call."""
    calls: list[dict] = []

    def fake_send_push(**kwargs) -> int:
        calls.append(kwargs)
        return 1

    monkeypatch.setattr(push, "send_push", fake_send_push)
    return calls


def test_the_test_notification_and_its_message_in_russian(client, patient, keys, sent):  # noqa: F811
    client.force_login(speaks(patient, "ru"))
    assert post_json(client, "/push/subscribe/", Browser(ENDPOINT).json).status_code == 201
    page = client.post("/push/test/", follow=True).content.decode()
    assert sent[0]["body"] == "Уведомления на этом устройстве работают."
    assert "Тестовое уведомление отправлено на 1 устройство." in page


def test_a_reminder_push_is_in_the_recipients_language(patient, other_patient, keys, sent):  # noqa: F811
    """A Notice may carry lazy texts: the push channel says them in each recipient's language,
    whatever the language of the process sending them."""
    speaks(patient, "ru")
    text = gettext_lazy("Notifications work on this device.")
    for user in (patient, other_patient):
        user.push_subscriptions.create(endpoint=f"{ENDPOINT}{user.pk}", p256dh="k", auth="a")
        assert push.PushChannel().deliver(Notice(user, "Painmap", text, "/diary/"))
    assert sent[0]["body"] == "Уведомления на этом устройстве работают."
    assert sent[1]["body"] == "Notifications work on this device."
    assert sent[0]["user"] == patient


def test_the_push_card_counts_devices_in_russian(client, patient, keys):  # noqa: F811
    client.force_login(speaks(patient, "ru"))
    for n in range(2):
        patient.push_subscriptions.create(endpoint=f"{ENDPOINT}{n}", p256dh="k", auth="a")
    html = client.get("/accounts/profile/").content.decode()
    assert "Уведомления на этом устройстве" in html
    assert ">Включить уведомления</button>" in html
    assert "2\u00a0устройства подписаны" in html
    for n in range(2, 5):
        patient.push_subscriptions.create(endpoint=f"{ENDPOINT}{n}", p256dh="k", auth="a")
    assert "5\u00a0устройств подписано" in client.get("/accounts/profile/").content.decode()


def test_push_off_and_subscription_errors_in_russian(client, patient, settings):
    settings.VAPID_PRIVATE_KEY = ""
    client.force_login(speaks(patient, "ru"))
    html = client.get("/accounts/profile/").content.decode()
    assert "Push-уведомления на этом сервере не настроены" in html
    refused = post_json(client, "/push/subscribe/", Browser(ENDPOINT).json)
    assert refused.status_code == 409
    assert set(refused.json()) == {"error"}
    assert refused.json()["error"].startswith("Push-уведомления на этом сервере не настроены")


def test_subscription_problems_in_russian(client, patient, keys):  # noqa: F811
    client.force_login(speaks(patient, "ru"))
    bad = post_json(client, "/push/subscribe/", {"endpoint": "https://evil.example/x", "keys": {}})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "Для подписки нужны endpoint, keys.p256dh и keys.auth в виде текста."
    }


def test_the_offline_page_is_the_servers_in_the_visitors_language(client, patient):
    russian = client.get("/push/offline/", **RU)
    html = russian.content.decode()
    assert russian["Content-Language"] == "ru"
    assert '<html lang="ru">' in html
    assert "<h1" in html
    assert "Нет подключения</h1>" in html
    assert 'href="/diary/">Ваш дневник</a>' in html
    english = client.get("/push/offline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are offline</h1>" in english
    # It names no one: the same page for a signed-in person.
    client.force_login(patient)
    assert patient.username not in client.get("/push/offline/").content.decode()


def test_the_worker_names_the_offline_page_and_holds_no_words(client):
    source = client.get("/sw.js").content.decode()
    config = json.loads(source.split("\n", 1)[0].removeprefix("const CONFIG = ").rstrip(";"))
    assert config["offlinePage"] == "/push/offline/"
    for english in ("You are offline", "Your diary", "This page needs a connection"):
        assert english not in source


def test_the_manifest_follows_the_browsers_language(client):
    data = client.get("/manifest.webmanifest", **RU).json()
    assert data["name"] == "Painmap — дневник боли"
    assert data["short_name"] == "Painmap"
    assert data["display"] == "standalone"
