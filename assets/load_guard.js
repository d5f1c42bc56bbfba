// Inlined first in every page's head (vdi_taxi/vdi_taxi.py). If a part of the page's code or
// styles fails to arrive (the network changed or dropped mid-load: Wi-Fi to mobile data, a VPN
// coming up), the page would sit half-built, its buttons disabled, for good. Reload it once
// instead; if it fails again within a short while, say so in Russian and offer the reload.
(function () {
  var KEY = "vdi-taxi-load-retry";
  var COOLDOWN_MS = 20000;
  function isAppCode(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    if (tag === "script") return el.type === "module" || !!el.src;
    if (tag === "link") return /(^|\s)(modulepreload|stylesheet)(\s|$)/.test(el.rel || "");
    return false;
  }
  function banner() {
    if (document.getElementById("vdi-load-failed")) return;
    var box = document.createElement("div");
    box.id = "vdi-load-failed";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;display:flex;" +
      "flex-wrap:wrap;gap:12px;align-items:center;justify-content:center;padding:12px 16px;" +
      "background:#7c2d12;color:#fff;font:15px/1.4 Inter,system-ui,sans-serif";
    var text = document.createElement("span");
    text.textContent = "Страница загрузилась не полностью: прервалась связь.";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Обновить";
    button.style.cssText = "min-height:44px;padding:0 20px;border:0;border-radius:8px;" +
      "background:#fff;color:#7c2d12;font:600 15px Inter,system-ui,sans-serif;cursor:pointer";
    button.onclick = function () { location.reload(); };
    box.appendChild(text);
    box.appendChild(button);
    (document.body || document.documentElement).appendChild(box);
  }
  window.addEventListener("error", function (event) {
    if (!isAppCode(event.target)) return;
    var last = 0;
    try { last = Number(sessionStorage.getItem(KEY)) || 0; } catch (e) { /* storage off */ }
    if (Date.now() - last > COOLDOWN_MS) {
      try { sessionStorage.setItem(KEY, String(Date.now())); } catch (e) { /* storage off */ }
      location.reload();
    } else if (document.body) {
      banner();
    } else {
      document.addEventListener("DOMContentLoaded", banner);
    }
  }, true); // capture: load errors do not bubble
})();
