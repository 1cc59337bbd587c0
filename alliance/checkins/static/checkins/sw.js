/* Alliance's service worker: the app shell offline, check-ins kept on the device while
   offline and sent exactly once when back online, and Web Push notifications.

   Served by Django at /exercises/sw.js (scope "/"), which puts `self.ALLIANCE_SW` (the
   settings: paths, the shell's file names, the version, a few translated words) first.

   Offline check-ins: a check-in form posted with no connection is kept in IndexedDB with
   its client key and the moment it was made, then sent to the API (POST /api/v1/me/checkins)
   on Background Sync, when a page says the connection is back, or at the next page load.
   The server honours the client key, so a check-in sent twice is saved once. */
"use strict";

const CONFIG = self.ALLIANCE_SW || {
  version: "dev",
  shell: [],
  offlinePage: "/exercises/checkin/offline/",
  savedPage: "/exercises/checkin/saved-offline/",
  checkinPath: "/exercises/checkin/",
  apiPath: "/api/v1/me/checkins",
  staticPrefix: "/static/",
  icon: "",
  texts: {},
};
const CACHE_PREFIX = "alliance-shell-";
const SHELL_CACHE = CACHE_PREFIX + CONFIG.version;
const PAGES = [CONFIG.offlinePage, CONFIG.savedPage];
const DB_NAME = "alliance-offline";
const STORE = "checkins";
const SYNC_TAG = "alliance-checkins";

// --- Installing and the shell cache ---------------------------------------------------

async function keep(cache, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
    // A redirect (to sign in) or an error is not the page: keep nothing.
    if (response.ok && !response.redirected) {
      await cache.put(url, response);
    }
  } catch (error) {
    /* Offline while installing: the pages are kept at the next visit online. */
  }
}

async function ensurePages() {
  const cache = await caches.open(SHELL_CACHE);
  for (const url of PAGES) {
    if (!(await cache.match(url, { ignoreVary: true }))) {
      await keep(cache, url);
    }
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => Promise.all([...CONFIG.shell, ...PAGES].map((url) => keep(cache, url))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE)
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

// --- Answering requests ---------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && url.pathname === CONFIG.checkinPath) {
    event.respondWith(checkinPost(request));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(event, request, url));
  }
});

async function staticFile(request) {
  // The network first (a new release's files), the phone's copy when offline.
  try {
    const response = await fetch(request);
    if (response.ok && CONFIG.shell.includes(new URL(request.url).pathname)) {
      const cache = await caches.open(SHELL_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request, { ignoreVary: true });
    if (cached) {
      return cached;
    }
    throw error;
  }
}

async function page(event, request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      event.waitUntil(ensurePages().catch(() => {}));
    }
    return response;
  } catch (error) {
    // No connection: the page itself if it is one kept here, else the check-in form,
    // which works offline.
    const cache = await caches.open(SHELL_CACHE);
    const own = PAGES.includes(url.pathname)
      ? await cache.match(url.pathname, { ignoreVary: true })
      : null;
    return (
      own ||
      (await cache.match(CONFIG.offlinePage, { ignoreVary: true })) ||
      plainPage(CONFIG.texts.offline || "You are offline.", 503)
    );
  }
}

