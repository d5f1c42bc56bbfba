// VDI Taxi service worker: the app shell starts fast and an offline page shows without network.
// Registered as /sw.js?v=<build id>: the cache is named after the build and holds only that build's
// URLs, so a new deploy (a new id) installs a new worker that drops the old build's cache.
// Never touched: the event websocket, the API, sign-in/out (they set the login cookie), room pages,
// dumps and calendar feeds (live or personal).
const BUILD = new URL(self.location.href).searchParams.get("v") || "dev";
const CACHE = "vdi-taxi-" + BUILD;
const SHELL_PATHS = ["/offline.html", "/clock.js", "/presence.js", "/pwa.js", "/app.css", "/favicon.ico",
  "/icon-192.png", "/icon-512.png", "/manifest.json"];
const SHELL = SHELL_PATHS.map((path) => path + "?v=" + encodeURIComponent(BUILD));
const OFFLINE = SHELL[0];
const NEVER = [/^\/_event/, /^\/api\//, /^\/auth\//, /^\/room\//, /^\/dumps\//, /^\/calendar\/feed\//,
  /^\/_upload/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // The new build takes over open tabs at once and drops every other build's cache.
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function cacheFirst(req) {
  return caches.match(req).then((hit) => hit || fetch(req).then((resp) => {
    if (resp.ok) {
      const copy = resp.clone();
      caches.open(CACHE).then((cache) => cache.put(req, copy));
    }
    return resp;
  }));
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || NEVER.some((re) => re.test(url.pathname))) {
    return;
  }
  if (req.mode === "navigate") {
    // Pages: always the network (fresh UI after a deploy); the offline page when there is none.
    event.respondWith(fetch(req).catch(() => caches.match(OFFLINE)));
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    // Built assets carry a content hash in their name: cache first is safe for them.
    event.respondWith(cacheFirst(req));
    return;
  }
  if (SHELL_PATHS.includes(url.pathname)) {
    if (url.searchParams.get("v") === BUILD) {
      // This build's copy: it cannot be stale.
      event.respondWith(cacheFirst(req));
    } else {
      // Another build's URL, or none (the manifest, the offline page's icon): the network,
      // and this build's copy only when there is no network.
      event.respondWith(fetch(req).catch(() => caches.match(url.pathname + "?v=" + encodeURIComponent(BUILD))));
    }
  }
});
