"use strict";
// The rating tablet: asks about the ticket its counter just finished. It keeps asking the box
// while a question is on screen and follows it: a newer finished ticket replaces the question at
// once, and the question goes away when nobody awaits a rating any more (the counter began
// serving the next citizen). Unanswered, the question and the reasons go away after
// ``data-timeout`` seconds, and that ticket is not asked about again on this screen.
(function () {
  const root = document.getElementById("rate");
  const number = root.dataset.counter;
  const timeoutMs = Math.max(Number(root.dataset.timeout) || 45, 1) * 1000;
  const errorBox = document.getElementById("rate-error");
  const settled = new Set();  // tickets answered or timed out here
  let ticket = null, step = "idle", idleTimer = null, sending = false;

  function show(name) {
    step = name;
    for (const s of root.querySelectorAll(".step")) s.classList.toggle("hidden", s.dataset.step !== name);
    clearTimeout(idleTimer);
    if (name === "ask" || name === "reason") idleTimer = setTimeout(timeOut, timeoutMs);
    else if (name === "thanks") idleTimer = setTimeout(() => show("idle"), 4000);
  }
  function timeOut() {
    if (ticket) settled.add(ticket.id);
    ticket = null;
    show("idle");
  }
  function ask(t) {
    ticket = t;
    document.getElementById("r-officer").textContent = t.officer || "";
    for (const n of root.querySelectorAll(".r-number")) n.textContent = t.number;
    errorBox.classList.add("hidden");
    show("ask");
  }
  async function poll() {
    if (sending || step === "thanks") return;
    const r = await api("GET", "/api/v1/counters/" + number + "/awaiting-rating");
    if (sending) return;
    const t = r.ticket && !settled.has(r.ticket.id) ? r.ticket : null;
    if (step === "idle") { if (t) ask(t); return; }
    // Asking: follow the counter. Another ticket finished -> ask about it; none -> stop asking.
    if (!t) { ticket = null; show("idle"); }
    else if (!ticket || t.id !== ticket.id) ask(t);
  }
  async function send(score, reason) {
    if (!ticket || sending) return;
    sending = true;
    const asked = ticket;
    try {
      await api("POST", "/api/v1/ratings", {counter: Number(number), ticket: asked.id, score: score, reason: reason || ""});
      settled.add(asked.id);
      ticket = null;
      show("thanks");
    } catch (err) {
      errorBox.textContent = err.message; errorBox.classList.remove("hidden");
      settled.add(asked.id);
      ticket = null;
      show("idle");
    } finally { sending = false; }
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
