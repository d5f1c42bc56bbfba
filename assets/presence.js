// Tells the portal that a tab of the logged-in person is open, so their slot is not
// released as idle. One small POST per tab per interval (the server sets the interval).
// The login cookie is HttpOnly, so the page cannot tell whether anyone is logged in: the server
// answers 403 for nobody. A login always loads a new page, so it counts at once.
(function () {
  var every = 60000;
  var timer = null;
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(beat, ms); }
  function beat() {
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
