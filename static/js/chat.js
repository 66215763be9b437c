// The chat box: resync on (re)connect, keep the view at the newest message, Enter sends.
"use strict";

(function () {
  // The ws extension reconnects with the URL it started with; add the newest id we have so
  // the server sends only what we missed (no gaps, no duplicates).
  const createWebSocket = htmx.createWebSocket;
  htmx.createWebSocket = function (url) {
    if (url.includes("/ws/chat/")) {
      let last = 0;
      document.querySelectorAll("#message-list [data-message-id]").forEach(function (el) {
        last = Math.max(last, Number(el.dataset.messageId));
      });
      url += (url.includes("?") ? "&" : "?") + "after=" + last;
    }
    return createWebSocket ? createWebSocket(url) : new WebSocket(url);
  };

  function scroller() {
    return document.getElementById("chat-scroll");
  }

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }

  function toBottom() {
    const el = scroller();
    if (el) el.scrollTop = el.scrollHeight;
  }

  let stick = true;
  document.addEventListener("htmx:wsBeforeMessage", function () {
    const el = scroller();
    stick = !el || nearBottom(el);
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    if (stick) toBottom();
  });
  document.addEventListener("htmx:wsAfterSend", function (event) {
    if (event.target.id === "chat-form") {
      event.target.reset();
      stick = true;
    }
  });
  // Every message carries a client_id (a random UUID): the server stores a client_id once and
  // answers a resend with the stored message. A message sent on a socket that dropped before
  // the server's answer came back is sent again after the reconnect; nothing is lost, nothing
  // is stored twice. `pending`: client_id -> {frame, sent}, until the answer (the message with
  // that data-client-id, or an error naming it) arrives.
  const pending = new Map();

  function newClientId() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    // randomUUID needs a secure context (https or localhost); a v4 UUID by hand otherwise.
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, function (x) {
      return x.toString(16).padStart(2, "0");
    }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // The form carries a CSRF token for its no-script POST; the socket needs only the text.
  // (hx-params cannot do this: the ws extension hands it a plain object, not FormData.)
  document.addEventListener("htmx:wsConfigSend", function (event) {
    if (event.target.id !== "chat-form") return;
    const parameters = event.detail.parameters;
    delete parameters.csrfmiddlewaretoken;
    const id = newClientId();
    parameters.client_id = id;
    pending.set(id, {
      frame: JSON.stringify({ message: parameters.message, client_id: id }),
      sent: false,
    });
  });
  document.addEventListener("htmx:wsAfterSend", function (event) {
    if (event.target.id !== "chat-form") return;
    try {
      const entry = pending.get(JSON.parse(event.detail.message).client_id);
      if (entry) entry.sent = true;
    } catch (error) {
      // not one of ours
    }
  });

  // What the server answered: acknowledged messages leave `pending`, and a message shown twice
  // (the answer to a resend racing the history) is shown once.
  function settle() {
    const list = document.getElementById("message-list");
    if (!list) return;
    const seen = new Set();
    list.querySelectorAll("[data-message-id]").forEach(function (el) {
      if (seen.has(el.dataset.messageId)) el.remove();
      seen.add(el.dataset.messageId);
    });
    document.querySelectorAll("#chat [data-client-id]").forEach(function (el) {
      pending.delete(el.dataset.clientId);
    });
  }
  document.addEventListener("htmx:wsAfterMessage", settle);

  document.addEventListener("htmx:wsOpen", function (event) {
    document.getElementById("chat")?.classList.remove("chat-offline");
    settle();
    // Sent before the drop and never answered: again (the extension itself sends only what
    // was still queued, unsent, while the socket was closed).
    pending.forEach(function (entry) {
      if (entry.sent) event.detail.socketWrapper.send(entry.frame);
    });
  });
  // The server closes with 4401 when what the page signed in with ended, 4403 when this
  // conversation may no longer send; the ws extension does not reconnect after either, so the
  // box must say so instead of queueing messages that will never leave.
  const CLOSED = {
    4401: gettext("You were signed out. Reload the page and sign in again to keep chatting."),
    4403: gettext("Sending is closed for this conversation now. Reload the page to see why."),
  };
  document.addEventListener("htmx:wsClose", function (event) {
    document.getElementById("chat")?.classList.add("chat-offline");
    const reason = CLOSED[event.detail?.event?.code];
    const error = document.getElementById("chat-error");
    if (!reason || !error) return;
    error.textContent = reason;
    error.classList.remove("d-none");
    document.querySelectorAll("#chat-form textarea, #chat-form button").forEach(function (el) {
      el.disabled = true;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.target.id === "chat-input" && event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
  document.addEventListener("DOMContentLoaded", toBottom);
  // Only script makes Enter send; without it Enter is a new line and the button sends. The
  // hint says so where it fits on the box's one line; a phone's narrow box keeps the short
  // placeholder (the long one was cut off in the middle of a word).
  document.addEventListener("DOMContentLoaded", function () {
    const input = document.getElementById("chat-input");
    if (!input) return;
    const short = input.getAttribute("placeholder");
    const wide = window.matchMedia("(min-width: 768px)");
    function hint() {
      input.setAttribute(
        "placeholder",
        wide.matches
          ? gettext("Write a message… (Enter sends, Shift+Enter for a new line)")
          : short,
      );
    }
    hint();
    wide.addEventListener("change", hint);
  });
})();
