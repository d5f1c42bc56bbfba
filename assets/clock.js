// Fills every element carrying data-since (epoch ms) with the time elapsed since then.
// Runs in the browser so timers tick every second without server traffic.
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function render(el, now) {
    var since = Number(el.getAttribute("data-since"));
    if (!since) { el.textContent = ""; return; }
    var mode = el.getAttribute("data-mode");
    // "countdown": data-since holds the moment it ends; show what is left.
    var secs = Math.max(0, Math.floor((mode === "countdown" ? since - now : now - since) / 1000));
    var text;
    if (mode === "countdown") {
      text = Math.floor(secs / 60) + ":" + pad(secs % 60);
    } else if (mode === "minutes") {
      text = Math.floor(secs / 60) + " мин";
    } else {
      text = pad(Math.floor(secs / 3600)) + ":" + pad(Math.floor(secs / 60) % 60) + ":" + pad(secs % 60);
    }
    if (el.textContent !== text) el.textContent = text;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) { render(el, now); });
  }
  setInterval(tick, 1000);
  new MutationObserver(tick).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-since"],
  });
})();
