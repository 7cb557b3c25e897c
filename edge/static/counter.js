"use strict";
// The counter console: only the actions valid for the ticket in hand are enabled (buttons and
// keys); marking a citizen absent (also by calling the next number) waits a few seconds for an
// undo; every action says what it did; an officer whose counter was taken is told so.
(function () {
  const login = document.getElementById("login");
  if (login) { setUpLogin(login); return; }

  const consoleRoot = document.getElementById("console");
  const number = consoleRoot.dataset.counter;
  const undoSeconds = Math.max(Number(consoleRoot.dataset.undo) || 0, 0);
  const errorBox = document.getElementById("console-error");
  const statusLine = document.getElementById("console-status");
  const transferForm = document.getElementById("transfer-form");
  const pendingBox = document.getElementById("pending");
  const buttons = {};
  for (const b of consoleRoot.querySelectorAll("[data-action]")) buttons[b.dataset.action] = b;
  const labels = {called: "Đã mời, đang chờ công dân đến quầy", serving: "Đang phục vụ"};
  const keys = {n: "next", r: "recall", s: "start", v: "no-show", t: "transfer", f: "finish"};
  let state = null, busy = false, pending = null, lost = false;

  function allowed(action) {
    if (!state || busy || pending || lost) return false;
    const cur = state.current, waiting = state.waiting.length > 0;
    switch (action) {
      case "next": return waiting && (!cur || cur.state === "called" || cur.state === "serving");
      case "recall": case "start": case "no-show": return !!cur && cur.state === "called";
      case "finish": return !!cur && cur.state === "serving";
      case "transfer": return !!cur;
    }
    return false;
  }
  function render() {
    for (const [action, b] of Object.entries(buttons)) b.disabled = !allowed(action);
    if (!allowed("transfer")) closeTransfer();
  }
  function waitText(minutes) { return minutes < 1 ? "mới đến" : minutes + " phút"; }

  async function refresh() {
    const s = await api("GET", "/api/v1/counters/" + number);
    state = s;
    if (!s.mine) showLost(s);
    const cur = s.current;
    document.getElementById("current-number").textContent = cur ? cur.number : "—";
    document.getElementById("current-info").textContent = cur ? cur.service + " · " + labels[cur.state] + (cur.priority ? " · Ưu tiên" : "") : "Chưa gọi số nào";
    document.getElementById("waiting-count").textContent = s.waiting.length;
    document.getElementById("waiting-list").replaceChildren(...s.waiting.map((t) =>
      el("tr", {}, el("td", {}, el("b", {}, t.number)), el("td", {}, t.service),
        el("td", {class: t.waited_minutes >= 30 ? "wait long" : "wait"}, waitText(t.waited_minutes)),
        el("td", {}, [t.priority ? "Ưu tiên" : "", t.transfers ? "Chuyển đến" : ""].filter(Boolean).join(", ")))));
    render();
  }
  function showLost(s) {
    lost = true;
    document.getElementById("lost-text").textContent = s.officer
      ? "Cán bộ " + s.officer + " đã nhận " + s.label + (s.officer_since ? " lúc " + s.officer_since : "") + ". Bạn không còn làm việc tại quầy này; các nút đã bị khoá."
      : s.label + " đã đăng xuất. Bạn không còn làm việc tại quầy này; các nút đã bị khoá.";
    document.getElementById("lost").classList.remove("hidden");
    cancelPending(false);
  }
  function say(text) {
    const time = new Date().toLocaleTimeString("vi-VN", {timeZone: document.body.dataset.tz || undefined, hour: "2-digit", minute: "2-digit"});
    statusLine.textContent = time + " · " + text;
  }
  function minutes(n) { return n === null || n === undefined ? "" : " (phục vụ " + (n < 1 ? "dưới 1 phút" : n + " phút") + ")"; }
  function describe(action, r, before) {
    const t = r.ticket;
    switch (action) {
      case "next": {
        let text = "";
        if (r.closed) text = r.closed.state === "no_show" ? "Đã ghi số " + r.closed.number + " vắng mặt. "
          : "Đã hoàn thành số " + r.closed.number + minutes(r.closed.served_minutes) + ". ";
        return text + (t ? "Đã mời số " + t.number + "." : "Không còn ai đang chờ.");
      }
      case "recall": return "Đã gọi lại số " + t.number + " (lần " + t.recalls + ").";
      case "start": return "Bắt đầu phục vụ số " + t.number + ".";
      case "no-show": return "Đã ghi số " + t.number + " vắng mặt.";
      case "finish": return "Đã hoàn thành số " + t.number + minutes(t.served_minutes) + ".";
      case "transfer": return "Đã chuyển số " + t.number + (t.target_counter ? " đến " + t.target_counter : "") +
        (before && before.service !== t.service ? " sang dịch vụ " + t.service : (t.target_counter ? "" : " về hàng chờ " + t.service)) + ".";
    }
    return "";
  }
  async function act(action, body) {
    if (busy) return;
    busy = true; render();
    errorBox.classList.add("hidden");
    const before = state && state.current;
    try {
      const r = await api("POST", "/api/v1/counters/" + number + "/" + action, body);
      say(describe(action, r, before));
    } catch (err) { errorBox.textContent = err.message; errorBox.classList.remove("hidden"); }
    finally { busy = false; }
    await refresh().catch(() => {});
  }

  // Absent, and "next" while the citizen called has not come (which marks them absent), are
  // recorded after a few seconds unless undone: a slip of the hand changes no record.
  function later(action, body, text) {
    if (undoSeconds <= 0) { act(action, body); return; }
    const deadline = Date.now() + undoSeconds * 1000;
    const tick = () => {
      const left = Math.max(Math.ceil((deadline - Date.now()) / 1000), 0);
      document.getElementById("pending-text").textContent = text + " sau " + left + " giây.";
      if (left <= 0) { const p = pending; cancelPending(false); act(p.action, p.body); }
    };
    pending = {action, body, timer: setInterval(tick, 250)};
    errorBox.classList.add("hidden");
    tick();
    pendingBox.classList.remove("hidden");
    document.getElementById("undo").focus();
    render();
  }
  function cancelPending(undone) {
    if (!pending) return;
    clearInterval(pending.timer);
    pending = null;
    pendingBox.classList.add("hidden");
    if (undone) say("Đã hoàn tác: chưa ghi gì, số " + (state.current ? state.current.number : "") + " vẫn đang được mời.");
    render();
  }
  function trigger(action) {
    if (!allowed(action)) return;
    const cur = state.current;
    if (action === "transfer") { openTransfer(); return; }
    if (action === "no-show") { later("no-show", undefined, "Số " + cur.number + " sẽ được ghi vắng mặt"); return; }
    if (action === "next" && cur && cur.state === "called") {
      later("next", {absent: true}, "Số " + cur.number + " chưa đến quầy: sẽ ghi vắng mặt và mời số tiếp");
      return;
    }
    act(action);
  }
  function openTransfer() {
    document.getElementById("transfer-number").textContent = state.current.number;
    transferForm.classList.remove("hidden");
    buttons.transfer.setAttribute("aria-expanded", "true");
    transferForm.scrollIntoView({block: "nearest"});
    document.getElementById("transfer-service").focus();
  }
  function closeTransfer() {
    transferForm.classList.add("hidden");
    buttons.transfer.setAttribute("aria-expanded", "false");
  }

  consoleRoot.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-action]");
    if (b) trigger(b.dataset.action);
  });
  document.getElementById("undo").addEventListener("click", () => cancelPending(true));
  transferForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    closeTransfer();
    act("transfer", {service: document.getElementById("transfer-service").value, counter: document.getElementById("transfer-counter").value});
  });
  document.getElementById("transfer-cancel").addEventListener("click", () => { closeTransfer(); buttons.transfer.focus(); });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      if (pending) { ev.preventDefault(); cancelPending(true); return; }
      if (!transferForm.classList.contains("hidden")) { ev.preventDefault(); closeTransfer(); return; }
    }
    if (ev.target.closest("input, select, textarea") || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const action = keys[ev.key.toLowerCase()];
    if (action) { ev.preventDefault(); trigger(action); }
  });
  document.getElementById("logout").addEventListener("click", async () => { await api("DELETE", "/api/v1/session"); location.reload(); });
  const loop = () => refresh().catch(() => {}).finally(() => setTimeout(loop, 3000));
  loop();

  function setUpLogin(form) {
    const errorBox = document.getElementById("login-error");
    const takeover = document.getElementById("takeover");
    async function signIn(takeOver) {
      const f = new FormData(form);
      errorBox.classList.add("hidden");
      const body = {username: f.get("username"), password: f.get("password"), counter: f.get("counter"), take_over: takeOver};
      let response, data = null;
      try {
        response = await fetch("/api/v1/session", {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()}, body: JSON.stringify(body)});
        data = await response.json().catch(() => null);
      } catch (e) {
        data = {error: "Không kết nối được với máy chủ của bộ phận một cửa."};
      }
      if (response && response.ok) { location.reload(); return; }
      if (response && response.status === 409 && data && data.detail && data.detail.occupied_by) {
        document.getElementById("takeover-text").textContent = data.error;
        takeover.classList.remove("hidden");
        document.getElementById("login-submit").classList.add("hidden");
        document.getElementById("takeover-no").focus();
        return;
      }
      errorBox.textContent = (data && data.error) || "Có lỗi xảy ra (" + (response ? response.status : "") + ").";
      errorBox.classList.remove("hidden");
    }
    function closeTakeover() {
      takeover.classList.add("hidden");
      document.getElementById("login-submit").classList.remove("hidden");
    }
    form.addEventListener("submit", (ev) => { ev.preventDefault(); signIn(false); });
    document.getElementById("takeover-yes").addEventListener("click", () => signIn(true));
    document.getElementById("takeover-no").addEventListener("click", () => { closeTakeover(); document.getElementById("counter-no").focus(); });
    document.getElementById("counter-no").addEventListener("change", closeTakeover);
  }
})();
