// Offline: the service worker's registration, the banner that says when the page is offline,
// and the outbox that keeps pain entries and notes recorded offline on this device (IndexedDB)
// and sends them when the connection returns.
//
// Every recording carries a client_id (a UUID): the server stores a client_id once and answers
// a resend with what it stored, so a send that is retried (the answer was lost, the page was
// closed mid-send) never stores twice. The sends go to the page's own forms with the session
// and its CSRF token, as htmx does. A recording the server refuses (a 4xx other than "sign in
// again") stays on the page with the server's reason until the patient dismisses it.
"use strict";

(function () {
  const DB_NAME = "painmap-offline";
  const STORE = "outbox";
  const status = document.getElementById("offline-status");
  const user = status ? status.dataset.user : "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    // A page that loaded while the worker was still installing (the first diary after signing
    // up: the install began on the sign-up page) or around it (a hard reload) is not the
    // worker's, and would not be kept for offline: it asks the worker to take it over.
    navigator.serviceWorker.ready.then(function (registration) {
      if (!navigator.serviceWorker.controller && registration.active) {
        registration.active.postMessage({ type: "claim" });
      }
    });
  }

  function newClientId() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    const b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, function (x) {
      return x.toString(16).padStart(2, "0");
    }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // --- the outbox (IndexedDB) ------------------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "client_id" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function transact(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        const tx = db.transaction(STORE, mode);
        const result = work(tx.objectStore(STORE));
        tx.oncomplete = function () {
          db.close();
          resolve(result && "result" in result ? result.result : undefined);
        };
        tx.onerror = tx.onabort = function () {
          db.close();
          reject(tx.error);
        };
      });
    });
  }

  // Only this person's: another account on the same device never sees or sends them.
  function waiting() {
    return transact("readonly", function (store) {
      return store.getAll();
    }).then(function (items) {
      return (items || [])
        .filter(function (item) {
          return item.user === user;
        })
        .sort(function (a, b) {
          return a.created - b.created;
        });
    });
  }

  function keep(item) {
    return transact("readwrite", function (store) {
      store.put(item);
    });
  }

  function drop(clientId) {
    return transact("readwrite", function (store) {
      store.delete(clientId);
    });
  }

  // --- what a recording says about itself ----------------------------------------------------

  function labelFor(form, input) {
    const label = input.id && form.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.trim() : input.value;
  }

  function describe(form, kind) {
    if (kind === "note") {
      return interpolate(gettext("Note: %s"), [(form.elements.title?.value || "").trim()]);
    }
    const parts = [];
    form.querySelectorAll('input[type=hidden][name="body_part"]').forEach(function (input) {
      parts.push(input.dataset.label || input.value);
    });
    const select = form.querySelector('select[name="body_part"]');
    if (select && select.selectedIndex > 0) parts.push(select.options[select.selectedIndex].text);
    const type = form.querySelector('input[name="pain_type"]:checked');
    const intensity = form.querySelector('input[name="intensity"]:checked');
    return [
      parts.join(gettext(" and ")) || gettext("No body part chosen"),
      type ? labelFor(form, type).toLowerCase() : gettext("no kind chosen"),
      intensity ? intensity.value + "/10" : gettext("no strength chosen"),
    ].join(", ");
  }

  function queue(form) {
    const kind = form.dataset.offline;
    const fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") fields.push([name, value]);
    });
    let clientId = form.elements.client_id?.value;
    if (!clientId) {
      clientId = newClientId();
      fields.push(["client_id", clientId]);
    }
    const item = {
      client_id: clientId,
      user: user,
      kind: kind,
      url: form.getAttribute("action"),
      fields: fields,
      summary: describe(form, kind),
      created: Date.now(),
      state: "waiting",
      reason: "",
    };
    return keep(item).then(function () {
      confirmKept(form, item);
      render();
    });
  }

  // The form is replaced by a note of what was kept, as a save online replaces it.
  function confirmKept(form, item) {
    const box = form.closest("#entry-panel, #note-form");
    const message = document.createElement("div");
    message.className = "alert alert-info py-2 offline-kept";
    message.id = "offline-kept";
    message.setAttribute("role", "status");
    message.textContent = interpolate(
      gettext("Kept on this device: %s. It is sent when the connection returns."),
      [item.summary],
    );
    if (box && box.id === "entry-panel") {
      const body = box.querySelector(".card-body");
      body.replaceChildren(message);
    } else {
      form.reset();
      if (form.elements.client_id) form.elements.client_id.value = newClientId();
      form.parentElement.insertBefore(message, form);
      document.querySelectorAll(".offline-kept").forEach(function (old) {
        if (old !== message) old.remove();
      });
    }
  }

  // --- the banner and the list of what waits -------------------------------------------------

  function outboxSection() {
    let section = document.getElementById("offline-outbox");
    if (section) return section;
    const anchor = document.getElementById("entry-list") || document.getElementById("note-list");
    if (!anchor) return null;
    section = document.createElement("section");
    section.id = "offline-outbox";
    section.className = "card shadow-sm offline-outbox";
    section.setAttribute("aria-labelledby", "offline-outbox-heading");
    anchor.parentElement.insertBefore(section, anchor);
    return section;
  }

  // The catalog is inline in the page (base.html), so these are in the page's language.
  const STATES = {
    waiting: gettext("waiting to sync"),
    sending: gettext("sending…"),
    signin: gettext("waiting: sign in again to send it"),
    refused: gettext("not saved"),
  };

  const BADGES = {
    waiting: "text-bg-warning",
    sending: "text-bg-info",
    signin: "text-bg-secondary",
    refused: "text-bg-danger",
  };

  function itemRow(item) {
    const li = document.createElement("li");
    li.className = "offline-item offline-" + item.state;
    li.dataset.clientId = item.client_id;
    li.dataset.attempts = String(item.attempts || 0);
    const what = document.createElement("span");
    what.className = "offline-summary";
    what.textContent = item.summary;
    const state = document.createElement("span");
    state.className = "offline-state badge " + (BADGES[item.state] || BADGES.waiting);
    state.textContent = STATES[item.state] || STATES.waiting;
    li.append(what, " ", state);
    if (item.state === "refused") {
      const reason = document.createElement("p");
      reason.className = "offline-reason mb-1";
      reason.textContent = interpolate(gettext("The server refused it: %s"), [item.reason]);
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "btn btn-sm btn-outline-secondary offline-dismiss";
      dismiss.textContent = gettext("Dismiss");
      dismiss.addEventListener("click", function () {
        drop(item.client_id).then(render);
      });
      li.append(reason, dismiss);
    }
    return li;
  }

  function showBanner(items) {
    if (!status) return;
    const offline = !navigator.onLine;
    const pending = items.filter(function (item) {
      return item.state !== "refused";
    }).length;
    const refused = items.length - pending;
    const lines = [];
    if (offline) {
      lines.push(gettext("You are offline."));
      if (document.getElementById("chat")) {
        lines.push(gettext("The chat reconnects by itself when the connection returns."));
      } else if (document.getElementById("entry-panel") || document.getElementById("note-form")) {
        lines.push(
          gettext("What you record here is kept on this device and sent when the connection returns."),
        );
      } else {
        lines.push(gettext("Your diary and notes open without a connection; other pages need one."));
      }
    }
    if (offline && needsConnection) {
      lines.push(gettext("That needs a connection: try again when online."));
    }
    if (pending) {
      lines.push(
        interpolate(
          ngettext("%(count)s waiting to sync.", "%(count)s waiting to sync.", pending),
          { count: pending },
          true,
        ),
      );
    }
    if (refused) {
      lines.push(
        interpolate(
          ngettext(
            "%(count)s could not be saved: see why below.",
            "%(count)s could not be saved: see why below.",
            refused,
          ),
          { count: refused },
          true,
        ),
      );
    }
    status.textContent = lines.join(" ");
    status.hidden = lines.length === 0;
    status.classList.toggle("pm-offline-refused", refused > 0);
  }

  function render() {
    if (!user) return Promise.resolve();
    return waiting().then(function (items) {
      showBanner(items);
      const section = outboxSection();
      if (!section) return;
      if (!items.length) {
        section.remove();
        return;
      }
      const body = document.createElement("div");
      body.className = "card-body";
      const heading = document.createElement("h2");
      heading.className = "h6";
      heading.id = "offline-outbox-heading";
      heading.textContent = gettext("On this device, not yet in your diary");
      const list = document.createElement("ul");
      list.className = "list-unstyled mb-0 offline-list";
      items.forEach(function (item) {
        list.append(itemRow(item));
      });
      body.append(heading, list);
      section.replaceChildren(body);
    });
  }

  // --- sending ---------------------------------------------------------------------------------

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  // The reason, from the form the server sent back with its errors.
  function reasonFrom(response) {
    return response.text().then(function (html) {
      const doc = new DOMParser().parseFromString(html, "text/html");
      const texts = [];
      doc.querySelectorAll(".invalid-feedback, .alert-danger, .alert-warning").forEach(function (el) {
        const text = el.textContent.replace(/\s+/g, " ").trim();
        if (text && !texts.includes(text)) texts.push(text);
      });
      return texts.join(" ") || interpolate(gettext("the answer was %s."), [response.status]);
    });
  }

  let needsConnection = false;
  let syncing = null;
  let retry = null;

  function sync() {
    if (!user || !navigator.onLine) return Promise.resolve();
    if (syncing) return syncing;
    syncing = sendAll().finally(function () {
      syncing = null;
    });
    return syncing;
  }

  async function sendAll() {
    const items = (await waiting()).filter(function (item) {
      return item.state !== "refused";
    });
    let sent = false;
    for (const item of items) {
      item.state = "sending";
      item.attempts = (item.attempts || 0) + 1;
      await keep(item);
      await render();
      let response;
      try {
        response = await fetch(item.url, {
          method: "POST",
          body: new URLSearchParams(item.fields),
          headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
          credentials: "same-origin",
          redirect: "manual",
        });
      } catch (error) {
        item.state = "waiting"; // the connection went again: the next "online" sends it
        await keep(item);
        break;
      }
      if (response.ok) {
        await drop(item.client_id);
        sent = true;
      } else if (response.type === "opaqueredirect" || response.status === 403) {
        // Signed out (the session ended while offline) or a stale page: keep it for later.
        item.state = "signin";
        await keep(item);
        break;
      } else if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        item.state = "refused";
        item.reason = await reasonFrom(response);
        await keep(item);
      } else {
        item.state = "waiting"; // the server is busy or failing: again in a while
        await keep(item);
        clearTimeout(retry);
        retry = setTimeout(sync, 30000);
        break;
      }
    }
    await render();
    if (sent) refreshLists();
    if (sent || items.some(function (item) { return item.state === "refused"; })) {
      // "Kept on this device" is out of date: the outbox section says what became of it.
      if (document.querySelector("#entry-panel #offline-kept")) restorePanel();
      document.querySelector("#note-form #offline-kept")?.remove();
    }
  }

  // What the server now has, in place of the page's older view of it.
  function refreshLists() {
    if (!window.htmx) return;
    if (document.getElementById("entry-list")) {
      htmx.ajax("GET", location.pathname + location.search, {
        target: "#entry-list",
        swap: "outerHTML",
      });
      if (document.getElementById("body-map")) {
        htmx.ajax("GET", location.pathname, {
          target: "#body-map",
          select: "#body-map",
          swap: "outerHTML",
        });
      }
    }
    if (document.getElementById("note-list")) {
      htmx.ajax("GET", location.pathname, {
        target: "#note-list",
        select: "#note-list",
        swap: "outerHTML",
      });
    }
    keepThisPage();
  }

  function keepThisPage() {
    const worker = navigator.serviceWorker?.controller;
    if (worker && user) worker.postMessage({ type: "keep-page", path: location.pathname });
  }

  // --- the forms -------------------------------------------------------------------------------

  // Offline (or when the send fails on the way), a form marked data-offline is kept instead.
  // What the server would refuse at once is said here, before anything is kept.
  function missing(form) {
    if (form.dataset.offline === "note") {
      return (form.elements.title?.value || "").trim() ? "" : gettext("Give the note a title.");
    }
    const problems = [];
    if (!new FormData(form).getAll("body_part").some(Boolean)) {
      problems.push(gettext("where it hurts"));
    }
    if (!form.querySelector('input[name="pain_type"]:checked')) {
      problems.push(gettext("the kind of pain"));
    }
    if (!form.querySelector('input[name="intensity"]:checked')) {
      problems.push(gettext("how strong it is"));
    }
    // One sentence with the list at its end: a translation may put a colon before it.
    return problems.length ? interpolate(gettext("Choose %s."), [problems.join(", ")]) : "";
  }

  function keepOrSay(form) {
    const problem = missing(form);
    let alert = form.querySelector(".offline-missing");
    if (!problem) {
      alert?.remove();
      return queue(form);
    }
    if (!alert) {
      alert = document.createElement("div");
      alert.className = "alert alert-danger py-2 offline-missing";
      alert.setAttribute("role", "alert");
      form.prepend(alert);
    }
    alert.textContent = problem;
    return Promise.resolve();
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || !form.dataset.offline || !user) return;
    if (navigator.onLine) return;
    event.preventDefault();
    keepOrSay(form);
  });
  let emptyPanel = "";
  // The panel's prompt, as the page first showed it (Cancel offline, or after a sync).
  function restorePanel() {
    const panel = document.getElementById("entry-panel");
    if (!panel || !emptyPanel) return;
    panel.outerHTML = emptyPanel;
    if (window.htmx) htmx.process(document.getElementById("entry-panel"));
  }
  document.addEventListener("htmx:sendError", function (event) {
    const elt = event.detail.elt;
    if (elt instanceof HTMLFormElement && elt.dataset.offline && user) {
      // Perhaps the server stored it and the answer was lost: the client_id settles that.
      keepOrSay(elt);
      return;
    }
    if (elt.classList?.contains("entry-cancel")) {
      restorePanel();
    } else {
      needsConnection = true;
    }
    render();
  });

  // The entry form the service worker kept (no part chosen), fitted to what was clicked.
  document.addEventListener("htmx:afterRequest", function (event) {
    const xhr = event.detail.xhr;
    if (!xhr || xhr.getResponseHeader("X-Painmap-Offline") !== "entry-form") return;
    const panel = document.getElementById("entry-panel");
    const form = panel && panel.querySelector("form[data-offline]");
    if (!form) return;
    const asked = new URL(event.detail.pathInfo.finalRequestPath, location.origin).searchParams.getAll("part");
    const select = form.querySelector('select[name="body_part"]');
    const labels = [];
    if (select && asked.length) {
      asked.forEach(function (name) {
        const option = Array.from(select.options).find(function (o) {
          return o.value === name;
        });
        if (!option) return;
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = "body_part";
        input.value = name;
        input.dataset.label = option.text;
        form.prepend(input);
        labels.push(option.text);
      });
      if (labels.length) select.closest(".mb-3")?.remove();
    }
    const heading = panel.querySelector("#entry-panel-heading");
    if (heading && labels.length) {
      heading.textContent = interpolate(gettext("Record pain: %s"), [labels.join(gettext(" and "))]);
    }
    // A new recording: its own id and the time now, not the ones the kept form was made with.
    if (form.elements.client_id) form.elements.client_id.value = newClientId();
    const when = form.elements.date_recorded;
    if (when) {
      const now = new Date();
      now.setSeconds(0, 0);
      const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
      when.value = local.toISOString().slice(0, 16);
      when.max = when.value;
    }
  });

  // --- when things change ----------------------------------------------------------------------

  window.addEventListener("online", function () {
    needsConnection = false;
    render();
    sync();
  });
  window.addEventListener("offline", render);
  document.addEventListener("DOMContentLoaded", function () {
    const panel = document.getElementById("entry-panel");
    if (panel && !panel.querySelector("form")) emptyPanel = panel.outerHTML;
    // Loaded without a connection: this is the worker's kept copy, and its flash messages
    // ("Saved", "Welcome") were for the visit that kept it.
    if (!navigator.onLine) document.getElementById("messages")?.remove();
    if (!status) return;
    if (!user) {
      // Signed out: the kept pages belong to whoever was signed in.
      navigator.serviceWorker?.controller?.postMessage({ type: "forget-pages" });
      return;
    }
    render().then(sync);
  });
  // A save online changes the page: the kept copy follows, so that offline shows what was seen.
  document.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig;
    if (event.detail.successful && config && config.verb !== "get") keepThisPage();
  });
  navigator.serviceWorker?.addEventListener("controllerchange", function () {
    if (navigator.onLine) keepThisPage();
  });

  // For the browser tests and curious people: what waits, and a way to send it now.
  window.painmapOffline = { waiting: waiting, sync: sync };
})();
