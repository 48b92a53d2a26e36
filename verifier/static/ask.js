// Poll the request's status (GET /requests/<id>/status) and open the result when the answer arrives.
(function () {
  "use strict";
  var status = document.getElementById("ask-status");
  if (!status || !window.fetch) return;
  var url = status.dataset.statusUrl;
  var delay = 2000;
  var poll = function () {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { status: r.status === 404 ? "expired" : "pending" }; })
      .then(function (s) {
        if (s.status === "answered") {
          status.textContent = status.dataset.answered;
          status.className = "notice notice--success";
          window.location.assign(status.dataset.resultUrl);
        } else if (s.status === "expired") {
          status.textContent = status.dataset.expired;
          status.className = "notice notice--warning";
        } else {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () { window.setTimeout(poll, delay * 2); });
  };
  window.setTimeout(poll, delay);
})();
