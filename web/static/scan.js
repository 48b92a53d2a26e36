// Camera scan, shared by the employer's scan page and the wallet's: getUserMedia + the bundled jsQR
// (web/static/jsQR.js). The first QR whose text matches the box's data-accept pattern fills the
// data-field input and submits its form; nothing but that text leaves the device. The box carries the
// messages: data-looking, data-found, data-wrong (a QR of another kind), data-denied, data-unsupported.
(function () {
  "use strict";
  var box = document.getElementById("scanner");
  var video = document.getElementById("camera");
  var canvas = document.getElementById("frame");
  var status = document.getElementById("scan-status");
  var input = box && document.getElementById(box.dataset.field);
  var form = input && input.form;
  if (!box || !video || !canvas || !status || !form) return;
  var accept = new RegExp(box.dataset.accept, "i");
  var base = status.className.replace(/\bnotice--\S+/g, "").trim();
  var say = function (key, kind) {
    status.textContent = box.dataset[key];
    status.className = base + " notice--" + (kind || "info");
  };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
    say("unsupported", "warning");
    box.hidden = true;
    return;
  }
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var done = false;
  var stream = null;
  var stop = function () {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
  };
  var tick = function () {
    if (done) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA && video.videoWidth) {
      // decode a scaled-down frame: fast enough on an inexpensive phone, plenty for a QR on paper or a screen
      var scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        if (accept.test(code.data)) {
          done = true;
          input.value = code.data;
          say("found", "success");
          stop();
          form.submit();
          return;
        }
        say("wrong", "warning");
      }
    }
    window.requestAnimationFrame(tick);
  };
  navigator.mediaDevices
    .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
    .then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    })
    .then(function () {
      say("looking");
      window.requestAnimationFrame(tick);
    })
    .catch(function () {
      say("denied", "warning");
      box.hidden = true;
    });
  window.addEventListener("pagehide", stop);
})();
