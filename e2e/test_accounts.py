from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

PASSWORD = "e2e-long-secret-pass-42"


def test_register_profile_sign_out_sign_in(page: Page) -> None:
    username = f"pat{uuid.uuid4().hex[:8]}"
    page.goto("/")
    page.get_by_role("link", name="Create an account").first.click()
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(f"{username}@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Landed signed in, as a patient.
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    expect(page.locator("#signed-in-as")).to_contain_text("Patient")

    page.get_by_role("link", name=username).click()
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    expect(page.locator("#profile-role")).to_have_text("Patient")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_contain_text(username)


def test_register_form_errors_are_inline(page: Page) -> None:
    page.goto("/accounts/register/")
    page.locator("#id_username").fill("x")
    page.locator("#id_email").fill("not-an-email")
    page.locator("#id_password1").fill("123")
    page.locator("#id_password2").fill("456")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()


def test_wrong_password_shows_an_error(page: Page) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill("nobody")
    page.locator("#id_password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
