// Painmap's service worker, served at /sw.js by pwa.views.service_worker, which puts CONFIG in
// front of this file: the static URLs to keep, a version, and the app's paths.
//
// - Static files: from the cache first (their URLs change with their content in production;
//   with DEBUG, where they do not, from the network first).
// - The diary and notes pages: from the network, and the last one seen is kept for offline.
// - The entry form the map opens: kept too (without a part); offline.js fits it to the click.
// - Anything else offline: a short page saying so, with links to what works offline. The worker
//   has no translations: that page is the server's (CONFIG.offlinePage), kept in the language
//   of the last diary seen; never kept yet, the browser's own offline error shows instead.
// Nothing here writes: recording offline is offline.js's outbox, in the page.
"use strict";

/* global CONFIG */
const STATIC_CACHE = "painmap-static-" + CONFIG.version;
const PAGE_CACHE = "painmap-pages";
const FORM_KEY = CONFIG.entryForm + "?offline-form";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then(function (cache) {
        return cache.addAll(CONFIG.precache);
      })
      .then(function () {
        return keepOfflinePage().catch(function () {});
      })
      .then(function () {
        return self.skipWaiting();
      }),
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        // Kept pages name the old static URLs: they go with them, and the next visit keeps
        // the page again (offline.js asks as soon as this worker controls it).
        return Promise.all(
          keys
            .filter(function (key) {
              return key !== STATIC_CACHE && key.startsWith("painmap-");
            })
            .map(function (key) {
              return caches.delete(key);
            }),
        );
      })
      .then(function () {
        return self.clients.claim();
      }),
  );
});

function forgetPages() {
  return caches.delete(PAGE_CACHE);
}

function keptPage(url) {
  return url.origin === self.location.origin && CONFIG.pages.includes(url.pathname);
}

// A page worth keeping: the signed-in person's own page, as the server sent it.
function keepable(response) {
  return response.ok && response.type === "basic" && !response.redirected;
}

async function keepPage(path, response) {
  const cache = await caches.open(PAGE_CACHE);
  await cache.put(path, response);
}

// The entry form without a part, as htmx asks for it.
async function keepEntryForm() {
  const response = await fetch(CONFIG.entryForm, {
    headers: { "HX-Request": "true", "HX-Target": "entry-panel" },
    credentials: "same-origin",
    redirect: "manual",
  });
  if (keepable(response)) await keepPage(FORM_KEY, response);
}

// The form changes rarely (the patient's own factors): fetched when none is kept.
async function keepEntryFormOnce() {
  const cache = await caches.open(PAGE_CACHE);
  if (!(await cache.match(FORM_KEY, { ignoreVary: true }))) await keepEntryForm();
}

// The offline page holds no one's data (kept across sign-outs, with the static files) and is
// in the language it was fetched in: fetched again when a kept page's language differs.
async function keepOfflinePage() {
  const response = await fetch(CONFIG.offlinePage, { credentials: "same-origin" });
  if (response.ok) {
    const cache = await caches.open(STATIC_CACHE);
    await cache.put(CONFIG.offlinePage, response);
  }
}

async function offlinePageFollows(page) {
  const cache = await caches.open(STATIC_CACHE);
  const kept = await cache.match(CONFIG.offlinePage);
  const language = page.headers.get("Content-Language");
  if (!kept || (language && kept.headers.get("Content-Language") !== language)) {
    await keepOfflinePage();
  }
}

async function refreshPage(path) {
  const response = await fetch(path, { credentials: "same-origin", redirect: "manual" });
  if (keepable(response)) {
    await keepPage(path, response);
    if (path === CONFIG.home) await keepEntryFormOnce();
    // Headers stay readable once the body is kept.
    await offlinePageFollows(response).catch(function () {});
  } else if (response.type === "opaqueredirect" || response.status === 403) {
    await forgetPages(); // signed out, or not a patient: nothing of theirs to keep
  }
}

async function fromNetworkKeepingPage(event, url) {
  try {
    const response = await fetch(event.request);
    if (keepable(response)) {
      event.waitUntil(
        keepPage(url.pathname, response.clone())
          .then(function () {
            return url.pathname === CONFIG.home ? keepEntryFormOnce() : undefined;
          })
          .then(function () {
            return offlinePageFollows(response).catch(function () {});
          }),
      );
    } else if (response.type === "opaqueredirect") {
      event.waitUntil(forgetPages());
    }
    return response;
  } catch (error) {
    const cache = await caches.open(PAGE_CACHE);
    const kept = await cache.match(url.pathname);
    return kept || offlinePage();
  }
}

async function pageOrOfflinePage(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return offlinePage();
  }
}

async function offlinePage() {
  const cache = await caches.open(STATIC_CACHE);
  const kept = await cache.match(CONFIG.offlinePage);
  if (!kept) return Response.error();
  return new Response(await kept.blob(), {
    status: 503,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Language": kept.headers.get("Content-Language") || "",
      "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'",
      "Cache-Control": "no-store",
    },
  });
}

async function entryForm(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(PAGE_CACHE);
    const kept = await cache.match(FORM_KEY, { ignoreVary: true });
    if (!kept) throw error;
    // offline.js sees this header and fits the form to the parts asked for.
    const headers = new Headers(kept.headers);
    headers.set("X-Painmap-Offline", "entry-form");
    return new Response(await kept.blob(), { status: 200, headers: headers });
  }
}

// Without DEBUG the static URLs carry their content's hash: a kept file is never stale. With
// DEBUG they do not, and the network goes first so that an edited file shows at once.
async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      const cache = await caches.open(STATIC_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    const cache = await caches.open(STATIC_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    // Leaving the account: the kept pages go before the server's answer arrives. The request
    // itself goes to the network untouched (no respondWith).
    if (CONFIG.signOut.includes(url.pathname)) event.waitUntil(forgetPages());
    return;
  }
  if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(CONFIG.hashedStatic ? cacheFirst(request) : networkFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(
      keptPage(url) ? fromNetworkKeepingPage(event, url) : pageOrOfflinePage(request),
    );
  } else if (url.pathname === CONFIG.entryForm && request.headers.get("HX-Request")) {
    event.respondWith(entryForm(request));
  }
});

// The page asks: keep this page now (its first visit happened before this worker controlled
// it), or forget the kept pages.
self.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.type === "keep-page" && CONFIG.pages.includes(data.path)) {
    event.waitUntil(refreshPage(data.path).catch(function () {}));
  } else if (data.type === "forget-pages") {
    event.waitUntil(forgetPages());
  } else if (data.type === "claim") {
    // A page of ours that this worker does not control yet (offline.js asks).
    event.waitUntil(self.clients.claim());
  }
});

// Web push: the payload is {title, body, url} and never carries health data (pwa/push.py).
self.addEventListener("push", function (event) {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "Painmap", {
      body: data.body || "",
      icon: CONFIG.icon,
      data: { url: data.url || CONFIG.home },
      tag: data.tag || "painmap",
    }),
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const target = new URL(event.notification.data?.url || CONFIG.home, self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (const client of list) {
        if (new URL(client.url).pathname === target.pathname && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
