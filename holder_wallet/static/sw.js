// The wallet's service worker (holder_wallet/pwa.py): the app shell from this site only, and the last
// copy of the signed-in worker's pages for reading offline, deleted at logout.
"use strict";

const VERSION = "2";
const SHELL = "wallet-shell-" + VERSION;
// personal data: emptied at logout, at erasure and whenever the server sends the worker to log in
const PERSONAL = "wallet-personal";
const SHELL_FILES = [
  "/assets/workcred.css",
  "/assets/favicon.svg",
  "/assets/krds-flag.svg",
  "/assets/city-mark.svg",
  "/assets/fonts/pretendard-gov-400-latin.woff2",
  "/assets/fonts/pretendard-gov-700-latin.woff2",
  "/assets/fonts/pretendard-gov-400-common.woff2",
  "/assets/fonts/pretendard-gov-700-common.woff2",
  "/static/wallet/wallet.css",
  "/static/wallet/pwa.js",
  "/static/wallet/icons/wallet-192.png",
];
const OFFLINE = "/offline";
// pages kept for offline reading: held credentials, one credential, the career view, QR screens
const PERSONAL_PAGES = [
  /^\/$/,
  /^\/credentials\/[^/]+$/,
  /^\/career$/,
  /^\/present\/[^/]+$/,
  /^\/career\/certificates\/[^/.]+$/,
];
const SIGN_OUT = ["/logout", "/account/erase"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    // one by one: a file renamed on the server must not stop the rest from being kept
    await Promise.all(SHELL_FILES.map((url) => cache.add(url).catch(() => undefined)));
    // the offline page as a stranger sees it: no session, nothing personal
    const offline = await fetch(OFFLINE, { credentials: "omit" });
    if (offline.ok) await cache.put(OFFLINE, offline);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keys = await caches.keys();
    await Promise.all(keys.filter((k) => k !== SHELL && k !== PERSONAL).map((k) => caches.delete(k)));
    await self.clients.claim();
  })());
});

// a page may ask too (the logged-out page does, in case the worker left by another way)
self.addEventListener("message", (event) => {
  if (event.data === "forget-personal") event.waitUntil(caches.delete(PERSONAL));
});

function personalPage(url) {
  return PERSONAL_PAGES.some((re) => re.test(url.pathname));
}

async function networkThenCopy(request) {
  try {
    const response = await fetch(request);
    if (response.redirected || response.status === 401 || response.status === 410) {
      // sent to the login page or the account is gone: drop what this browser kept
      await caches.delete(PERSONAL);
    } else if (response.ok && response.type === "basic") {
      const cache = await caches.open(PERSONAL);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (offline) {
    const kept = await caches.match(request, { cacheName: PERSONAL });
    return kept || (await caches.match(OFFLINE)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && SIGN_OUT.includes(url.pathname)) {
    event.respondWith(caches.delete(PERSONAL).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && personalPage(url)) {
    event.respondWith(networkThenCopy(request));
    return;
  }
  if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: SHELL }).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(async () => (await caches.match(OFFLINE)) || Response.error()));
  }
});
