// The wallet's camera: getUserMedia + the bundled jsQR (web/static/jsQR.js); the first QR holding an
// employer's request (openid4vp://...) opens the consent page for it. Nothing leaves the phone but the link.
(function () {
  "use strict";
  var box = document.getElementById("scanner");
  var video = document.getElementById("camera");
  var canvas = document.getElementById("frame");
  var status = document.getElementById("scan-status");
  var form = document.getElementById("scan-form");
  var input = document.getElementById("request");
  if (!box || !video || !canvas || !form || !input) return;
  var say = function (key, kind) {
    status.textContent = box.dataset[key];
    status.className = "notice notice--" + (kind || "info");
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
      // a scaled-down frame: fast enough on an inexpensive phone, plenty for a QR on a screen
      var scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        if (/^openid4vp:\/\//i.test(code.data)) {
          done = true;
          input.value = code.data;
          say("found", "success");
          stop();
          form.submit();
          return;
        }
        say("notRequest", "warning");
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
