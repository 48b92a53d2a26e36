/* Passkey forms for every role (the server side is web/passkeys.py); needs simplewebauthn-browser.js first.
 *
 * <form data-passkey="register|login|sign" data-options-url="/…/options" action="/…/verify" method="post"
 *       data-msg-unsupported="…" data-msg-cancelled="…" data-msg-failed="…">
 *   {{ csrf_field() }} …any inputs the options route needs (sent as form data)…
 *   <button type="submit">…</button>
 *   <p data-passkey-status role="status" hidden></p>
 * </form>
 *
 * 1. POST the form's fields to data-options-url; the answer is the WebAuthn options JSON.
 * 2. Ask the browser (startRegistration / startAuthentication).
 * 3. POST {"credential": …} as JSON to the form's action with the X-CSRF-Token header.
 * 4. On success go to the answer's `next` (else data-next, else reload); the form also fires a
 *    `passkey:done` event with the answer, for pages that want to do something else.
 * Errors show the server's problem detail (already in the page's language) or the form's data-msg-*.
 */
(function () {
  "use strict";
  var lib = window.SimpleWebAuthnBrowser;

  function show(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (!status) { return; }
    status.textContent = text;
    status.hidden = !text;
  }

  function csrf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function problemText(form, resp) {
    return resp.json().then(function (body) {
      return (body && (body.detail || body.title)) || form.dataset.msgFailed || "";
    }, function () { return form.dataset.msgFailed || ""; });
  }

  function post(url, form, body, json) {
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrf(form) };
    if (json) { headers["Content-Type"] = "application/json"; }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body });
  }

  function run(form, button) {
    var kind = form.dataset.passkey;
    if (!lib || !lib.browserSupportsWebAuthn()) {
      show(form, form.dataset.msgUnsupported || "");
      return;
    }
    if (button) { button.disabled = true; }
    show(form, "");
    post(form.dataset.optionsUrl, form, new FormData(form), false).then(function (resp) {
      if (!resp.ok) { return problemText(form, resp).then(function (t) { throw new Error(t); }); }
      return resp.json();
    }).then(function (options) {
      var ask = kind === "register" ? lib.startRegistration : lib.startAuthentication;
      return ask({ optionsJSON: options }).catch(function (err) {
        // NotAllowedError: the user closed the prompt or it timed out
        var text = err && err.name === "NotAllowedError" ? form.dataset.msgCancelled : form.dataset.msgFailed;
        throw new Error(text || (err && err.message) || "");
      });
    }).then(function (credential) {
      return post(form.action, form, JSON.stringify({ credential: credential }), true);
    }).then(function (resp) {
      if (!resp.ok) { return problemText(form, resp).then(function (t) { throw new Error(t); }); }
      return resp.json();
    }).then(function (answer) {
      form.dispatchEvent(new CustomEvent("passkey:done", { detail: answer, bubbles: true }));
      var next = (answer && answer.next) || form.dataset.next;
      if (next) { window.location.assign(next); } else if (!form.hasAttribute("data-stay")) { window.location.reload(); }
    }).catch(function (err) {
      show(form, (err && err.message) || form.dataset.msgFailed || "");
    }).then(function () {
      if (button) { button.disabled = false; }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.passkey) { return; }
    event.preventDefault();
    run(form, event.submitter || form.querySelector("button[type=submit]"));
  });
})();
