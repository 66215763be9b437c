from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts import services as account_services
from config.asgi import application
from conftest import SOCKET_TIMEOUT, make_user
from messaging import services
from messaging.models import Message
from messaging.tests.conftest import link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://localhost")


@database_sync_to_async
def token_for(user) -> str:
    return account_services.issue_token(user=user).key


@database_sync_to_async
def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@database_sync_to_async
def store(sender, receiver, text="hi") -> Message:
    return services.send_message(sender=sender, receiver=receiver, text=text)


@database_sync_to_async
def stored_texts() -> list[str]:
    return list(Message.objects.order_by("id").values_list("text", flat=True))


async def json_socket(user, peer: str, query: str = "", expect: bool = True):
    key = await token_for(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{peer}/?token={key}{query}", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected is expect
    return communicator


async def html_socket(user, peer: str, query: str = ""):
    cookie = await cookie_for(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{peer}/?html=1{query}", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    return communicator


async def say(communicator, text, **extra) -> None:
    await communicator.send_to(text_data=json.dumps({"message": text, **extra}))


async def test_history_on_connect_one_frame_each_oldest_first(patient, doctor, other_patient):
    first = await store(patient, doctor, "one")
    second = await store(doctor, patient, "two")
    await database_sync_to_async(link)(other_patient, doctor)
    await store(other_patient, doctor, "not ours")
    socket = await json_socket(patient, "drwho")
    assert await socket.receive_json_from() == services.message_data(first)
    assert await socket.receive_json_from() == services.message_data(second)
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_history_after_an_id_sends_only_newer(patient, doctor):
    first = await store(patient, doctor, "one")
    second = await store(doctor, patient, "two")
    socket = await json_socket(patient, "drwho", f"&after={first.pk}")
    assert (await socket.receive_json_from())["id"] == second.pk
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_send_reaches_every_socket_of_both_people_once(patient, doctor):
    alice_1 = await json_socket(patient, "drwho")
    alice_2 = await json_socket(patient, "drwho")
    doctor_socket = await json_socket(doctor, "alice")
    await say(alice_1, "  hello doctor ")
    frames = [await s.receive_json_from() for s in (alice_1, alice_2, doctor_socket)]
    expected = await database_sync_to_async(
        lambda: services.message_data(Message.objects.with_people().get())
    )()
    assert frames == [expected] * 3
    assert frames[0]["message"] == "hello doctor"
    assert frames[0]["sender"] == "alice"
    assert frames[0]["receiver"] == "drwho"
    for socket in (alice_1, alice_2, doctor_socket):
        assert await socket.receive_nothing(timeout=0.1)
        await socket.disconnect()


async def test_other_conversations_are_not_heard(patient, doctor, other_patient):
    await database_sync_to_async(link)(other_patient, doctor)
    bob = await json_socket(other_patient, "drwho")
    alice = await json_socket(patient, "drwho")
    await say(alice, "private")
    assert (await alice.receive_json_from())["message"] == "private"
    assert await bob.receive_nothing(timeout=0.2)
    await bob.disconnect()
    await alice.disconnect()


async def test_json_and_html_clients_share_a_conversation(patient, doctor):
    api = await json_socket(patient, "drwho")
    browser = await html_socket(doctor, "alice")
    await say(browser, "<script>alert(1)</script>", HEADERS={"HX-Request": "true"})
    data = await api.receive_json_from()
    assert data["message"] == "<script>alert(1)</script>"
    assert data["sender"] == "drwho"
    html = await browser.receive_from()
    assert f'id="message-{data["id"]}"' in html
    assert 'hx-swap-oob="beforeend:#message-list"' in html
    assert "chat-message mine" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html

    await say(api, "from the app")
    reply = await browser.receive_from()
    assert "chat-message theirs" in reply
    assert "from the app" in reply
    assert (await api.receive_json_from())["message"] == "from the app"
    await api.disconnect()
    await browser.disconnect()


async def test_open_browser_marks_read_and_sender_sees_ticks(patient, doctor):
    sender = await html_socket(patient, "drwho")
    reader = await html_socket(doctor, "alice")
    await say(sender, "are you there?")
    first = await sender.receive_from()
    assert 'title="Sent"' in first
    await reader.receive_from()
    ticks = await sender.receive_from()
    message = await database_sync_to_async(Message.objects.get)()
    assert f'id="status-{message.pk}"' in ticks
    assert 'title="Read"' in ticks
    assert message.read_at is not None
    await sender.disconnect()
    await reader.disconnect()


async def test_html_times_are_in_the_users_time_zone(doctor):
    tokyo = await database_sync_to_async(make_user)("tokyo", timezone="Asia/Tokyo")
    await database_sync_to_async(link)(tokyo, doctor)
    browser = await html_socket(tokyo, "drwho")
    message = await store(doctor, tokyo, "konnichiwa")
    html = await browser.receive_from()
    assert "+09:00" in html  # the datetime attribute, in the user's zone
    from datetime import timedelta

    local = (message.timestamp + timedelta(hours=9)).strftime("%H:%M")
    assert local in html
    await browser.disconnect()


async def test_html_reconnect_sends_only_what_was_missed(patient, doctor):
    seen = await store(doctor, patient, "seen")
    missed = await store(doctor, patient, "missed")
    assert await database_sync_to_async(Message.objects.filter(read_at__isnull=True).count)() == 2
    browser = await html_socket(patient, "drwho", f"&after={seen.pk}")
    html = await browser.receive_from()
    assert f'id="message-{missed.pk}"' in html
    assert f'id="message-{seen.pk}"' not in html
    # everything up to the newest shown message now counts as read
    unread = database_sync_to_async(Message.objects.filter(read_at__isnull=True).count)
    assert await browser.receive_nothing(timeout=0.1)
    assert await unread() == 0
    await browser.disconnect()


async def test_html_reconnect_far_behind_replaces_the_list(patient, doctor):
    first = await store(doctor, patient, "0")
    for i in range(60):
        await store(doctor, patient, str(i + 1))
    browser = await html_socket(patient, "drwho", f"&after={first.pk}")
    html = await browser.receive_from()
    assert 'id="message-list"' in html
    assert 'hx-swap-oob="outerHTML"' in html
    assert html.count('class="chat-message') == 50
    assert "Load older messages" in html
    await browser.disconnect()


async def test_html_first_connect_sends_nothing(patient, doctor):
    await store(doctor, patient, "shown by the page")
    browser = await html_socket(patient, "drwho")
    assert await browser.receive_nothing(timeout=0.2)
    await browser.disconnect()


async def test_delete_clears_open_browsers(patient, doctor):
    await store(doctor, patient, "bye")
    browser = await html_socket(patient, "drwho")
    await database_sync_to_async(services.delete_conversation)(user=doctor, peer=patient)
    html = await browser.receive_from()
    assert 'id="message-list"' in html
    assert "chat-message" not in html.replace("chat-message-", "")
    await browser.disconnect()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "JSON"),
        ("[1, 2]", "message"),
        ('{"text": "hi"}', "message"),
        ('{"message": ""}', "empty"),
        ('{"message": "   "}', "empty"),
        ('{"message": null}', "text"),
        ('{"message": 5}', "text"),
        (json.dumps({"message": "x" * 5001}), "5000"),
        ('{"message": "a\\u0000b"}', "NUL"),
        ('{"message": "\\ud800"}', "Unicode"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(patient, doctor, frame, error):
    socket = await json_socket(patient, "drwho")
    await socket.send_to(text_data=frame)
    reply = await socket.receive_json_from()
    assert set(reply) == {"error"}
    assert error in reply["error"]
    await say(socket, "still here")
    assert (await socket.receive_json_from())["message"] == "still here"
    assert await stored_texts() == ["still here"]
    await socket.disconnect()


async def test_binary_garbage_is_an_error(patient, doctor):
    socket = await json_socket(patient, "drwho")
    await socket.send_to(bytes_data=b"\xff\xfe")
    assert "error" in await socket.receive_json_from()
    await socket.disconnect()


async def test_html_client_gets_errors_as_fragments(patient, doctor):
    browser = await html_socket(patient, "drwho")
    await say(browser, "   ")
    html = await browser.receive_from()
    assert 'id="chat-error"' in html
    assert "empty" in html
    await browser.disconnect()


async def test_flood_is_rate_limited(patient, doctor, settings):
    settings.CHAT_RATE_BURST = 5
    settings.CHAT_RATE_PER_SECOND = 1
    socket = await json_socket(patient, "drwho")
    for i in range(8):
        await say(socket, f"m{i}")
    frames = [await socket.receive_json_from() for _ in range(8)]
    errors = [f for f in frames if "error" in f]
    assert len(errors) == 3
    assert "Too many" in errors[0]["error"]
    assert len(await stored_texts()) == 5
    await socket.disconnect()


@pytest.mark.parametrize("query", ["", "?token=", "?token=bogus", "?token=ab%00c"])
async def test_missing_or_bad_token_is_refused(patient, doctor, query):
    communicator = WebsocketCommunicator(application, f"/ws/chat/drwho/{query}", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("peer", ["ghost", "alice"])
async def test_unknown_peer_or_yourself_is_refused(patient, peer):
    socket = await json_socket(patient, peer, expect=False)
    await socket.disconnect()


async def test_token_in_subprotocol_is_echoed(patient, doctor):
    key = await token_for(patient)
    communicator = WebsocketCommunicator(
        application, "/ws/chat/drwho/", headers=[ORIGIN], subprotocols=["token", key]
    )
    connected, subprotocol = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    assert subprotocol == "token"
    await communicator.disconnect()


async def test_usernames_with_punctuation_route(patient):
    punctuated = await database_sync_to_async(make_user)("dr.who+x@y-z", role="doctor")
    await database_sync_to_async(link)(patient, punctuated)
    socket = await json_socket(patient, "dr.who+x@y-z")
    await say(socket, "hi")
    assert (await socket.receive_json_from())["receiver"] == "dr.who+x@y-z"
    await socket.disconnect()


async def inbox_socket(user, query: str = ""):
    cookie = await cookie_for(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/inbox/{query}", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    return communicator


async def test_inbox_badge_updates_live(patient, doctor):
    inbox = await inbox_socket(patient)
    first = await inbox.receive_from()
    assert 'id="unread-badge"' in first
    assert 'data-unread="0"' in first
    await store(doctor, patient, "new")
    update = await inbox.receive_from()
    assert 'data-unread="1"' in update
    assert 'hx-swap-oob="true"' in update
    await inbox.disconnect()


async def test_inbox_list_updates_live(patient, doctor):
    inbox = await inbox_socket(patient, "?list=1")
    assert "No conversations yet" in await inbox.receive_from()
    await store(doctor, patient, "<b>preview</b>")
    html = await inbox.receive_from()
    assert 'id="conversation-list"' in html
    assert "&lt;b&gt;preview&lt;/b&gt;" in html
    await inbox.disconnect()


async def test_inbox_refuses_anonymous():
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert not connected
    await communicator.disconnect()


async def test_both_peers_sending_200_at_once(patient, doctor, settings):
    settings.CHAT_RATE_BURST = 1000
    alice = await json_socket(patient, "drwho")
    bob = await json_socket(doctor, "alice")
    count = 200

    async def send_all(socket, name):
        for i in range(count):
            await say(socket, f"{name}-{i}")

    async def receive_all(socket):
        return [await socket.receive_json_from(timeout=30) for _ in range(2 * count)]

    _, _, alice_got, bob_got = await asyncio.gather(
        send_all(alice, "alice"), send_all(bob, "drwho"), receive_all(alice), receive_all(bob)
    )
    stored = await database_sync_to_async(
        lambda: list(Message.objects.order_by("id").values_list("id", "text"))
    )()
    assert len(stored) == 2 * count
    assert len({text for _, text in stored}) == 2 * count  # each stored once
    assert [(m["id"], m["message"]) for m in alice_got] == stored  # once each, in stored order
    assert [(m["id"], m["message"]) for m in bob_got] == stored
    # each sender's own messages kept their sending order
    for name in ("alice", "drwho"):
        mine = [text for _, text in stored if text.startswith(name + "-")]
        assert mine == [f"{name}-{i}" for i in range(count)]
    assert await alice.receive_nothing(timeout=0.2)
    await alice.disconnect()
    await bob.disconnect()


async def test_socket_refused_without_a_link(patient, other_patient):
    house = await database_sync_to_async(make_user)("house", role="doctor")
    for user, peer in ((patient, "house"), (patient, "bob"), (house, "alice")):
        socket = await json_socket(user, peer, expect=False)  # patients never talk to patients
        await socket.disconnect()


async def test_socket_refused_after_the_link_ends(patient, doctor):
    from accounts import services as accounts
    from accounts.models import CareLink

    link_row = await database_sync_to_async(CareLink.objects.get)()
    await database_sync_to_async(accounts.change_link)(link=link_row, by=doctor, status="ended")
    socket = await json_socket(patient, "drwho", expect=False)
    await socket.disconnect()


CLIENT_ID = "6f1d3c2e-9a4b-4f0e-8c7d-2b1a0e9f8d7c"


async def test_a_resent_client_id_is_stored_once_and_answered_with_the_same_id(patient, doctor):
    sender = await json_socket(patient, "drwho")
    peer = await json_socket(doctor, "alice")
    await say(sender, "once", client_id=CLIENT_ID)
    first = await sender.receive_json_from(SOCKET_TIMEOUT)
    assert first["message"] == "once"
    assert first["client_id"] == CLIENT_ID
    assert (await peer.receive_json_from(SOCKET_TIMEOUT))["id"] == first["id"]
    await say(sender, "once", client_id=CLIENT_ID)  # a resend after a lost acknowledgement
    assert await sender.receive_json_from(SOCKET_TIMEOUT) == first
    assert await peer.receive_nothing(timeout=0.3)  # no second broadcast
    assert await stored_texts() == ["once"]
    await sender.disconnect()
    await peer.disconnect()


async def test_a_resend_on_a_new_socket_answers_the_stored_message(patient, doctor):
    first_socket = await json_socket(patient, "drwho")
    await say(first_socket, "before the drop", client_id=CLIENT_ID)
    stored = await first_socket.receive_json_from(SOCKET_TIMEOUT)
    await first_socket.disconnect()
    again = await json_socket(patient, "drwho", query=f"&after={stored['id']}")
    await say(again, "before the drop", client_id=CLIENT_ID)
    assert await again.receive_json_from(SOCKET_TIMEOUT) == stored
    assert await stored_texts() == ["before the drop"]
    await again.disconnect()


async def test_two_senders_may_use_the_same_client_id(patient, doctor):
    alice = await json_socket(patient, "drwho")
    drwho = await json_socket(doctor, "alice")
    await say(alice, "from alice", client_id=CLIENT_ID)
    await say(drwho, "from the doctor", client_id=CLIENT_ID)
    received = [(await alice.receive_json_from(SOCKET_TIMEOUT))["message"] for _ in range(2)]
    assert sorted(received) == ["from alice", "from the doctor"]
    assert sorted(await stored_texts()) == ["from alice", "from the doctor"]
    await alice.disconnect()
    await drwho.disconnect()


@pytest.mark.parametrize("client_id", ["not-a-uuid", 42, [CLIENT_ID], CLIENT_ID + "x"])
async def test_an_invalid_client_id_is_an_error_frame(patient, doctor, client_id):
    socket = await json_socket(patient, "drwho")
    await say(socket, "hi", client_id=client_id)
    assert await socket.receive_json_from(SOCKET_TIMEOUT) == {"error": "client_id must be a UUID."}
    assert await stored_texts() == []
    await say(socket, "still open")
    assert (await socket.receive_json_from(SOCKET_TIMEOUT))["message"] == "still open"
    await socket.disconnect()


async def test_the_browser_sees_a_resend_answered_once(patient, doctor):
    socket = await html_socket(patient, "drwho")
    await say(socket, "from the box", client_id=CLIENT_ID)
    fragment = await socket.receive_from(SOCKET_TIMEOUT)
    assert "from the box" in fragment
    assert f'data-client-id="{CLIENT_ID}"' in fragment
    await say(socket, "from the box", client_id=CLIENT_ID)
    assert f'data-client-id="{CLIENT_ID}"' in await socket.receive_from(SOCKET_TIMEOUT)
    assert await socket.receive_nothing(timeout=0.3)
    assert await stored_texts() == ["from the box"]
    await socket.disconnect()


async def test_a_client_id_reused_for_other_text_is_an_error_frame(patient, doctor):
    socket = await json_socket(patient, "drwho")
    await say(socket, "first", client_id=CLIENT_ID)
    await socket.receive_json_from(SOCKET_TIMEOUT)
    await say(socket, "second", client_id=CLIENT_ID)
    assert await socket.receive_json_from(SOCKET_TIMEOUT) == {
        "error": services.CLIENT_ID_REUSED,
        "client_id": CLIENT_ID,
    }
    assert await stored_texts() == ["first"]
    await socket.disconnect()
