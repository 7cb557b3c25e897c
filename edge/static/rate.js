"use strict";
(function () {
  const root = document.getElementById("rate");
  const number = root.dataset.counter;
  const errorBox = document.getElementById("rate-error");
  let ticket = null, step = "idle";

  function show(name) {
    step = name;
    for (const s of root.querySelectorAll(".step")) s.classList.toggle("hidden", s.dataset.step !== name);
  }
  async function poll() {
    if (step !== "idle") return;
    const r = await api("GET", "/api/v1/counters/" + number + "/awaiting-rating");
    if (r.ticket) {
      ticket = r.ticket;
      document.getElementById("r-officer").textContent = ticket.officer || "";
      document.getElementById("r-number").textContent = ticket.number;
      errorBox.classList.add("hidden");
      show("ask");
    }
  }
  async function send(score, reason) {
    try {
      await api("POST", "/api/v1/ratings", {counter: Number(number), ticket: ticket.id, score: score, reason: reason || ""});
      show("thanks");
    } catch (err) {
      errorBox.textContent = err.message; errorBox.classList.remove("hidden");
      show("idle");
    }
    setTimeout(() => show("idle"), 4000);
  }
  root.addEventListener("click", (ev) => {
    const s = ev.target.closest("[data-score]");
    if (s) { if (s.dataset.score === "1") show("reason"); else send(Number(s.dataset.score)); return; }
    const r = ev.target.closest("[data-reason]");
    if (r) send(1, r.dataset.reason);
  });
  const loop = () => poll().catch(() => {}).finally(() => setTimeout(loop, 1500));
  loop();
})();
