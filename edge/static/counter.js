"use strict";
(function () {
  const login = document.getElementById("login");
  if (login) {
    login.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = new FormData(login);
      try {
        await api("POST", "/api/v1/session", {username: f.get("username"), password: f.get("password"), counter: f.get("counter")});
        location.reload();
      } catch (err) {
        const box = document.getElementById("login-error");
        box.textContent = err.message; box.classList.remove("hidden");
      }
    });
    return;
  }
  const consoleRoot = document.getElementById("console");
  const number = consoleRoot.dataset.counter;
  const errorBox = document.getElementById("console-error");
  const transferForm = document.getElementById("transfer-form");
  const labels = {called: "Đã mời, đang chờ công dân đến quầy", serving: "Đang phục vụ"};
  let busy = false;

  async function refresh() {
    const s = await api("GET", "/api/v1/counters/" + number);
    const cur = s.current;
    document.getElementById("current-number").textContent = cur ? cur.number : "—";
    document.getElementById("current-info").textContent = cur ? cur.service + " · " + labels[cur.state] + (cur.priority ? " · Ưu tiên" : "") : "Chưa gọi số nào";
    document.getElementById("waiting-count").textContent = s.waiting.length;
    document.getElementById("waiting-list").replaceChildren(...s.waiting.map((t) =>
      el("tr", {}, el("td", {}, el("b", {}, t.number)), el("td", {}, t.service),
        el("td", {class: "muted"}, [t.priority ? "Ưu tiên" : "", t.transfers ? "Chuyển đến" : ""].filter(Boolean).join(", ")))));
  }
  async function act(action, body) {
    if (busy) return;
    busy = true;
    errorBox.classList.add("hidden");
    try {
      const r = await api("POST", "/api/v1/counters/" + number + "/" + action, body);
      if (action === "next" && !r.ticket) { errorBox.textContent = "Không còn ai đang chờ."; errorBox.classList.remove("hidden"); }
      await refresh();
    } catch (err) { errorBox.textContent = err.message; errorBox.classList.remove("hidden"); }
    finally { busy = false; }
  }
  consoleRoot.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-action]");
    if (!b) return;
    if (b.dataset.action === "transfer") { transferForm.classList.toggle("hidden"); return; }
    act(b.dataset.action);
  });
  transferForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    transferForm.classList.add("hidden");
    act("transfer", {service: document.getElementById("transfer-service").value, counter: document.getElementById("transfer-counter").value});
  });
  document.getElementById("transfer-cancel").addEventListener("click", () => transferForm.classList.add("hidden"));
  const keys = {n: "next", r: "recall", s: "start", v: "no-show", f: "finish"};
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, select, textarea") || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    const k = ev.key.toLowerCase();
    if (k === "t") { transferForm.classList.toggle("hidden"); return; }
    if (keys[k]) { ev.preventDefault(); act(keys[k]); }
  });
  document.getElementById("logout").addEventListener("click", async () => { await api("DELETE", "/api/v1/session"); location.reload(); });
  const loop = () => refresh().catch(() => {}).finally(() => setTimeout(loop, 3000));
  loop();
})();
