// Registers the wallet's service worker (installable app, offline reading); on the logged-out page it
// also asks the worker to forget the pages it kept.
"use strict";
(function () {
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
      if (document.getElementById("signed-out")) {
        var worker = reg.active || navigator.serviceWorker.controller;
        if (worker) worker.postMessage("forget-personal");
      }
    }).catch(function () { /* no service worker: the wallet still works online */ });
  });
})();
