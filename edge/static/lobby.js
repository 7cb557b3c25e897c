"use strict";
// The lobby TV: a SỐ → QUẦY board, a banner with the call being made, the last calls, the people
// waiting. The banner follows the box (/api/v1/queue "now"): a call whose ticket was finished,
// marked absent, transferred or is being served is cleared. New calls are said aloud in order.
(function () {
  const audio = document.getElementById("voice");
  const soundOn = document.getElementById("sound-on");
  const banner = document.getElementById("now");
  const nowText = document.getElementById("now-text");
  const IDLE = "Xin chào quý khách";
  let lastCallId = null, speaking = null, shown;
  const pending = [];

  function showCall(call, flash) {
    const key = call ? call.id : null;
    if (key === shown && !flash) return;
    shown = key;
    banner.classList.toggle("calling", !!call);
    banner.classList.toggle("recall", !!(call && call.recall));
    if (!call) { banner.classList.remove("flash"); nowText.replaceChildren(IDLE); return; }
    nowText.replaceChildren(call.recall ? "Mời lại số " : "Mời số ", el("span", {class: "now-num"}, call.number),
      " đến quầy số ", el("span", {class: "now-num"}, String(call.counter)));
    if (flash) { banner.classList.remove("flash"); void banner.offsetWidth; banner.classList.add("flash"); }
  }

  function withAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function counterRow(c) {
    const state = c.open ? (c.state === "called" ? " calling" : "") : " closed";
    const text = c.ticket || (c.open ? "—" : "Tạm nghỉ");
    return el("li", {class: "board-row" + state, "data-counter": c.number},
      el("span", {class: "counter-number"}, text),
      withAttrs(el("span", {class: "board-arrow"}, "→"), {"aria-hidden": "true"}),
      el("span", {class: "board-counter"}, el("span", {class: "sr-only"}, "Quầy số "), String(c.number)));
  }

  function overflows(node) { return node.scrollHeight > node.clientHeight + 1; }

  function fitSide(last, waiting) {
    // The TV cannot scroll: fewer recent calls (down to one), then no rows of services nobody
    // waits for, rather than smaller letters.
    const [callsBox, waitingBox] = document.querySelectorAll(".tv-side > section");
    const tooBig = () => overflows(callsBox) || overflows(waitingBox);
    while (tooBig() && last.children.length > 1) last.lastElementChild.remove();
    const empty = [...waiting.querySelectorAll("tr.empty")];
    while (tooBig() && empty.length) empty.pop().remove();
  }

  function stillCalled(call, counters) {
    return counters.some((c) => c.number === call.counter && c.ticket === call.number && c.state === "called");
  }

  function fitBoard(rows, count) {
    // Numbers as large as the rows allow: 170 px for up to 3 counters, 150 px for 4, less for more.
    const gap = 10, height = rows.clientHeight - gap * (count - 1);
    const size = Math.max(60, Math.min(170, Math.floor(height / Math.max(count, 3) * 0.92)));
    rows.style.setProperty("--num", size + "px");
  }

  async function refreshBoard() {
    const asked = performance.now();
    const q = await api("GET", "/api/v1/queue");
    const rows = document.getElementById("counters");
    rows.replaceChildren(...q.counters.map(counterRow));
    fitBoard(rows, q.counters.length);
    const seen = new Set(), recent = [];
    for (const c of q.calls.slice().reverse()) {
      if (seen.has(c.number)) continue;
      seen.add(c.number);
      recent.push(c);
    }
    const last = document.getElementById("last-calls");
    last.replaceChildren(...recent.slice(0, 3).map((c) =>
      el("li", {}, el("b", {}, c.number), " → " + c.counter, c.recall ? el("span", {class: "again"}, "Mời lại") : "")));
    if (!recent.length) last.replaceChildren(el("li", {class: "none"}, "Chưa gọi số nào hôm nay"));
    const waiting = document.querySelector("#waiting tbody");
    waiting.replaceChildren(...q.services.map((s) =>
      el("tr", {class: s.waiting ? "" : "empty"}, el("td", {class: "prefix"}, s.prefix), el("td", {class: "name"}, s.name),
        el("td", {class: "num"}, String(s.waiting)))));
    fitSide(last, waiting);
    // A call being said whose citizen arrived, or left the queue, is not said to the end.
    if (speaking && asked > speaking.since && !stillCalled(speaking, q.counters)) stopSpeaking();
    if (!speaking || speaking.stopped) showCall(q.now, false);
  }

  async function pollCalls() {
    const data = await api("GET", "/api/v1/calls?after=" + encodeURIComponent(lastCallId || ""));
    if (lastCallId === null) {  // first load: history is not said aloud; the board shows what is open
      const last = data.calls[data.calls.length - 1];
      lastCallId = last ? last.id : "";
      return;
    }
    for (const c of data.calls) { if (c.id > lastCallId) lastCallId = c.id; pending.push(c); }
    if (data.calls.length) refreshBoard().catch(() => {});
    speakNext();
  }

  async function speakNext() {
    if (speaking || !pending.length) return;
    const call = speaking = pending.shift();
    call.since = performance.now();
    showCall(call, true);
    try {
      for (const clip of call.clips) { if (call.stopped) break; await play(clip); }
    } catch (err) {
      if (err && err.name === "NotAllowedError") soundOn.classList.remove("hidden");
    }
    speaking = null;
    refreshBoard().catch(() => {});  // the call may be over already: the board says so
    speakNext();
  }

  function stopSpeaking() {
    speaking.stopped = true;
    audio.pause();
    if (audio.onended) audio.onended();
  }

  function play(src) {
    return new Promise((resolve, reject) => {
      audio.onended = resolve;
      audio.onerror = resolve;  // a missing clip must not stop the rest of the call
      audio.src = src;
      audio.play().catch(reject);
    });
  }

  soundOn.addEventListener("click", () => { soundOn.classList.add("hidden"); audio.play().catch(() => {}); });

  function loop(fn, ms) {
    const run = () => fn().catch(() => {}).finally(() => setTimeout(run, ms));
    run();
  }
  startClock("clock");
  loop(refreshBoard, 2000);
  loop(pollCalls, 1000);
})();
