"""Chat journeys: a patient and a doctor, each in a browser context of their own."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

PASSWORD = "e2e-long-secret-pass-42"
# The htmx ws extension's wrapper around the chat box's socket.
WRAPPER = "document.getElementById('chat')['htmx-internal-data'].webSocket"


@pytest.fixture
def people(daphne_server) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:6]
    patient, doctor = f"pat{suffix}", f"doc.{suffix}"
    daphne_server.shell(
        "from accounts import services as s\n"
        f"p = s.register_user(username='{patient}', email='{patient}@example.com', "
        f"password='{PASSWORD}')\n"
        f"d = s.register_user(username='{doctor}', email='{suffix}d@example.com', "
        f"password='{PASSWORD}')\n"
        "s.set_role(users=[d], role='doctor')\n"
        # Patients and doctors chat once the doctor accepted the patient's request.
        "s.change_link(link=s.request_link(patient=p, doctor=d), by=d, status='active')\n"
    )
    return patient, doctor


def sign_in(browser: Browser, base_url: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    return context, page


def send(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-input")).to_have_value("")


def wait_for_socket(page: Page) -> None:
    # htmx marks nothing on open; the chat box is live once the composer has a socket to use.
    page.wait_for_function(
        "() => { const el = document.getElementById('chat');"
        " return el && htmx && el['htmx-internal-data'] && el['htmx-internal-data'].webSocket"
        " && el['htmx-internal-data'].webSocket.socket.readyState === 1 }"
    )


def test_patient_and_doctor_chat_live(browser, base_url, people) -> None:
    patient, doctor = people
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    frames: list[str] = []
    pat.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(payload)))
    try:
        pat.get_by_role("link", name="Chat").click()
        expect(pat.get_by_text("No conversations yet — start one by username.")).to_be_visible()
        pat.get_by_label("Start a conversation").fill(doctor)
        pat.get_by_role("button", name="Open chat").click()
        expect(pat).to_have_url(re.compile(rf"/chat/{re.escape(doctor)}/$"))
        wait_for_socket(pat)
        expect(pat.locator("#chat-input")).to_have_attribute(
            "placeholder", re.compile("Enter sends")
        )
        # On a phone the long hint would be cut off: the box keeps the short placeholder.
        size = pat.viewport_size
        pat.set_viewport_size({"width": 390, "height": 844})
        expect(pat.locator("#chat-input")).to_have_attribute("placeholder", "Write a message…")
        pat.set_viewport_size(size)
        expect(pat.locator("#chat-input")).to_have_attribute(
            "placeholder", re.compile("Enter sends")
        )

        # The doctor waits on the inbox: badge and rows update live.
        doc.goto("/chat/")
        badge = doc.locator("#unread-badge")
        expect(badge).to_be_hidden()
        send(pat, "Hello doctor, my knee hurts")
        expect(pat.locator(".chat-message.mine")).to_contain_text("my knee hurts")
        expect(pat.locator(".chat-message.mine .chat-status")).to_have_attribute("title", "Sent")
        expect(badge).to_have_text(re.compile(r"^1"))
        expect(doc.locator(f'.conversation-row[data-peer="{patient}"]')).to_contain_text(
            "my knee hurts"
        )

        doc.locator(f'.conversation-row[data-peer="{patient}"]').click()
        wait_for_socket(doc)
        expect(doc.locator(".chat-message.theirs")).to_contain_text("my knee hurts")
        expect(doc.locator("#unread-badge")).to_be_hidden()
        # The patient sees the read tick without reloading.
        expect(pat.locator(".chat-message.mine .chat-status")).to_have_attribute("title", "Read")

        send(doc, "Since when?")
        expect(pat.locator(".chat-message.theirs")).to_contain_text("Since when?")
        expect(doc.locator(".chat-message.mine")).to_contain_text("Since when?")
        send(pat, "Two days")
        expect(doc.locator(".chat-message.theirs").last).to_contain_text("Two days")
        expect(pat.locator(".chat-message")).to_have_count(3)
        expect(doc.locator(".chat-message")).to_have_count(3)
        # With script the text goes over the socket, without the form's CSRF token.
        sent = [frame for frame in frames if "my knee hurts" in str(frame)]
        assert len(sent) == 1
        assert "csrfmiddlewaretoken" not in sent[0]
    finally:
        pat_context.close()
        doc_context.close()


def test_markup_in_messages_is_shown_as_text(browser, base_url, people) -> None:
    patient, doctor = people
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        pat.goto(f"/chat/{doctor}/")
        doc.goto(f"/chat/{patient}/")
        wait_for_socket(pat)
        wait_for_socket(doc)
        payloads = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">']
        for payload in payloads:
            send(pat, payload)
        for page in (pat, doc):
            bubbles = page.locator(".chat-bubble")
            expect(bubbles).to_have_count(2)
            expect(bubbles.nth(0)).to_have_text(payloads[0])
            expect(bubbles.nth(1)).to_have_text(payloads[1])
            expect(page.locator(".chat-bubble img")).to_have_count(0)
        # And after a reload, rendered by the page rather than the socket.
        doc.reload()
        expect(doc.locator(".chat-bubble").nth(1)).to_have_text(payloads[1])
    finally:
        pat_context.close()
        doc_context.close()


def test_delete_conversation(browser, base_url, people) -> None:
    patient, doctor = people
    pat_context, pat = sign_in(browser, base_url, patient)
    try:
        pat.goto(f"/chat/{doctor}/")
        wait_for_socket(pat)
        send(pat, "to be deleted")
        expect(pat.locator(".chat-message")).to_have_count(1)
        pat.get_by_role("link", name="Delete conversation").click()
        expect(pat.get_by_text("All 1 message between you two will be deleted")).to_be_visible()
        pat.get_by_role("button", name="Delete conversation").click()
        expect(pat).to_have_url(re.compile(r"/chat/$"))
        expect(pat.get_by_text(f"The conversation with {doctor} was deleted")).to_be_visible()
        expect(pat.get_by_text("No conversations yet — start one by username.")).to_be_visible()
    finally:
        pat_context.close()


def test_reconnect_fetches_missed_messages_once(browser, base_url, people) -> None:
    patient, doctor = people
    pat_context, pat = sign_in(browser, base_url, patient)
    doc_context, doc = sign_in(browser, base_url, doctor)
    try:
        pat.goto(f"/chat/{doctor}/")
        doc.goto(f"/chat/{patient}/")
        wait_for_socket(pat)
        wait_for_socket(doc)
        send(doc, "before the drop")
        expect(pat.locator(".chat-message")).to_have_count(1)
        # Drop the patient's socket (a plain close: the extension will not reconnect by itself).
        pat.evaluate(f"{WRAPPER}.socket.close()")
        # A function, not an expression: Playwright evals a polled expression, which the CSP
        # refuses whenever the socket is not closed yet at the first look.
        pat.wait_for_function(f"() => {WRAPPER}.socket.readyState === 3")
        send(doc, "missed one")
        send(doc, "missed two")
        expect(doc.locator(".chat-message")).to_have_count(3)
        expect(pat.locator(".chat-message")).to_have_count(1)
        # Reconnect the way the extension does after an abnormal close.
        pat.evaluate(f"{WRAPPER}.init()")
        expect(pat.locator(".chat-message")).to_have_count(3)
        expect(pat.locator(".chat-bubble")).to_have_text(
            ["before the drop", "missed one", "missed two"]
        )
        send(doc, "after")
        expect(pat.locator(".chat-bubble")).to_have_text(
            ["before the drop", "missed one", "missed two", "after"]
        )
    finally:
        pat_context.close()
        doc_context.close()


def test_chat_without_javascript_posts_and_keeps_the_text_out_of_urls(
    browser, base_url, people, daphne_server
) -> None:
    """Issue #11, bug 2: without script the form POSTs and redirects back (PRG); the health
    text is in no URL the browser ever requests (history, access log)."""
    patient, doctor = people
    text = f"No-JS knee pain {uuid.uuid4().hex[:8]}"
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(patient)
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#signed-in-as")).to_contain_text(patient)
        page.goto(f"/chat/{doctor}/")
        page.locator("#chat-input").fill(text)
        with page.expect_navigation():
            page.get_by_role("button", name="Send").click()
        expect(page).to_have_url(re.compile(rf"/chat/{re.escape(doctor)}/#message-\d+$"))
        expect(page.locator(".chat-message.mine .chat-bubble")).to_have_text(text)
        expect(page.locator("#chat-input")).to_have_value("")
        expect(page.locator("#chat-input")).to_have_attribute("placeholder", "Write a message…")
    finally:
        context.close()
    assert urls, "no request was seen"
    leaked = [url for url in urls if "message=" in url or "No-JS" in url or "knee" in url]
    assert leaked == []
    stored = daphne_server.shell(
        "from messaging.models import Message\n"
        f"print(list(Message.objects.filter(sender__username='{patient}')"
        ".values_list('receiver__username', 'text')))"
    )
    assert stored.strip().splitlines()[-1] == repr([(doctor, text)])


def test_a_message_whose_answer_was_lost_is_resent_and_stored_once(
    browser, base_url, people, daphne_server
) -> None:
    """Issue #14: the socket drops after the server stored a message but before its answer
    reached the page. The chat box reconnects by itself, sends the message again with the same
    client_id, and the server answers with the stored one: shown once, stored once."""
    patient, doctor = people
    text = f"answer lost {uuid.uuid4().hex[:8]}"
    pat_context, pat = sign_in(browser, base_url, patient)
    connections: list[str] = []
    resent: list[str] = []

    def route(ws) -> None:
        server = ws.connect_to_server()
        first = not connections
        connections.append(ws.url)

        def to_server(message) -> None:
            if not first and text in str(message):
                resent.append(str(message))
            server.send(message)

        def to_page(message) -> None:
            if first and text in str(message):
                # Stored and answered by the server; the page never hears it, and the socket
                # ends as a restarting server's does (1012: the extension reconnects).
                ws.close(code=1012)
                return
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    pat.route_web_socket(re.compile(r"/ws/chat/"), route)
    try:
        pat.goto(f"/chat/{doctor}/")
        wait_for_socket(pat)
        send(pat, text)
        expect(pat.locator(".chat-bubble")).to_have_text([text])
        assert len(connections) == 2
        assert len(resent) == 1
        assert '"client_id"' in resent[0]
        pat.reload()  # what the server has, rendered by the page
        expect(pat.locator(".chat-bubble")).to_have_text([text])
    finally:
        pat_context.close()
    stored = daphne_server.shell(
        "from messaging.models import Message\n"
        f"print(Message.objects.filter(sender__username='{patient}').count())"
    )
    assert stored.strip().splitlines()[-1] == "1"
