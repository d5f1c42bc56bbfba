// Registers the service worker; the page keeps working if the browser has none.
(function () {
  if (!("serviceWorker" in navigator)) return;
  var register = function () { navigator.serviceWorker.register("/sw.js").catch(function () {}); };
  // This script may run after the load event (it is added by the app), so check first.
  if (document.readyState === "complete") register(); else window.addEventListener("load", register);
})();
