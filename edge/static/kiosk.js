"use strict";
(function () {
  const root = document.getElementById("kiosk");
  const resetAfter = Number(root.dataset.reset || 20) * 1000;
  const errorBox = document.getElementById("kiosk-error");
  let chosenService = null, idleTimer = null;

  function show(step) {
    for (const s of root.querySelectorAll(".step")) s.classList.toggle("hidden", s.dataset.step !== step);
    errorBox.classList.add("hidden");
    if (step === "track") { document.getElementById("track-code").value = ""; document.getElementById("track-code").focus(); document.getElementById("track-result").classList.add("hidden"); }
    armIdle(step);
  }
  function armIdle(step) {
    clearTimeout(idleTimer);
    if (step !== "start") idleTimer = setTimeout(() => show("start"), resetAfter);
  }
  function fail(err) { errorBox.textContent = err.message; errorBox.classList.remove("hidden"); }

  root.addEventListener("click", (ev) => {
    const go = ev.target.closest("[data-go]");
    if (go) show(go.dataset.go);
  });
  document.addEventListener("pointerdown", () => armIdle(currentStep()));
  document.addEventListener("keydown", () => armIdle(currentStep()));
  function currentStep() { const s = root.querySelector(".step:not(.hidden)"); return s ? s.dataset.step : "start"; }

  async function loadServices() {
    const [services, priorities] = await Promise.all([api("GET", "/api/v1/services"), api("GET", "/api/v1/priorities")]);
    const grid = document.getElementById("services");
    grid.replaceChildren(...services.map((s) => el("button", {class: "btn huge service", "data-service": s.code}, el("span", {class: "prefix"}, s.prefix), s.name)));
    const pgrid = document.getElementById("priorities");
    for (const p of priorities) pgrid.append(el("button", {class: "btn huge warn", "data-priority": p.code}, p.label));
  }
  document.getElementById("services").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-service]");
    if (!b) return;
    chosenService = b.dataset.service;
    show("priority");
  });
  document.getElementById("priorities").addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-priority]");
    if (!b || b.disabled) return;
    for (const x of document.querySelectorAll("#priorities button")) x.disabled = true;
    try {
      const t = await api("POST", "/api/v1/tickets", {service: chosenService, priority: b.dataset.priority || null});
      showTicket(t);
    } catch (err) { fail(err); }
    finally { for (const x of document.querySelectorAll("#priorities button")) x.disabled = false; }
  });
  function waitText(minutes) {
    return minutes >= 1 ? "Thời gian chờ dự kiến: khoảng " + minutes + " phút" : "Sắp đến lượt quý khách";
  }
  function showTicket(t) {
    document.getElementById("t-service").textContent = t.service_name;
    document.getElementById("t-number").textContent = t.number;
    const pr = document.getElementById("t-priority");
    pr.textContent = t.priority_label ? "Ưu tiên: " + t.priority_label : "";
    pr.classList.toggle("hidden", !t.priority_label);
    document.getElementById("t-ahead").textContent = t.ahead;
    document.getElementById("t-wait").textContent = waitText(t.estimated_wait_min);
    document.getElementById("t-code").textContent = t.tracking_code;
    document.getElementById("t-time").textContent = "Lấy số lúc " + t.issued_at_local;
    document.getElementById("t-qr").src = "/qr.svg?data=" + encodeURIComponent(t.qr);
    show("ticket");
  }
  const states = {issued: "Đang chờ đến lượt", called: "Đang được mời đến quầy", serving: "Đang được phục vụ", done: "Đã phục vụ xong", no_show: "Đã gọi nhưng vắng mặt", cancelled: "Đã huỷ"};
  document.getElementById("track-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const raw = document.getElementById("track-code").value.trim();
    const code = raw.includes("/t/") ? raw.split("/t/").pop() : raw;  // a scanned QR is the full URL
    const box = document.getElementById("track-result");
    if (!code) return;
    try {
      const t = await api("GET", "/api/v1/tickets/" + encodeURIComponent(code));
      box.replaceChildren(
        el("div", {class: "big-number"}, t.number),
        el("p", {}, t.service_name + " – " + (states[t.state] || t.state) + (t.counter ? " – Quầy số " + t.counter : "")),
        el("p", {}, t.state === "issued" ? "Số người chờ trước: " + t.ahead + " · " + waitText(t.estimated_wait_min) : ""));
      box.classList.remove("hidden");
      errorBox.classList.add("hidden");
    } catch (err) { box.classList.add("hidden"); fail(err); }
  });
  startClock("clock");
  loadServices().catch(fail);
  show("start");
})();
