"""Credentials that end, against a live Daphne with real sockets (the `websockets` library):
a sign-out or a password change closes the user's open sockets within a second (4401), and what
they send afterwards is not stored."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from e2e.live_server import ROOT, run_async

PASSWORD = "e2e-long-secret-pass-42"
NEW_PASSWORD = "e2e-another-secret-pass-77"
CREDENTIALS_ENDED = 4401
ARTIFACTS = ROOT / "test-results"


@pytest.fixture
def pair(daphne_server) -> tuple[str, str]:
    """A patient and a doctor with an active care link (so they may chat)."""
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"cred{suffix}", f"credoc{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        f"d = s.register_user(username='{doctor}', email='{doctor}@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[d], role='doctor')\n"
        "s.change_link(link=s.request_link(patient=p, doctor=d), by=d, status='active')\n"
    )
    return patient, doctor


def api_token(server, username: str, password: str = PASSWORD) -> str:
    response = requests.post(
        f"{server.url}/api/auth/login/",
        json={"username": username, "password": password},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["token"]


def browser(server, username: str) -> requests.Session:
    """A signed-in browser session (the sign-in form, with its CSRF token)."""
    session = requests.Session()
    session.get(f"{server.url}/accounts/login/", timeout=10).raise_for_status()
    response = session.post(
        f"{server.url}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert "/accounts/login/" not in response.url, "the sign-in failed"
    assert "sessionid" in session.cookies
    return session


def post_form(server, session: requests.Session, path: str, data: dict | None = None):
    return session.post(
        f"{server.url}{path}",
        data={**(data or {}), "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=10,
        allow_redirects=False,
    )


async def open_socket(server, path: str, *, token: str = "", session=None) -> ClientConnection:
    headers = {}
    if session is not None:
        headers["Cookie"] = f"sessionid={session.cookies['sessionid']}"
    url = f"{server.ws_url}{path}" + (f"?token={token}" if token else "")
    return await connect(url, origin=server.url, additional_headers=headers, ping_interval=None)


async def closed_with(ws: ClientConnection, code: int) -> float:
    """Seconds until the server closed the socket (within one, or TimeoutError)."""
    started = time.monotonic()
    async with asyncio.timeout(1.0):
        await ws.wait_closed()
    assert ws.close_code == code
    return time.monotonic() - started


def stored_texts(server, patient: str) -> list[str]:
    out = server.shell(
        "import json\n"
        "from messaging.models import Message\n"
        f"print(json.dumps(list(Message.objects.filter(sender__username='{patient}')"
        ".order_by('id').values_list('text', flat=True))))"
    )
    return json.loads(out.strip().splitlines()[-1])


def run(coroutine):
    return run_async(coroutine)


def test_api_and_web_sign_out_close_the_sockets_and_later_sends_store_nothing(
    daphne_server, pair
) -> None:
    patient, doctor = pair

    async def journey() -> None:
        # API sign-out: the socket opened with the token closes.
        token = await asyncio.to_thread(api_token, daphne_server, patient)
        chat = await open_socket(daphne_server, f"/ws/chat/{doctor}/", token=token)
        await chat.send(json.dumps({"message": "before sign-out"}))
        assert json.loads(await chat.recv())["message"] == "before sign-out"
        response = await asyncio.to_thread(
            requests.post,
            f"{daphne_server.url}/api/auth/logout/",
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert response.status_code == 204
        assert await closed_with(chat, CREDENTIALS_ENDED) < 1.0
        with pytest.raises(ConnectionClosed):
            await chat.send(json.dumps({"message": "after API sign-out"}))

        # Web sign-out: the browser's sockets and the API token's sockets close.
        web = await asyncio.to_thread(browser, daphne_server, patient)
        token = await asyncio.to_thread(api_token, daphne_server, patient)
        page_chat = await open_socket(daphne_server, f"/ws/chat/{doctor}/?html=1", session=web)
        inbox = await open_socket(daphne_server, "/ws/inbox/", session=web)
        await inbox.recv()  # the first badge
        api_chat = await open_socket(daphne_server, f"/ws/chat/{doctor}/", token=token)
        response = await asyncio.to_thread(post_form, daphne_server, web, "/accounts/logout/")
        assert response.status_code == 302
        for ws in (page_chat, inbox, api_chat):
            assert await closed_with(ws, CREDENTIALS_ENDED) < 1.0
        refused = await asyncio.to_thread(
            requests.get,
            f"{daphne_server.url}/api/auth/profile/",
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert refused.status_code == 401

    run(journey())
    assert stored_texts(daphne_server, patient) == ["before sign-out"]


def test_password_change_closes_every_socket_and_keeps_this_browser(daphne_server, pair) -> None:
    patient, doctor = pair

    async def journey() -> None:
        here = await asyncio.to_thread(browser, daphne_server, patient)
        elsewhere = await asyncio.to_thread(browser, daphne_server, patient)
        token = await asyncio.to_thread(api_token, daphne_server, patient)
        sockets = [
            await open_socket(daphne_server, f"/ws/chat/{doctor}/?html=1", session=elsewhere),
            await open_socket(daphne_server, f"/ws/chat/{doctor}/", token=token),
        ]
        response = await asyncio.to_thread(
            post_form,
            daphne_server,
            here,
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        for ws in sockets:
            assert await closed_with(ws, CREDENTIALS_ENDED) < 1.0
        # This browser stays signed in and chats on; the other browser and the token do not.
        profile = await asyncio.to_thread(
            here.get, f"{daphne_server.url}/accounts/profile/", timeout=10
        )
        assert profile.url.endswith("/accounts/profile/")
        other = await asyncio.to_thread(
            elsewhere.get, f"{daphne_server.url}/accounts/profile/", timeout=10
        )
        assert "/accounts/login/" in other.url
        again = await open_socket(daphne_server, f"/ws/chat/{doctor}/", session=here)
        await again.send(json.dumps({"message": "after the change, from here"}))
        await again.recv()
        await again.close()

        # The API route: the new token in the answer works, the old one closes its socket.
        new_token = await asyncio.to_thread(api_token, daphne_server, patient, NEW_PASSWORD)
        api_chat = await open_socket(daphne_server, f"/ws/chat/{doctor}/", token=new_token)
        changed = await asyncio.to_thread(
            requests.post,
            f"{daphne_server.url}/api/auth/password/",
            json={"old_password": NEW_PASSWORD, "new_password": PASSWORD},
            headers={"Authorization": f"Token {new_token}"},
            timeout=10,
        )
        assert changed.status_code == 200
        assert await closed_with(api_chat, CREDENTIALS_ENDED) < 1.0
        latest = changed.json()["token"]
        assert latest != new_token
        fresh = await open_socket(daphne_server, f"/ws/chat/{doctor}/", token=latest)
        await fresh.close()

    run(journey())
    assert stored_texts(daphne_server, patient) == ["after the change, from here"]


def test_sign_out_everywhere_in_the_browser(browser, base_url, daphne_server, pair) -> None:
    """The profile's button asks first (a page of its own, no JS needed), then signs the other
    browser out while this one stays; the chat box elsewhere goes offline."""
    ARTIFACTS.mkdir(exist_ok=True)
    patient, doctor = pair
    contexts = []

    def signed_in_page(width: int):
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(patient)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#signed-in-as")).to_contain_text(patient)
        return page

    try:
        here, elsewhere = signed_in_page(1366), signed_in_page(390)
        elsewhere.goto(f"/chat/{doctor}/")
        elsewhere.wait_for_function(
            "() => { const el = document.getElementById('chat');"
            " return el && el['htmx-internal-data'] && el['htmx-internal-data'].webSocket"
            " && el['htmx-internal-data'].webSocket.socket.readyState === 1 }"
        )
        here.goto("/accounts/profile/")
        here.screenshot(path=str(ARTIFACTS / "profile-1366.png"), full_page=True)
        here.get_by_role("link", name="Sign out everywhere…").click()
        expect(here.get_by_role("heading", name="Sign out everywhere else?")).to_be_visible()
        here.screenshot(path=str(ARTIFACTS / "sign-out-everywhere-1366.png"), full_page=True)
        here.get_by_role("button", name="Sign out everywhere").click()
        expect(here.get_by_text("You are still signed in here.")).to_be_visible()
        expect(here.locator("#signed-in-as")).to_contain_text(patient)
        # The other browser's chat box lost its socket at once, and its next page asks to sign in.
        expect(elsewhere.locator("#chat")).to_have_class(re.compile(r"\bchat-offline\b"))
        # ... and says so, instead of looking live and queueing what will never be sent.
        expect(elsewhere.locator("#chat-error")).to_contain_text("You were signed out")
        expect(elsewhere.locator("#chat-input")).to_be_disabled()
        elsewhere.screenshot(path=str(ARTIFACTS / "chat-signed-out-390.png"), full_page=True)
        elsewhere.reload()
        expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()
        elsewhere.goto("/accounts/sign-out-everywhere/")
        expect(elsewhere).to_have_url(re.compile(r"/accounts/login/"))
        mobile = contexts[1].new_page()
        mobile.goto("/accounts/login/")
        mobile.locator("#id_username").fill(patient)
        mobile.locator("#id_password").fill(PASSWORD)
        mobile.get_by_role("button", name="Sign in").click()
        mobile.goto("/accounts/sign-out-everywhere/")
        mobile.screenshot(path=str(ARTIFACTS / "sign-out-everywhere-390.png"), full_page=True)
    finally:
        for context in contexts:
            context.close()
