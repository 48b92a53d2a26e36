/* Live progress of a bulk job: polls the element's data-progress-url (JSON from issuer/jobs.py) once a
 * second and fills the <progress> bar and the [data-field] slots; stops when the job is done or stopped. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var lang = document.documentElement.lang === "en" ? "en" : "ko";
  var bar = box.querySelector("progress");

  function set(name, text) {
    var el = box.querySelector("[data-field=" + name + "]");
    if (el) { el.textContent = text; }
  }

  function seconds(n) {
    if (n === null || n === undefined) { return "—"; }
    var m = Math.floor(n / 60), s = Math.round(n % 60);
    return lang === "en" ? (m ? m + " min " : "") + s + " s" : (m ? m + "분 " : "") + s + "초";
  }

  function show(p) {
    bar.max = Math.max(p.total, 1);
    bar.value = p.done + p.failed;
    bar.textContent = p.percent + "%";
    set("percent", p.percent + "%");
    set("done", String(p.done));
    set("total", String(p.total));
    set("failed", String(p.failed));
    set("rate", p.rate.toFixed(1));
    set("left", seconds(p.secondsLeft));
    set("state", box.dataset["state" + p.state.charAt(0).toUpperCase() + p.state.slice(1)] || p.state);
    var list = box.querySelector("[data-field=errors]");
    if (list) {
      list.textContent = "";
      p.errors.slice(0, 50).forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = (e.contract ? e.contract + ": " : "") + (e.reason ? e.reason[lang] : "");
        list.appendChild(li);
      });
    }
    return p.state === "done" || p.state === "stopped";
  }

  // a job that stopped, or finished with failures, says so: never the all-clear beside a failure
  function settle(p) {
    var clean = p.state === "done" && !p.failed && !p.errors.length;
    var ok = box.querySelector("[data-when-clean]"), bad = box.querySelector("[data-when-troubled]");
    if (ok) { ok.hidden = !clean; }
    if (bad) { bad.hidden = clean; }
  }

  function poll() {
    fetch(box.dataset.progressUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (p && show(p)) {
          settle(p);
          return;
        }
        window.setTimeout(poll, 1000);
      }, function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
