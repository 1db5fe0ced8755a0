// The sign-in pop-up's last page: hands the one-time code to the card that opened it (same
// origin only) and closes. The code is useless without the card that trades it, once, for its
// session cookie.
(function () {
  "use strict";
  var main = document.getElementById("signed-in");
  var handoff = main && main.dataset.handoff;
  if (!handoff || !window.opener) return;
  window.opener.postMessage({ type: "copilot:signed-in", handoff: handoff }, window.location.origin);
  window.close();
})();