function plainPage(text, status) {
  const escaped = String(text).replace(/[&<>"]/g, (c) => "&#" + c.charCodeAt(0) + ";");
  return new Response(
    '<!DOCTYPE html><html><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">' +
      "<title>Alliance</title></head><body><main><h1>Alliance</h1><p>" +
      escaped +
      "</p></main></body></html>",
    { status: status, headers: { "Content-Type": "text/html; charset=utf-8" } }
  );
}

async function checkinPost(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    // No connection: keep the check-in on the device and send it later.
    const form = await copy.formData();
    await storeCheckin({
      client_key: form.get("client_key") || newKey(),
      patient_id: form.get("patient_id") || "",
      mood: form.get("mood") || "",
      feelings: form.getAll("feelings"),
      sleep_hours: form.get("sleep_hours") || "",
      activity: form.get("activity") || "",
      note: form.get("note") || "",
      csrf: form.get("csrfmiddlewaretoken") || "",
      made_at: new Date().toISOString(),
    });
    await askForSync();
    const cache = await caches.open(SHELL_CACHE);
    return (
      (await cache.match(CONFIG.savedPage, { ignoreVary: true })) ||
      plainPage(CONFIG.texts.saved || "Your check-in is kept on this phone.", 200)
    );
  }
}

function newKey() {
  if (self.crypto && self.crypto.randomUUID) {
    return self.crypto.randomUUID();
  }
  return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
}

// --- The check-ins kept on the device (IndexedDB) ------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DB_NAME, 1);
    opening.onupgradeneeded = () => {
      opening.result.createObjectStore(STORE, { keyPath: "client_key" });
    };
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

async function inStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const asked = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(asked ? asked.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

function storeCheckin(record) {
  return inStore("readwrite", (store) => store.put(record));
}

function keptCheckins() {
  return inStore("readonly", (store) => store.getAll());
}

function forgetCheckin(key) {
  return inStore("readwrite", (store) => store.delete(key));
}

// --- Sending them ---------------------------------------------------------------------

async function askForSync() {
  try {
    if (self.registration.sync) {
      await self.registration.sync.register(SYNC_TAG);
    }
  } catch (error) {
    /* No Background Sync here: a page load or the "online" event sends them instead. */
  }
}

function payload(record) {
  const mood = record.mood === "" ? null : Number(record.mood);
  return {
    mood: Number.isNaN(mood) ? record.mood : mood,
    feelings: record.feelings || [],
    sleep_hours: record.sleep_hours === "" ? null : String(record.sleep_hours).replace(",", "."),
    activity: record.activity || "",
    note: record.note || "",
    made_at: record.made_at,
    client_key: record.client_key,
    patient_id: record.patient_id ? Number(record.patient_id) : null,
  };
}

// Answers after which the same check-in may succeed later: not signed in (or as someone
// else), the CSRF token out of date, the server busy or failing.
function worthRetrying(status, body) {
  if (status === 401 || status === 403 || status === 408 || status === 429 || status >= 500) {
    return true;
  }
  // Made by another patient on this phone: it waits for them to sign in.
  const fields = body && body.error && body.error.fields;
  return Boolean(status === 422 && fields && fields.patient_id);
}

function describe(body) {
  const error = body && body.error;
  if (!error) {
    return "";
  }
  const messages = Object.values(error.fields || {}).flat();
  return messages.length ? messages.join(" ") : error.message || "";
}

async function tell(message) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    client.postMessage(message);
  }
}

async function sendAll(csrf) {
  const records = (await keptCheckins()).sort((a, b) => (a.made_at < b.made_at ? -1 : 1));
  let waiting = 0;
  for (const record of records) {
    // A failed fetch (still offline) rejects: Background Sync then tries again later.
    const response = await fetch(CONFIG.apiPath, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf || record.csrf,
      },
      body: JSON.stringify(payload(record)),
    });
    if (response.ok) {
      await forgetCheckin(record.client_key);
      await tell({ type: "checkin-sent", client_key: record.client_key });
      continue;
    }
    const body = await response.json().catch(() => null);
    if (worthRetrying(response.status, body)) {
      waiting += 1;
      continue;
    }
    // Refused for good (e.g. more than 14 days late): say so rather than drop it silently.
    await forgetCheckin(record.client_key);
    await tell({ type: "checkin-refused", client_key: record.client_key, message: describe(body) });
  }
  if (waiting) {
    throw new Error(waiting + " check-in(s) still waiting");
  }
}

let sending = null;

function sendKept(csrf) {
  // One round at a time: a sync event and a page asking at once send each check-in once.
  if (!sending) {
    sending = sendAll(csrf).finally(() => {
      sending = null;
    });
  }
  return sending;
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) {
    event.waitUntil(sendKept());
  }
});

async function forgetPages() {
  const cache = await caches.open(SHELL_CACHE);
  await Promise.all(PAGES.map((url) => cache.delete(url, { ignoreVary: true })));
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "replay-checkins") {
    event.waitUntil(sendKept(data.csrf).catch(() => {}));
  } else if (data.type === "forget-pages") {
    event.waitUntil(forgetPages());
  }
});

// --- Web Push ---------------------------------------------------------------------------
// The notify app sends JSON {title, body, url}; a click opens the url on this site.

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  const options = { body: data.body || "", data: { url: data.url || "/" } };
  if (CONFIG.icon) {
    options.icon = CONFIG.icon;
  }
  if (data.tag) {
    options.tag = data.tag;
  }
  event.waitUntil(self.registration.showNotification(data.title || "Alliance", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const wanted = (event.notification.data && event.notification.data.url) || "/";
  let target = new URL(wanted, self.location.origin);
  if (target.origin !== self.location.origin) {
    target = new URL("/", self.location.origin); // never open another site from here
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === target.href && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
