// Pages of the catalog (procedure, printable form): the print button, and on the kiosk the way
// back to its start screen when nobody touches it.
"use strict";
(function () {
  const main = document.getElementById("reading");
  if (main && main.dataset.reset) {
    const after = Number(main.dataset.reset) * 1000;
    let timer = null;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { location.href = main.dataset.home || "/kiosk"; }, after); };
    for (const ev of ["pointerdown", "keydown", "scroll", "wheel", "touchmove"]) document.addEventListener(ev, arm, {passive: true});
    arm();
  }
  for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => window.print());
})();
