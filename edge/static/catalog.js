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
  // The kiosk: the list of documents goes to the ticket printer (there is no A4 printer at a kiosk).
  const checklist = document.getElementById("print-checklist");
  if (checklist && checklist.dataset.checklist) checklist.addEventListener("click", async () => {
    const status = document.getElementById("checklist-status");
    const meta = document.querySelector('meta[name="csrf-token"]');
    checklist.disabled = true;
    try {
      const response = await fetch(checklist.dataset.checklist, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": meta ? meta.content : ""}});
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || "Chưa in được danh sách.");
      status.textContent = data.printer_error
        ? "Máy in đang lỗi, chưa in được. Xin quý khách quét mã QR bên cạnh để xem trên điện thoại."
        : "Đang in danh sách. Xin nhận giấy ở khe ra phiếu của kiosk.";
      status.classList.toggle("bad", Boolean(data.printer_error));
    } catch (err) {
      status.textContent = err.message === "Failed to fetch" ? "Không kết nối được với máy chủ. Xin quét mã QR bên cạnh." : err.message;
      status.classList.add("bad");
    } finally { setTimeout(() => { checklist.disabled = false; }, 5000); }
  });
})();
