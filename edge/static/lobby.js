"use strict";
(function () {
  const audio = document.getElementById("voice");
  const soundOn = document.getElementById("sound-on");
  let lastCallId = null, speaking = false;
  const pending = [];

  function callText(c) { return "Mời số " + c.number + " đến quầy số " + c.counter; }

  async function refreshBoard() {
    const q = await api("GET", "/api/v1/queue");
    document.getElementById("counters").replaceChildren(...q.counters.map((c) =>
      el("div", {class: "counter-tile card" + (c.open ? "" : " closed") + (c.state === "called" ? " calling" : ""), "data-counter": c.number},
        el("div", {class: "counter-label"}, c.label),
        el("div", {class: "counter-number"}, c.ticket || (c.open ? "—" : "Tạm nghỉ")))));
    document.getElementById("last-calls").replaceChildren(...q.calls.slice().reverse().map((c) =>
      el("li", {}, el("b", {}, c.number), " → Quầy " + c.counter)));
    document.getElementById("waiting").replaceChildren(...q.services.map((s) =>
      el("tr", {}, el("td", {}, s.name), el("td", {class: "num"}, String(s.waiting)), el("td", {class: "muted"}, s.waiting ? (s.estimated_wait_min == null ? "chưa mở quầy" : "~" + s.estimated_wait_min + " phút") : ""))));
  }

  async function pollCalls() {
    const data = await api("GET", "/api/v1/calls?after=" + encodeURIComponent(lastCallId || ""));
    if (lastCallId === null) {  // first load: show the latest, do not replay history aloud
      const last = data.calls[data.calls.length - 1];
      lastCallId = last ? last.id : "";
      if (last) document.getElementById("now-text").textContent = callText(last);
      return;
    }
    for (const c of data.calls) { if (c.id > lastCallId) lastCallId = c.id; pending.push(c); }
    if (data.calls.length) refreshBoard().catch(() => {});
    speakNext();
  }

  async function speakNext() {
    if (speaking || !pending.length) return;
    speaking = true;
    const call = pending.shift();
    const now = document.getElementById("now-text");
    now.textContent = callText(call);
    now.classList.remove("flash"); void now.offsetWidth; now.classList.add("flash");
    try {
      for (const clip of call.clips) await play(clip);
    } catch (err) {
      if (err && err.name === "NotAllowedError") soundOn.classList.remove("hidden");
    }
    speaking = false;
    speakNext();
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
  loop(refreshBoard, 3000);
  loop(pollCalls, 1000);
})();
