"""Browser journey through the account's emails: register, confirm the address from the emailed
link (open it, press the button), forget the password, reset it from the emailed link, sign in
with the new one.

The live server here writes its email to files (Django's file backend), so the test reads what
a person would find in their mailbox and follows the links in it. Screenshots of every page of
the journey go to /tmp/resetverify-shots/ (override with SHOTS_DIR) at a laptop's and a phone's
size.
"""

from __future__ import annotations

import email
import json
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.live_server import LiveServer

PASSWORD = "e2e-long-secret-pass-42"
NEW_PASSWORD = "e2e-brand-new-secret-77"
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/resetverify-shots"))
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-mail")
    (tmp / "outbox").mkdir()
    server = LiveServer(
        tmp,
        extra_env={
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp / "outbox"),
            # Every run asks from 127.0.0.1; with Redis the counts outlive the server.
            "PASSWORD_RESET_LIMIT": "1000",
            # Two links asked for from the profile, the third is refused (per account).
            "VERIFICATION_EMAIL_LIMIT": "2",
        },
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def mail_to(server: LiveServer, address: str, subject: str) -> EmailMessage:
    """The newest email to `address` with `subject`, waiting a little for it to be written."""
    deadline = time.monotonic() + 10
    while True:
        found = []
        for path in sorted((server.tmp / "outbox").glob("*.log")):
            for chunk in path.read_bytes().split(SEPARATOR):
                if chunk.strip():
                    message = email.message_from_bytes(chunk.lstrip(), policy=default_policy)
                    if message["To"] == address and message["Subject"] == subject:
                        found.append(message)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found, f"no email to {address} about {subject!r}"
    return found[-1]


def link_in(message: EmailMessage, server: LiveServer) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"{re.escape(server.url)}/accounts/\S+", body)
    assert match, body
    return match.group(0)


def api(server: LiveServer, method: str, path: str, token: str = "", data: dict | None = None):
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["1366", "390"])
def test_confirm_the_address_then_reset_a_forgotten_password(
    browser: Browser, mail_server: LiveServer, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=mail_server.url, viewport={"width": width, "height": height}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    # Register: the account works at once, and a confirmation link is on its way.
    username = f"life{uuid.uuid4().hex[:8]}"
    address = f"{username}@example.com"
    page.goto("/accounts/register/")
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(address)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    expect(page.get_by_text(f"We sent a link to {address}")).to_be_visible()
    page.goto("/accounts/profile/")
    expect(page.locator("#email-verification")).to_contain_text("Not verified")
    shot("profile-unverified")
    for _ in range(2):
        page.get_by_role("button", name="Resend the link").click()
        expect(page.get_by_text(f"We sent a link to {address}")).to_be_visible()
    page.get_by_role("button", name="Resend the link").click()
    expect(page.locator("#verification-error")).to_contain_text("Too many links")
    shot("profile-resend-limited")

    # Follow the link from the mailbox.
    confirm = mail_to(mail_server, address, "Confirm your email address for Painmap")
    page.goto(link_in(confirm, mail_server))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    shot("verify-email-confirm")
    page.get_by_role("button", name="Yes, confirm my address").click()
    expect(page.get_by_role("heading", name="Email address confirmed")).to_be_visible()
    shot("verify-email-done")
    page.get_by_role("link", name="Go to your profile").click()
    expect(page.locator("#email-verification")).to_contain_text("Verified")
    expect(page.get_by_role("button", name="Resend the link")).to_have_count(0)
    shot("profile-verified")

    # Meanwhile another browser and an API client are signed in with the old password.
    elsewhere = browser.new_context(base_url=mail_server.url)
    other = elsewhere.new_page()
    sign_in(other, username, PASSWORD)
    expect(other.locator("#signed-in-as")).to_contain_text(username)
    status, body = api(
        mail_server, "POST", "/api/auth/login/", data={"username": username, "password": PASSWORD}
    )
    assert status == 200
    token = body["token"]
    assert api(mail_server, "GET", "/api/auth/profile/", token)[1]["email_verified"] is True

    # Forget the password.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot("sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    shot("password-reset-form")
    page.locator("#id_email").fill("not an address")
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    shot("password-reset-form-error")
    page.locator("#id_email").fill(address.upper())
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    shot("password-reset-done")

    # Follow the reset link: Django moves its token from the address into the session.
    reset = mail_to(mail_server, address, "Reset your Painmap password")
    reset_link = link_in(reset, mail_server)
    page.goto(reset_link)
    expect(page).to_have_url(re.compile(r"/set-password/$"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    shot("password-reset-confirm")
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    shot("password-reset-confirm-error")
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
    shot("password-reset-complete")

    # The other browser and the API token are signed out; the link does not work twice.
    other.goto("/accounts/profile/")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    assert api(mail_server, "GET", "/api/auth/profile/", token)[0] == 401
    page.goto(reset_link)
    expect(page.get_by_role("heading", name="This reset link does not work")).to_be_visible()
    shot("password-reset-invalid-link")

    # The old password no longer signs in; the new one does.
    sign_in(page, username, PASSWORD)
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    sign_in(page, username, NEW_PASSWORD)
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    assert blocked == []
    elsewhere.close()
    context.close()
