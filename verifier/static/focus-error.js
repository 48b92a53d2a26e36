// Move focus to the error message so screen readers announce it after a failed submission.
(function () {
  "use strict";
  var e = document.getElementById("error");
  if (e) e.focus();
})();
