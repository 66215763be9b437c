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
  // The form carries a CSRF token for its no-script POST; the socket needs only the text.
  // (hx-params cannot do this: the ws extension hands it a plain object, not FormData.)
  document.addEventListener("htmx:wsConfigSend", function (event) {
    if (event.target.id === "chat-form") delete event.detail.parameters.csrfmiddlewaretoken;
  });
  document.addEventListener("htmx:wsOpen", function () {
    document.getElementById("chat")?.classList.remove("chat-offline");
  });
  // The server closes with 4401 when what the page signed in with ended, 4403 when this
  // conversation may no longer send; the ws extension does not reconnect after either, so the
  // box must say so instead of queueing messages that will never leave.
  const CLOSED = {
    4401: "You were signed out. Reload the page and sign in again to keep chatting.",
    4403: "Sending is closed for this conversation now. Reload the page to see why.",
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
  // Only script makes Enter send; without it Enter is a new line and the button sends.
  document.addEventListener("DOMContentLoaded", function () {
    document
      .getElementById("chat-input")
      ?.setAttribute("placeholder", "Write a message… (Enter sends, Shift+Enter for a new line)");
  });
})();
