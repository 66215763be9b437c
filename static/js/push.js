// The profile's notifications card: subscribe this browser to Web Push (pwa/push.py) or stop.
"use strict";

(function () {
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    return Uint8Array.from(atob(padded), function (c) {
      return c.charCodeAt(0);
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || gettext("The server refused it."));
        return data;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const controls = document.getElementById("push-controls");
    if (!controls) return;
    const state = document.getElementById("push-state");
    const enable = document.getElementById("push-enable");
    const disable = document.getElementById("push-disable");
    const devices = document.getElementById("push-devices");

    function show(subscribed, text) {
      state.textContent = text;
      enable.hidden = subscribed;
      disable.hidden = !subscribed;
    }
    function count(data) {
      if (devices && typeof data.devices === "number") {
        devices.textContent = interpolate(
          ngettext("%(count)s device subscribed", "%(count)s devices subscribed", data.devices),
          { count: data.devices },
          true,
        );
      }
    }

    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      state.textContent = gettext(
        "This browser cannot receive push notifications; reminders come by email.",
      );
      return;
    }
    if (window.Notification && Notification.permission === "denied") {
      state.textContent = gettext(
        "Notifications are blocked for Painmap in this browser's settings; allow them there to turn them on.",
      );
      return;
    }
    navigator.serviceWorker.ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        show(
          Boolean(subscription),
          subscription ? gettext("Notifications are on for this device.") : gettext("Notifications are off for this device."),
        );
      });

    enable.addEventListener("click", function () {
      enable.disabled = true;
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") throw new Error(gettext("Notifications were not allowed."));
          return navigator.serviceWorker.ready;
        })
        .then(function (registration) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(controls.dataset.publicKey),
          });
        })
        .then(function (subscription) {
          return post(controls.dataset.subscribeUrl, subscription.toJSON());
        })
        .then(function (data) {
          count(data);
          show(true, gettext("Notifications are on for this device."));
        })
        .catch(function (error) {
          state.textContent = interpolate(gettext("Could not turn notifications on: %s"), [error.message]);
        })
        .finally(function () {
          enable.disabled = false;
        });
    });

    disable.addEventListener("click", function () {
      disable.disabled = true;
      navigator.serviceWorker.ready
        .then(function (registration) {
          return registration.pushManager.getSubscription();
        })
        .then(function (subscription) {
          if (!subscription) return { devices: undefined };
          const endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return post(controls.dataset.unsubscribeUrl, { endpoint: endpoint });
          });
        })
        .then(function (data) {
          count(data);
          show(false, gettext("Notifications are off for this device."));
        })
        .catch(function (error) {
          state.textContent = interpolate(gettext("Could not turn notifications off: %s"), [error.message]);
        })
        .finally(function () {
          disable.disabled = false;
        });
    });
  });
})();
