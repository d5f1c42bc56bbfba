// Tells the portal that a tab of the logged-in person is open, so their slot is not
// released as idle. One small POST per tab per interval (the server sets the interval).
(function () {
  var every = 60000;
  var timer = null;
  function loggedIn() { return document.cookie.indexOf("vdi_token=") !== -1; }
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(beat, ms); }
  function beat() {
    // Logged out: only look at the cookie again soon (no request), so a fresh login counts at once.
    if (!loggedIn()) { schedule(3000); return; }
    fetch("/api/presence", {method: "POST", credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (d) { if (d.every) every = d.every * 1000; })
      .catch(function () {})
      .then(function () { schedule(every); });
  }
  // Coming back to a tab (or waking the laptop) counts at once.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) beat(); });
  beat();
})();
