/* Jigi field collection: the service worker keeps the page and its scripts for offline use.
 * Served from /field/sw.js (scope /field/). Pages: network first, the cached copy offline.
 * Static files: network first too (a new release is picked up at once), cache offline.
 * The API is never cached here: the page keeps the sheet and the records itself. */
"use strict";
const CACHE = "jigi-field-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => remember(cache, ["/field/"]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("jigi-field-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The page tells which files it was drawn with (its scripts and styles).
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "remember" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(CACHE).then((cache) => remember(cache, data.urls)).then(() => {
      if (event.source) event.source.postMessage({type: "remembered"});
    }));
  }
});

function remember(cache, urls) {
  return Promise.all(urls.map((url) => fetch(url, {credentials: "same-origin"})
    .then((res) => (res.ok && !res.redirected ? cache.put(url, res) : null))
    .catch(() => null)));
}

function inScope(url, request) {
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return false;
  if (request.mode === "navigate") return url.pathname.startsWith("/field/");
  return url.pathname.startsWith("/static/") || url.pathname.startsWith("/field/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!inScope(url, request)) return;
  const navigate = request.mode === "navigate";
  event.respondWith(fetch(request).then((res) => {
    if (res.ok && !res.redirected) {
      const copy = res.clone();
      caches.open(CACHE).then((cache) => cache.put(navigate ? url.pathname : request, copy));
    }
    return res;
  }).catch(() => caches.match(navigate ? url.pathname : request)
    .then((hit) => hit || (navigate ? caches.match("/field/") : undefined))
    .then((hit) => hit || Response.error())));
});
