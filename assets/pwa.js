// Registers the service worker for this build; the page keeps working if the browser has none.
// The worker's URL carries the build id this script was loaded with (/pwa.js?v=<build>), so a new
// deploy registers a new worker, which replaces the old build's cache.
(function () {
  if (!("serviceWorker" in navigator)) return;
  var me = document.currentScript && document.currentScript.src;
  var build = me ? new URL(me).searchParams.get("v") : null;
  var url = "/sw.js" + (build ? "?v=" + encodeURIComponent(build) : "");
  var register = function () { navigator.serviceWorker.register(url).catch(function () {}); };
  // This script may run after the load event (it is added by the app), so check first.
  if (document.readyState === "complete") register(); else window.addEventListener("load", register);
})();
