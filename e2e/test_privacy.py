"""Privacy against the running server: Daphne's own access log and the cache headers it sends
(issue #10, finding 8)."""

from __future__ import annotations

import time
import uuid

import requests


def _register(server) -> str:
    username = f"log{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{server.url}/api/auth/register/",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "log-long-secret-pass-42",
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["token"]


def _wait_for_line(server, needle: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs = server.logs()
        if needle in logs:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never reached the log:\n{server.logs()[-2000:]}")


def test_token_in_an_http_address_is_redacted_in_the_access_log(daphne_server):
    key = _register(daphne_server)
    marker = uuid.uuid4().hex[:12]
    response = requests.get(
        f"{daphne_server.url}/api/diary/stats/?token={key}&marker={marker}",
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )
    assert response.status_code == 200
    logs = _wait_for_line(daphne_server, marker)  # the request's line was written...
    assert key not in logs  # ...without the key
    assert key[:12] not in logs
    assert f"/api/diary/stats/?token=[redacted]&marker={marker}" in logs


def test_live_answers_carry_no_store_and_static_files_stay_cacheable(daphne_server):
    key = _register(daphne_server)
    api = requests.get(
        f"{daphne_server.url}/api/auth/profile/",
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )
    assert api.status_code == 200
    assert {"no-store", "private"} <= {d.strip() for d in api.headers["Cache-Control"].split(",")}
    page = requests.get(f"{daphne_server.url}/accounts/login/", timeout=10)
    assert "no-store" in page.headers["Cache-Control"]
    home = requests.get(f"{daphne_server.url}/accounts/login/", timeout=10).text
    css = home.split('href="/static/', 1)[1].split('"', 1)[0]
    static = requests.get(f"{daphne_server.url}/static/{css}", timeout=10)
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "max-age=315360000" in static.headers["Cache-Control"]  # hashed: cached for years


def test_declined_request_waits_and_admin_reads_show_in_the_access_log(
    browser, base_url: str, daphne_server
) -> None:
    from playwright.sync_api import expect

    from e2e.test_chat import PASSWORD, sign_in

    suffix = uuid.uuid4().hex[:6]
    patient, doctor, root = f"pat{suffix}", f"doc{suffix}", f"root{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        "from accounts.models import User\n"
        "from diary import services as d\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        f"doc = s.register_user(username='{doctor}', email='{doctor}@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[doc], role='doctor')\n"
        f"u = User.objects.create_superuser('{root}', '{root}@example.com', '{PASSWORD}', "
        "first_name='Ada', last_name='Admin')\n"
        "d.create_note(owner=p, title='Private thoughts')\n"
    )
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    root_context, admin = sign_in(browser, base_url, root)
    try:
        pat.goto(f"/accounts/doctors/?q={doctor}")
        pat.get_by_role("button", name="Ask to be my doctor").click()
        doc.goto("/accounts/care/")
        doc.get_by_role("button", name="Decline").click()
        expect(doc.get_by_text("Request declined.")).to_be_visible()

        # The patient cannot ask again at once, and is told from when they can.
        pat.goto(f"/accounts/doctors/?q={doctor}")
        expect(pat.locator("#doctor-list")).to_contain_text("you can ask again from")
        expect(pat.get_by_role("button", name="Ask to be my doctor")).to_have_count(0)
        for width, height in ((1366, 800), (390, 844)):
            pat.set_viewport_size({"width": width, "height": height})
            pat.screenshot(path=f"/tmp/adminprivacy-directory-{width}.png", full_page=True)

        # An administrator opens the notes in the admin: the patient sees it.
        admin.goto("/admin/diary/note/")
        expect(admin.get_by_text("Private thoughts")).to_be_visible()
        pat.goto("/accounts/access-log/")
        expect(pat.locator("#access-log")).to_contain_text("administrator Ada Admin")
        expect(pat.locator("#access-log")).to_contain_text("notes")
        for width, height in ((1366, 800), (390, 844)):
            pat.set_viewport_size({"width": width, "height": height})
            pat.screenshot(path=f"/tmp/adminprivacy-access-log-{width}.png", full_page=True)
    finally:
        for context in (pat_context, doc_context, root_context):
            context.close()
