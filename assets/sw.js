// VDI Taxi service worker: the app shell starts fast and an offline page shows without network.
// Never cached: the event websocket, the API, room pages, dumps and calendar feeds (live or personal).
const VERSION = "vdi-taxi-v1";
const SHELL = ["/offline.html", "/clock.js", "/app.css", "/favicon.ico", "/icon-192.png", "/icon-512.png",
  "/manifest.json"];
const NEVER = [/^\/_event/, /^\/api\//, /^\/room\//, /^\/dumps\//, /^\/calendar\/feed\//, /^\/_upload/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  // A new version takes over open tabs at once and drops the old caches: no hard refresh needed.
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || NEVER.some((re) => re.test(url.pathname))) {
    return;
  }
  if (req.mode === "navigate") {
    // Pages: always the network (fresh UI after a deploy); the offline page when there is none.
    event.respondWith(fetch(req).catch(() => caches.match("/offline.html")));
    return;
  }
  if (url.pathname.startsWith("/assets/") || SHELL.includes(url.pathname)) {
    // Built assets carry a content hash in their name: cache first is safe for them.
    event.respondWith(
      caches.match(req).then((hit) => hit || fetch(req).then((resp) => {
        if (resp.ok) {
          const copy = resp.clone();
          caches.open(VERSION).then((cache) => cache.put(req, copy));
        }
        return resp;
      })),
    );
  }
});
