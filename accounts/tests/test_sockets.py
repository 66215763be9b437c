"""Open sockets close (4401 / 4403) within a second of what they stood on ending, and a frame
sent after that stores nothing: one test per trigger of issue #10's "Credentials that end"."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import CareLink, User
from config.asgi import application
from conftest import PASSWORD, SOCKET_TIMEOUT, make_user
from messaging.models import Message
from messaging.tests.conftest import link

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://localhost")
# The documented close codes (accounts.sockets): what clients rely on, so spelled out here.
CREDENTIALS_ENDED = 4401
ACCESS_CHANGED = 4403
NEW_PASSWORD = "another-Long-secret-77"


@pytest.fixture
def doctor(patient):
    linked = make_user("drwho", role="doctor")
    link(patient, linked)
    return linked


@database_sync_to_async
def signed_in_client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def cookie(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@database_sync_to_async
def token_key(user: User) -> str:
    return services.issue_token(user=user).key


async def token_socket(user: User, path: str = "/ws/chat/drwho/", key: str | None = None):
    key = key or await token_key(user)
    communicator = WebsocketCommunicator(application, f"{path}?token={key}", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    if "inbox" in path:
        await communicator.receive_output(timeout=1)  # the first badge
    return communicator


async def session_socket(client: Client, path: str = "/ws/chat/drwho/?html=1"):
    communicator = WebsocketCommunicator(
        application, path, headers=[ORIGIN, (b"cookie", cookie(client))]
    )
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    if "inbox" in path:
        await communicator.receive_output(timeout=1)  # the first badge
    return communicator


async def closes_with(communicator: WebsocketCommunicator, code: int) -> None:
    """The socket is closed with `code` within a second (frames before it are skipped)."""
    deadline = time.monotonic() + 1.0
    while True:
        output = await communicator.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            assert output.get("code") == code
            return


async def stays_open(communicator: WebsocketCommunicator) -> None:
    assert await communicator.receive_nothing(timeout=0.3)


@database_sync_to_async
def stored() -> list[str]:
    return list(Message.objects.order_by("id").values_list("text", flat=True))


async def send_after_close_stores_nothing(communicator: WebsocketCommunicator) -> None:
    before = await stored()
    await communicator.send_to(text_data=json.dumps({"message": "after the end"}))
    await asyncio.sleep(0.3)
    assert await stored() == before
    await communicator.disconnect()


# Sign-outs: the sockets opened with the credential that ended.


async def test_api_sign_out_closes_the_token_sockets(patient, doctor):
    key = await token_key(patient)
    chat = await token_socket(patient, key=key)
    inbox = await token_socket(patient, "/ws/inbox/", key=key)
    browser = await session_socket(await signed_in_client(patient))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = await database_sync_to_async(api.post)("/api/auth/logout/")
    assert response.status_code == 204
    await closes_with(chat, CREDENTIALS_ENDED)
    await closes_with(inbox, CREDENTIALS_ENDED)
    await stays_open(browser)  # that browser's session did not end
    await send_after_close_stores_nothing(chat)
    await inbox.disconnect()
    await browser.disconnect()


async def test_web_sign_out_closes_its_sockets_and_ends_the_token(patient, doctor):
    client = await signed_in_client(patient)
    elsewhere = await signed_in_client(patient)
    key = await token_key(patient)
    browser = await session_socket(client)
    browser_inbox = await session_socket(client, "/ws/inbox/")
    api_socket = await token_socket(patient, key=key)
    other_browser = await session_socket(elsewhere)
    response = await database_sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    await closes_with(browser, CREDENTIALS_ENDED)
    await closes_with(browser_inbox, CREDENTIALS_ENDED)
    await closes_with(api_socket, CREDENTIALS_ENDED)
    await stays_open(other_browser)
    await send_after_close_stores_nothing(browser)
    await send_after_close_stores_nothing(api_socket)
    await browser_inbox.disconnect()
    await other_browser.disconnect()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert (await database_sync_to_async(api.get)("/api/auth/profile/")).status_code == 401


# Everything ends: password change (page, API), sign out everywhere, deactivation.


async def test_password_change_page_closes_every_socket_and_keeps_this_browser(patient, doctor):
    client = await signed_in_client(patient)
    other = await signed_in_client(patient)
    key = await token_key(patient)
    sockets = [
        await session_socket(client),
        await session_socket(other),
        await session_socket(other, "/ws/inbox/"),
        await token_socket(patient, key=key),
    ]
    response = await database_sync_to_async(client.post)(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
    for socket in sockets:
        await send_after_close_stores_nothing(socket)
    # This browser is still signed in and can open a chat again; the other one is not.
    assert (await database_sync_to_async(client.get)("/accounts/profile/")).status_code == 200
    again = await session_socket(client)
    await again.disconnect()
    assert (await database_sync_to_async(other.get)("/accounts/profile/")).status_code == 302
    assert not await database_sync_to_async(Token.objects.filter(key=key).exists)()


async def test_password_change_api_closes_every_socket(patient, doctor):
    key = await token_key(patient)
    browser = await signed_in_client(patient)
    sockets = [await token_socket(patient, key=key), await session_socket(browser)]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = await database_sync_to_async(api.post)(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
        await send_after_close_stores_nothing(socket)
    # The new token opens a socket; the old one no longer does.
    fresh = await token_socket(patient, key=response.json()["token"])
    await fresh.disconnect()
    refused = WebsocketCommunicator(application, f"/ws/chat/drwho/?token={key}", headers=[ORIGIN])
    assert (await refused.connect(timeout=SOCKET_TIMEOUT))[0] is False


async def test_sign_out_everywhere_closes_every_socket_and_keeps_this_browser(patient, doctor):
    client = await signed_in_client(patient)
    other = await signed_in_client(patient)
    sockets = [await session_socket(other), await token_socket(patient)]
    confirm = await database_sync_to_async(client.get)("/accounts/sign-out-everywhere/")
    assert confirm.status_code == 200
    assert b"Sign out everywhere else?" in confirm.content
    assert sockets[0].output_queue.empty()  # asking is not doing
    response = await database_sync_to_async(client.post)("/accounts/sign-out-everywhere/")
    assert response.status_code == 302
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
        await send_after_close_stores_nothing(socket)
    assert (await database_sync_to_async(client.get)("/accounts/profile/")).status_code == 200
    assert (await database_sync_to_async(other.get)("/accounts/profile/")).status_code == 302


async def test_deactivation_in_the_admin_change_form_closes_every_socket(patient, doctor):
    admin = await database_sync_to_async(User.objects.create_superuser)(
        "root", "root@example.com", PASSWORD
    )
    admin_client = await signed_in_client(admin)
    sockets = [
        await session_socket(await signed_in_client(patient)),
        await token_socket(patient),
    ]
    page = await database_sync_to_async(admin_client.get)(
        f"/admin/accounts/user/{patient.pk}/change/"
    )
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"password", "groups", "user_permissions"}
    }
    data.update(
        {
            "groups": [group.pk for group in form.initial["groups"]],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "",
        }
    )
    data.pop("is_active")
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = await database_sync_to_async(admin_client.post)(
        f"/admin/accounts/user/{patient.pk}/change/", data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    await database_sync_to_async(patient.refresh_from_db)()
    assert patient.is_active is False
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
        await send_after_close_stores_nothing(socket)
    assert await stored() == []


async def test_deactivate_user_service_closes_every_socket(patient, doctor):
    sockets = [await token_socket(patient), await token_socket(patient, "/ws/inbox/")]
    await database_sync_to_async(services.deactivate_user)(user=patient)
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
    await send_after_close_stores_nothing(sockets[0])
    await sockets[1].disconnect()


# Access that changed: role, care link.


async def test_role_change_closes_every_socket_of_that_user(doctor):
    colleague = await database_sync_to_async(make_user)("drno", role="doctor")
    chat = await token_socket(doctor, "/ws/chat/drno/")  # doctors may chat with any doctor
    inbox = await token_socket(doctor, "/ws/inbox/")
    colleague_chat = await token_socket(colleague, "/ws/chat/drwho/")
    # The role they already have changes nothing.
    await database_sync_to_async(services.set_role)(users=[doctor], role="doctor")
    await stays_open(chat)
    await database_sync_to_async(services.set_role)(users=[doctor], role="patient")
    await closes_with(chat, ACCESS_CHANGED)
    await closes_with(inbox, ACCESS_CHANGED)
    await stays_open(colleague_chat)
    await send_after_close_stores_nothing(chat)
    await inbox.disconnect()
    await colleague_chat.disconnect()


async def test_ending_the_care_link_closes_only_that_pairs_chat_sockets(patient, doctor):
    other = await database_sync_to_async(make_user)("bob")
    await database_sync_to_async(link)(other, doctor)
    patient_chat = await token_socket(patient)
    doctor_chat = await token_socket(doctor, "/ws/chat/alice/")
    doctor_with_bob = await token_socket(doctor, "/ws/chat/bob/")
    patient_inbox = await token_socket(patient, "/ws/inbox/")
    the_link = await database_sync_to_async(CareLink.objects.active().get)(patient=patient)
    await database_sync_to_async(services.change_link)(link=the_link, by=patient, status="ended")
    await closes_with(patient_chat, ACCESS_CHANGED)
    await closes_with(doctor_chat, ACCESS_CHANGED)
    await stays_open(doctor_with_bob)
    await stays_open(patient_inbox)
    await send_after_close_stores_nothing(patient_chat)
    await send_after_close_stores_nothing(doctor_chat)
    await doctor_with_bob.disconnect()
    await patient_inbox.disconnect()


async def test_admin_end_links_action_closes_that_pairs_chat_sockets(patient, doctor):
    other = await database_sync_to_async(make_user)("bob")
    await database_sync_to_async(link)(other, doctor)
    staff = await database_sync_to_async(make_user)("staff", is_staff=True)
    await database_sync_to_async(
        lambda: staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["change_carelink", "view_carelink"])
        )
    )()
    admin_client = await signed_in_client(staff)
    patient_chat = await token_socket(patient)
    doctor_with_bob = await token_socket(doctor, "/ws/chat/bob/")
    the_link = await database_sync_to_async(CareLink.objects.active().get)(patient=patient)
    response = await database_sync_to_async(admin_client.post)(
        "/admin/accounts/carelink/",
        {"action": "end_links", "_selected_action": [the_link.pk]},
    )
    assert response.status_code == 302
    await closes_with(patient_chat, ACCESS_CHANGED)
    await stays_open(doctor_with_bob)
    await send_after_close_stores_nothing(patient_chat)
    await doctor_with_bob.disconnect()


async def test_sockets_of_other_users_stay_open(patient, doctor):
    doctor_chat = await token_socket(doctor, "/ws/chat/alice/")
    await database_sync_to_async(services.end_credentials)(user=patient, reason="test")
    await stays_open(doctor_chat)
    await doctor_chat.disconnect()


# The rule a socket applies to an event.


@pytest.mark.parametrize(
    ("event", "via_token", "session", "peer", "meant"),
    [
        ({}, False, "s1", None, True),
        ({"token": True}, True, "s1", None, True),
        ({"token": True}, False, "s1", None, False),
        ({"session": "s1"}, False, "s1", None, True),
        ({"session": "s1"}, False, "s2", None, False),
        ({"session": "s1"}, True, "s1", None, False),  # a token socket with a cookie too
        ({"token": True, "session": "s1"}, False, "s1", None, True),
        ({"peer": 7}, True, None, 7, True),
        ({"peer": 7}, True, None, 8, False),
        ({"peer": 7}, True, None, None, False),  # an inbox socket
        ({"at": 99.0}, True, None, None, False),  # sent before the socket opened (at 100)
        ({"at": 100.0, "token": True}, True, None, None, True),
    ],
)
async def test_event_matches(event, via_token, session, peer, meant):
    from accounts.sockets import event_matches

    matched = event_matches(
        event, via_token=via_token, session=session, peer_id=peer, opened_at=100.0
    )
    assert matched is meant


async def test_a_late_close_event_spares_the_sockets_opened_after_it(patient, doctor):
    """A busy channel layer delivers late: the page loaded after "sign out everywhere" keeps
    its new socket, while the old one closes."""
    from channels.layers import get_channel_layer

    from accounts.sockets import close_event, credentials_group

    client = await signed_in_client(patient)
    old = await session_socket(client)
    sent_at = time.time()
    await asyncio.sleep(0.05)
    new = await session_socket(client)
    late = {**close_event(code=CREDENTIALS_ENDED, reason="test"), "at": sent_at}
    await get_channel_layer().group_send(credentials_group(patient.pk), late)
    await closes_with(old, CREDENTIALS_ENDED)
    await stays_open(new)
    await new.disconnect()
    await old.disconnect()


async def ended_during_the_handshake(user: User, code: int) -> None:
    """`user`'s new chat socket with drwho ends with `code`: refused (the second read, or the
    event handed to it on joining), or closed by the event after it joined."""
    key = await token_key(user)
    chat = WebsocketCommunicator(application, f"/ws/chat/drwho/?token={key}", headers=[ORIGIN])
    connected, refused_with = await chat.connect(timeout=SOCKET_TIMEOUT)
    if connected:
        await closes_with(chat, code)
        await send_after_close_stores_nothing(chat)
    else:
        assert refused_with == code


async def test_a_credential_that_ends_during_the_handshake_ends_the_new_socket(
    patient, doctor, monkeypatch
):
    """Signed out after the handshake read the token, before the socket joined its close
    group. In-memory layer: the socket reads its credential again after joining. Redis layer:
    every process hears every close event, and the socket gets what its group was sent since
    the read (core.realtime.layers), without a second read."""
    from django.conf import settings

    from accounts import ws_auth
    from messaging import consumers

    monkeypatch.setattr("core.realtime.layers.HEARD_MARGIN", 0.05)
    warm = await token_socket(doctor, f"/ws/chat/{patient.username}/")  # heard from now on
    await asyncio.sleep(0.2)

    real_user_for_token = ws_auth.user_for_token
    rereads = []
    real_credentials_valid = consumers.credentials_valid

    def read_then_signed_out(key):
        user = real_user_for_token(key)  # the handshake read the token: still valid
        if user.pk == patient.pk:
            services.sign_out(user=user)
        return user

    def counted(scope):
        rereads.append(scope["user"].pk)
        return real_credentials_valid(scope)

    monkeypatch.setattr(ws_auth, "user_for_token", read_then_signed_out)
    monkeypatch.setattr(consumers, "credentials_valid", counted)
    await ended_during_the_handshake(patient, CREDENTIALS_ENDED)
    redis = settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("RedisPubSubLayer")
    assert rereads == ([] if redis else [patient.pk])
    await stays_open(warm)
    await warm.disconnect()
    assert await stored() == []


async def test_a_care_link_that_ends_during_the_handshake_ends_the_new_socket(
    patient, doctor, monkeypatch
):
    """The link ends right after the handshake looked the peer up. Redis layer: the peer is
    looked up with the credential, before the socket joins its close group, and the event is
    handed to it on joining, matched with that peer. In-memory layer: the peer is looked up
    after the join, and the event reaches the socket. Looked up once either way."""
    from accounts import access

    monkeypatch.setattr("core.realtime.layers.HEARD_MARGIN", 0.05)
    warm = await token_socket(doctor, "/ws/inbox/")  # heard from now on
    await asyncio.sleep(0.2)
    real_chat_peer = access.chat_peer
    lookups = []

    def looked_up_then_ended(sender, username):
        peer = real_chat_peer(sender, username)
        if sender.pk == patient.pk:
            lookups.append(peer.pk)
            the_link = CareLink.objects.active().get(patient=patient)
            services.change_link(link=the_link, by=doctor, status="ended")
        return peer

    monkeypatch.setattr(access, "chat_peer", looked_up_then_ended)
    await ended_during_the_handshake(patient, ACCESS_CHANGED)
    assert lookups == [doctor.pk]
    await stays_open(warm)
    await warm.disconnect()
    assert await stored() == []


# A lost close event (the channel layer is best effort): the next send, a minute on, finds out.


async def test_a_socket_whose_token_ended_without_an_event_closes_at_its_next_send(
    patient, doctor, monkeypatch
):
    from messaging import consumers

    monkeypatch.setattr(consumers, "CREDENTIALS_RECHECK", 0.0)
    chat = await token_socket(patient)
    await database_sync_to_async(Token.objects.filter(user=patient).delete)()  # no event
    await chat.send_to(text_data=json.dumps({"message": "too late"}))
    await closes_with(chat, CREDENTIALS_ENDED)
    await send_after_close_stores_nothing(chat)
    assert await stored() == []


async def test_a_session_socket_keeps_its_session_active_until_it_idles_out(
    patient, doctor, monkeypatch, settings
):
    from messaging import consumers

    settings.SESSION_IDLE_MINUTES = 30
    monkeypatch.setattr(consumers, "CREDENTIALS_RECHECK", 0.0)
    client = await signed_in_client(patient)
    chat = await session_socket(client)

    @database_sync_to_async
    def stamp(ago: int | None = None) -> int:
        session = client.session
        if ago is not None:
            session["_painmap_last_activity"] = int(time.time()) - ago
            session.save()
        return session["_painmap_last_activity"]

    await stamp(ago=10 * 60)
    await chat.send_to(text_data=json.dumps({"message": "still here"}))
    await chat.receive_output(timeout=1)  # the message, rendered
    assert time.time() - await stamp() < 5  # chatting counts as activity
    await stamp(ago=31 * 60)
    await chat.send_to(text_data=json.dumps({"message": "after a long pause"}))
    await closes_with(chat, CREDENTIALS_ENDED)
    await send_after_close_stores_nothing(chat)
    assert await stored() == ["still here"]


async def test_a_database_error_during_the_recheck_keeps_the_socket_and_asks_again(
    patient, doctor, monkeypatch
):
    from django.db import OperationalError

    from messaging import consumers

    monkeypatch.setattr(consumers, "CREDENTIALS_RECHECK", 0.0)
    chat = await token_socket(patient)
    real = consumers.still_signed_in
    calls = []

    async def flaky(scope):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return await real(scope)

    monkeypatch.setattr(consumers, "still_signed_in", flaky)
    await chat.send_to(text_data=json.dumps({"message": "while the database blinks"}))
    assert (await chat.receive_json_from(timeout=1))["message"] == "while the database blinks"
    await database_sync_to_async(Token.objects.filter(user=patient).delete)()  # no event
    await chat.send_to(text_data=json.dumps({"message": "after"}))
    await closes_with(chat, CREDENTIALS_ENDED)
    assert len(calls) == 2
    await send_after_close_stores_nothing(chat)
    assert await stored() == ["while the database blinks"]


# The account lifecycle: a password reset by email and a deleted account end sockets too.


async def test_password_reset_by_email_closes_every_socket(patient, doctor):
    from django.core import mail

    sockets = [await token_socket(patient), await token_socket(patient, "/ws/inbox/")]

    def reset() -> None:
        client = Client()
        client.post("/accounts/password-reset/", {"email": patient.email}, HTTP_HOST="localhost")
        link = next(
            line.strip() for line in mail.outbox[-1].body.splitlines() if "/password-reset/" in line
        )
        set_password = client.get(link.removeprefix("http://localhost"))["Location"]
        done = client.post(
            set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        assert done.status_code == 302

    await database_sync_to_async(reset)()
    for socket in sockets:
        await closes_with(socket, CREDENTIALS_ENDED)
    await send_after_close_stores_nothing(sockets[0])
    await sockets[1].disconnect()


async def test_deleting_an_account_closes_its_sockets_and_the_peers_chat_with_it(patient, doctor):
    patient_chat = await token_socket(patient)
    patient_inbox = await token_socket(patient, "/ws/inbox/")
    doctor_chat = await token_socket(doctor, "/ws/chat/alice/")
    doctor_inbox = await token_socket(doctor, "/ws/inbox/")
    await database_sync_to_async(services.delete_account)(user=patient)
    await closes_with(patient_chat, CREDENTIALS_ENDED)
    await closes_with(patient_inbox, CREDENTIALS_ENDED)
    # The doctor's chat with the deleted person closes (the link ended); their inbox stays.
    await closes_with(doctor_chat, ACCESS_CHANGED)
    await send_after_close_stores_nothing(doctor_chat)
    await doctor_inbox.disconnect()
