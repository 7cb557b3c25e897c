// Reloads a page that shows something still changing (a dossier's or a ticket's progress) every
// data-refresh seconds while it is on screen; the button pauses it (WCAG 2.2.1). Without scripts,
// the page's <noscript> meta refresh does the same.
(function () {
  "use strict";
  var holder = document.querySelector("[data-refresh]");
  if (!holder) { return; }
  var seconds = parseInt(holder.getAttribute("data-refresh"), 10) || 60;
  var button = document.getElementById("refresh-toggle");
  var paused = false;
  var timer = null;

  function arm() {
    clearTimeout(timer);
    if (paused) { return; }
    timer = setTimeout(function () {
      if (document.visibilityState === "visible") { window.location.reload(); } else { arm(); }
    }, seconds * 1000);
  }

  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      paused = !paused;
      button.textContent = paused ? "Bật lại tự cập nhật" : "Tạm dừng tự cập nhật";
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      arm();
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { arm(); }
  });
  arm();
}());
