// The counter's notice of a failing ticket printer, with “In lại” for the tickets it could not print.
// Asks /api/v1/printer (any signed-in officer) every few seconds; quiet while the printer prints.
"use strict";
(function () {
  const box = document.getElementById("printer-notice");
  if (!box) return;
  const PERIOD = 10000;
  async function refresh() {
    let state;
    try { state = await api("GET", "/api/v1/printer"); } catch (err) { return; }
    if (!state.error && !state.failed.length) { box.classList.add("hidden"); box.replaceChildren(); return; }
    const items = state.failed.map((j) => el("li", {}, "Số " + j.number + " chưa in được ",
      el("button", {type: "button", class: "btn compact", "data-reprint": String(j.id)}, "In lại số " + j.number)));
    box.replaceChildren(
      el("p", {}, el("b", {}, "Máy in phiếu đang lỗi: "), "người dân được báo ghi nhớ số hoặc chụp mã QR trên màn hình kiosk. ",
        "Kiểm tra giấy, nguồn, cáp máy in hoặc báo cán bộ kỹ thuật (bảng kỹ thuật ghi rõ lỗi)."),
      items.length ? el("ul", {}, ...items) : "");
    box.classList.remove("hidden");
  }
  box.addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-reprint]");
    if (!b) return;
    b.disabled = true;
    try { await api("POST", "/api/v1/print-jobs/" + b.dataset.reprint + "/reprint"); b.textContent = "Đã gửi lại máy in"; }
    catch (err) { b.textContent = err.message; }
    setTimeout(refresh, 3000);
  });
  refresh();
  setInterval(refresh, PERIOD);
})();
