// The kiosk: take a number, look up procedures, track a dossier or a ticket, local information.
// One page of steps (sections); it goes back to the start by itself when nobody touches it.
// Everything shown from the server goes through el(): text nodes, never HTML.
"use strict";
(function () {
  const root = document.getElementById("kiosk");
  const resetAfter = Number(root.dataset.reset || 20) * 1000;
  const errorBox = document.getElementById("kiosk-error");
  const $ = (id) => document.getElementById(id);
  const DOSSIER_CODE = /^[0-9A-Za-z.]+-\d{6}-\d{3,}$/;
  const TICKET_CODE = /^[0-9A-Za-z]{4,16}$/;
  const SAVED = "kiosk-procedures";  // the search, kept while the citizen reads a procedure's page
  const askPhone = root.dataset.askPhone === "1";
  let chosenService = null, chosenPriority = null, idleTimer = null, issuing = !$("take-number").classList.contains("closed");
  let printWatch = null;

  // ---- steps -------------------------------------------------------------------------------
  const onEnter = {
    start: clearAll,
    track() { $("track-code").value = ""; $("track-code").focus(); $("track-result").classList.add("hidden"); keyboardOf("track-code", true); },
    procedures() { $("proc-q").focus(); searchProcedures(); },
    dossier() { $("dossier-code").value = ""; $("dossier-result").classList.add("hidden"); $("dossier-code").focus(); keyboardOf("dossier-code", true); },
    places() { searchPlaces(); },
    services() { refreshOpening(); loadServices().catch(fail); },
    phone() { $("phone").value = ""; },
    booking() { $("booking-code").value = ""; $("booking-code").focus(); keyboardOf("booking-code", true); },
  };

  function show(step) {
    for (const s of root.querySelectorAll(".step")) s.classList.toggle("hidden", s.dataset.step !== step);
    errorBox.classList.add("hidden");
    if (onEnter[step]) onEnter[step]();
    armIdle(step);
    window.scrollTo(0, 0);
  }
  function armIdle(step) {
    clearTimeout(idleTimer);
    if (step !== "start") idleTimer = setTimeout(() => show("start"), resetAfter);
  }
  function currentStep() { const s = root.querySelector(".step:not(.hidden)"); return s ? s.dataset.step : "start"; }
  function fail(err) {
    const section = root.querySelector(".step:not(.hidden)");
    if (section) {  // next to what the citizen looks at: under the form they used
      const form = section.querySelector("form");
      if (form) form.after(errorBox); else section.insertBefore(errorBox, section.querySelector(".back"));
    }
    errorBox.textContent = err.message;
    errorBox.classList.remove("hidden");
  }
  function clearError() { errorBox.classList.add("hidden"); }
  function clearAll() {
    for (const id of ["proc-q", "place-q", "dossier-code", "track-code", "phone", "booking-code"]) $(id).value = "";
    procField = ""; placeCategory = "";
    for (const id of ["proc-results", "place-results", "proc-fields", "place-cats"]) $(id).replaceChildren();
    for (const id of ["proc-count", "place-count"]) $(id).textContent = "";
    for (const id of ["dossier-result", "track-result"]) $(id).classList.add("hidden");
    sessionStorage.removeItem(SAVED);
    if (location.search) history.replaceState(null, "", location.pathname);
  }

  root.addEventListener("click", (ev) => {
    const go = ev.target.closest("[data-go]");
    if (go) show(go.dataset.go);
  });
  document.addEventListener("pointerdown", () => armIdle(currentStep()));

  // ---- the on-screen keyboard (no diacritics: the search forgives them) ---------------------
  const ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM./"];
  function keyboard(holder) {
    const input = $(holder.dataset.for);
    const upper = holder.dataset.case === "upper";
    const key = (k, label, cls) => el("button", {type: "button", class: "key" + (cls ? " " + cls : ""), "data-key": k}, label);
    for (const row of ROWS) {
      holder.append(el("div", {class: "osk-row"}, ...[...row].map((c) => key(c, upper ? c : c.toLowerCase()))));
    }
    holder.append(el("div", {class: "osk-row"}, key("clear", "Xoá hết", "wide"), key("space", "Dấu cách", "space"),
                     key("back", "Xoá", "wide")));
    holder.addEventListener("pointerdown", (ev) => { if (ev.target.closest(".key")) ev.preventDefault(); });  // keep the caret
    holder.addEventListener("click", (ev) => {
      const k = ev.target.closest("[data-key]");
      if (!k) return;
      const v = k.dataset.key;
      if (v === "back") input.value = input.value.slice(0, -1);
      else if (v === "clear") input.value = "";
      else if (v === "space") input.value += input.value.endsWith(" ") || !input.value ? "" : " ";
      else if (input.value.length < input.maxLength || input.maxLength < 0) input.value += upper ? v : v.toLowerCase();
      input.dispatchEvent(new Event("input", {bubbles: true}));
    });
    for (const ev of ["focus", "pointerdown"]) input.addEventListener(ev, () => holder.classList.remove("hidden"));
  }
  function keyboardOf(inputId, shown) {  // a found result takes the keyboard's place until the input is touched
    root.querySelector(`.osk[data-for="${inputId}"]`).classList.toggle("hidden", !shown);
  }
  for (const holder of root.querySelectorAll(".osk")) keyboard(holder);
  function debounce(fn, ms) { let t = null; return () => { clearTimeout(t); t = setTimeout(fn, ms); }; }

  // ---- is the office open? (the server refuses a number outside hours too) -----------------
  function applyOpening(o) {
    issuing = o.issuing;
    $("closed-banner").classList.toggle("hidden", o.issuing && !o.message);
    $("closed-banner").querySelector("b").textContent = o.issuing ? "Các quầy chưa làm việc" : "Kiosk tạm ngừng phát số";
    $("closed-text").textContent = o.message;
    $("take-number").classList.toggle("closed", !o.issuing);
    $("take-number-sub").textContent = o.issuing ? "Nhận số để được phục vụ tại quầy" : "Ngoài giờ làm việc: chưa phát số";
    if (!o.issuing && ["services", "priority", "phone"].includes(currentStep())) show("start");
  }
  async function refreshOpening() {
    try { applyOpening(await api("GET", "/api/v1/opening")); } catch (ignored) { /* keep the last state */ }
  }
  setInterval(refreshOpening, 30000);

  // ---- take a number -----------------------------------------------------------------------
  function serviceMeta(s) {
    if (!s.open_counters) return "Chưa có quầy nào mở cho lĩnh vực này" + (s.waiting ? " · " + s.waiting + " người đang chờ" : "");
    const people = s.waiting ? s.waiting + " người đang chờ" : "Không có ai đang chờ";
    return people + (s.waiting && s.estimated_wait_min >= 1 ? " · chờ khoảng " + s.estimated_wait_min + " phút" : "");
  }
  async function loadServices() {
    const services = await api("GET", "/api/v1/services");
    $("services").replaceChildren(...services.map((s) => el("button", {class: "btn huge service" + (s.open_counters ? "" : " none-open"), "data-service": s.code},
      el("span", {class: "svc-name"}, el("span", {class: "prefix"}, s.prefix), s.name),
      el("span", {class: "svc-meta"}, serviceMeta(s)))));
  }
  async function loadPriorities() {
    const priorities = await api("GET", "/api/v1/priorities");
    const pgrid = $("priorities");
    for (const p of priorities) {
      const picture = $("pictogram-" + p.code) || $("pictogram-other");
      pgrid.append(el("button", {class: "btn huge priority", "data-priority": p.code}, picture.content.cloneNode(true), el("span", {}, p.label)));
    }
  }
  $("take-number").addEventListener("click", (ev) => {  // closed: stay, the banner says when it opens
    if (!issuing) { ev.stopPropagation(); refreshOpening(); $("closed-banner").scrollIntoView({block: "nearest"}); }
  }, true);
  $("services").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-service]");
    if (!b) return;
    chosenService = b.dataset.service;
    show("priority");
  });
  $("priorities").addEventListener("click", async (ev) => {
    const b = ev.target.closest("[data-priority]");
    if (!b || b.disabled) return;
    chosenPriority = b.dataset.priority || null;
    if (askPhone) show("phone"); else issue(null, "#priorities button");
  });
  async function issue(phone, buttons) {
    for (const x of document.querySelectorAll(buttons)) x.disabled = true;
    try {
      const t = await api("POST", "/api/v1/tickets", {service: chosenService, priority: chosenPriority, phone});
      $("phone").value = "";  // the next citizen never sees it
      showTicket(t);
    } catch (err) { fail(err); refreshOpening(); }
    finally { for (const x of document.querySelectorAll(buttons)) x.disabled = false; }
  }
  // the phone number: digits only, from the on-screen pad
  for (const d of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "clear"]) {
    $("digits").append(el("button", {type: "button", class: "key" + (d.length > 1 ? " wide" : ""), "data-digit": d}, d === "back" ? "Xoá" : d === "clear" ? "Xoá hết" : d));
  }
  $("digits").addEventListener("pointerdown", (ev) => { if (ev.target.closest(".key")) ev.preventDefault(); });
  $("digits").addEventListener("click", (ev) => {
    const k = ev.target.closest("[data-digit]");
    if (!k) return;
    const input = $("phone"), d = k.dataset.digit;
    if (d === "back") input.value = input.value.slice(0, -1);
    else if (d === "clear") input.value = "";
    else if (input.value.length < input.maxLength) input.value += d;
  });
  $("phone").addEventListener("input", () => { $("phone").value = $("phone").value.replace(/\D/g, ""); });
  $("phone-form").addEventListener("submit", (ev) => { ev.preventDefault(); $("phone-yes").click(); });
  $("phone-yes").addEventListener("click", () => {
    const digits = $("phone").value.replace(/\D/g, "");
    if (digits.length < 9) { fail(new Error("Xin nhập đủ số điện thoại (10 chữ số), hoặc chọn “Không cần tin nhắn”.")); return; }
    issue(digits, ".phone-actions button");
  });
  $("phone-no").addEventListener("click", () => issue(null, ".phone-actions button"));
  function waitText(minutes, ahead) {
    if (minutes === null || minutes === undefined) return "Chưa có quầy nào đang mở cho lĩnh vực này; thời gian chờ chưa ước tính được.";
    if (minutes >= 1) return "Thời gian chờ dự kiến: khoảng " + minutes + " phút";
    return ahead ? "Thời gian chờ dự kiến: dưới 1 phút" : "Sắp đến lượt quý khách";
  }
  function showTicket(t) {
    $("t-service").textContent = t.service_name;
    $("t-number").textContent = t.number;
    const pr = $("t-priority");
    pr.textContent = t.priority_label ? "Ưu tiên: " + t.priority_label : "";
    pr.classList.toggle("hidden", !t.priority_label);
    const bk = $("t-booking");
    bk.textContent = t.booking ? "Có lịch hẹn lúc " + t.booking.slot + ": được mời trước người không đặt lịch" : "";
    bk.classList.toggle("hidden", !t.booking);
    $("t-ahead").textContent = t.ahead;
    $("t-wait").textContent = waitText(t.estimated_wait_min, t.ahead);
    $("t-opens").textContent = $("closed-text").textContent;
    $("t-opens").classList.toggle("hidden", $("closed-banner").classList.contains("hidden"));
    $("t-code").textContent = t.tracking_code;
    $("t-time").textContent = "Lấy số lúc " + t.issued_at_local;
    $("t-qr").src = "/qr.svg?data=" + encodeURIComponent(t.qr);
    show("ticket");
    watchPrint(t);
  }
  // What the printer does with the ticket, told at once: a broken printer is known from the
  // issuing answer (its last job failed) or from the first attempt at this one.
  const PRINT_CHECKS = 20, PRINT_EVERY = 700;
  function printState(text, kind) {
    const line = $("t-print");
    line.textContent = text;
    line.className = "print-state" + (kind ? " " + kind : "");
  }
  function printFailed(number) {
    printState("Máy in đang lỗi — xin ghi nhớ số " + number + " hoặc chụp mã QR trên màn hình này. Cán bộ tại quầy đã được báo.", "bad");
  }
  function watchPrint(t) {
    clearTimeout(printWatch);
    if (t.printer_error) { printFailed(t.number); }
    else printState("Phiếu đang được in… Nếu không nhận được phiếu, xin ghi nhớ số " + t.number + " hoặc chụp mã QR.", "");
    let checks = 0;
    const check = async () => {
      if (currentStep() !== "ticket" || $("t-number").textContent !== t.number) return;
      try {
        const p = await api("GET", "/api/v1/tickets/" + encodeURIComponent(t.tracking_code) + "/print");
        if (p.state === "printed") { printState("Đã in xong phiếu. Xin nhận phiếu ở khe ra phiếu.", "ok"); return; }
        if (p.state === "failed" || p.state === "retrying") { printFailed(t.number); }
      } catch (ignored) { /* the next check */ }
      if (++checks < PRINT_CHECKS) printWatch = setTimeout(check, PRINT_EVERY);
    };
    printWatch = setTimeout(check, 300);
  }

  // ---- a booking made online: its code (typed or scanned) gives a ticket ---------------------
  const BOOKING_QR = "DATLICH:";
  async function honourBooking(raw) {
    const code = raw.trim();
    if (!code) return;
    const button = $("booking-go");
    button.disabled = true;
    try {
      const t = await api("POST", "/api/v1/bookings/ticket", {code});
      $("booking-code").value = "";
      showTicket(t);
    } catch (err) { fail(err); refreshOpening(); }
    finally { button.disabled = false; }
  }
  $("booking-form").addEventListener("submit", (ev) => { ev.preventDefault(); honourBooking($("booking-code").value); });

  // ---- a ticket by its code ----------------------------------------------------------------
  const states = {issued: "Đang chờ đến lượt", called: "Đang được mời đến quầy", serving: "Đang được phục vụ", done: "Đã phục vụ xong", no_show: "Đã gọi nhưng vắng mặt", cancelled: "Đã huỷ"};
  function ticketView(t) {
    return [
      el("div", {class: "big-number"}, t.number),
      el("p", {}, t.service_name + " – " + (states[t.state] || t.state) + (t.counter ? " – Quầy số " + t.counter : "")),
      el("p", {}, t.state === "issued" ? "Số người chờ trước: " + t.ahead + " · " + waitText(t.estimated_wait_min, t.ahead) : "")];
  }
  // Tracking codes have no O, I, L (Crockford): typed by mistake, they are 0, 1, 1.
  const readable = (code) => code.toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  async function lookupTicket(raw) {
    const code = readable(raw.includes("/t/") ? raw.split("/t/").pop() : raw);  // a scanned QR is the full URL
    const box = $("track-result");
    if (!code) return;
    try {
      const t = await api("GET", "/api/v1/tickets/" + encodeURIComponent(code));
      box.replaceChildren(...ticketView(t));
      box.classList.remove("hidden");
      keyboardOf("track-code", false);
      clearError();
    } catch (err) { box.classList.add("hidden"); fail(err); }
  }
  $("track-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookupTicket($("track-code").value.trim());
  });

  // ---- a dossier by its code (typed, or scanned from the appointment slip) ------------------
  function dossierCode(raw) {  // {code, secret}: a scanned slip's QR code is the tracking page's URL
    const m = raw.match(/[?&]code=([^&#]+)/);
    if (m) {
      const s = raw.match(/[?&]secret=([^&#]+)/);
      return {code: decodeURIComponent(m[1].replace(/\+/g, " ")).trim(), secret: s ? decodeURIComponent(s[1]) : ""};
    }
    const words = raw.trim().split(/\s+/);  // typed: the code, then the secret of the slip
    return words.length > 1 ? {code: words.slice(0, -1).join(""), secret: words[words.length - 1]} : {code: raw.trim(), secret: ""};
  }
  async function lookupDossier(raw) {
    const {code, secret} = dossierCode(raw);
    const box = $("dossier-result");
    box.classList.add("hidden");
    clearError();
    if (!code) return;
    try {
      const d = await api("GET", "/api/v1/tracking/" + encodeURIComponent(code) + "?secret=" + encodeURIComponent(secret));
      box.replaceChildren(...dossierView(d));
      box.classList.remove("hidden");
      keyboardOf("dossier-code", false);
    } catch (err) {
      if (!DOSSIER_CODE.test(code) && TICKET_CODE.test(code)) {  // the code of a queue ticket, maybe
        try {
          const t = await api("GET", "/api/v1/tickets/" + encodeURIComponent(readable(code)));
          box.replaceChildren(el("p", {class: "muted"}, "Đây là mã của phiếu lấy số:"), ...ticketView(t));
          box.classList.remove("hidden");
          keyboardOf("dossier-code", false);
          return;
        } catch (ignored) { /* not a ticket either: say what the dossier lookup said */ }
      }
      fail(err);
    }
  }
  function dossierView(d) {
    if (!d.verified) return [
      el("p", {class: "eyebrow"}, "Mã hồ sơ " + d.code),
      el("p", {}, "Có hồ sơ với mã này. Để xem tình trạng, hãy quét mã QR trên giấy hẹn, "
        + "hoặc nhập mã hồ sơ, một dấu cách, rồi mã bí mật 6 ký tự in trên giấy hẹn.")];
    const facts = el("dl", {class: "kv"},
      el("dt", {}, "Người nộp"), el("dd", {}, d.applicant),
      el("dt", {}, "Ngày tiếp nhận"), el("dd", {}, d.received_at),
      el("dt", {}, "Hẹn trả kết quả"), el("dd", {class: d.late ? "bad" : ""}, d.due_at + (d.late ? " (đã quá hạn)" : "")));
    const history = el("ol", {class: "timeline"}, ...d.history.map((h) => el("li", {},
      el("span", {class: "when"}, h.at), el("span", {class: "what"}, h.action + (h.stage ? " – " + h.stage : "")))));
    return [
      el("p", {class: "eyebrow"}, "Mã hồ sơ " + d.code),
      el("h3", {class: "dossier-name"}, d.procedure),
      el("p", {class: "state-line" + (d.late ? " late" : "")}, d.status_label + (d.stage ? " – " + d.stage : "")),
      facts,
      el("h4", {}, "Quá trình giải quyết"), history];
  }
  $("dossier-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    lookupDossier($("dossier-code").value);
  });

  // A USB scanner types like a keyboard, fast, and ends with Enter: anywhere outside a text box,
  // a slip's code opens its dossier and a ticket's QR code (its URL) opens the ticket.
  let scanned = "", lastKey = 0;
  document.addEventListener("keydown", (ev) => {
    armIdle(currentStep());
    const target = ev.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    const now = performance.now();
    if (now - lastKey > 150) scanned = "";
    lastKey = now;
    if (ev.key === "Enter") {
      if (scanned.length >= 4) { ev.preventDefault(); handleScan(scanned); }
      scanned = "";
    } else if (ev.key.length === 1) {
      scanned += ev.key;
    }
  });
  function handleScan(text) {
    text = text.trim();
    if (text.toUpperCase().startsWith(BOOKING_QR)) {  // a booking's QR code, shown on the citizen's phone
      show("booking");
      honourBooking(text);
    } else if (text.includes("/t/") || (TICKET_CODE.test(text) && !DOSSIER_CODE.test(text))) {
      show("track");
      $("track-code").value = text;
      lookupTicket(text);
    } else {
      show("dossier");
      $("dossier-code").value = dossierCode(text).code;  // the secret is not left on the screen
      lookupDossier(text);
    }
  }

  // ---- procedures --------------------------------------------------------------------------
  let procField = "", procSeq = 0;
  async function searchProcedures() {
    const q = $("proc-q").value.trim();
    sessionStorage.setItem(SAVED, JSON.stringify({q, field: procField}));
    const seq = ++procSeq;
    const params = new URLSearchParams({q, field: procField, limit: "40"});
    try {
      const data = await api("GET", "/api/v1/procedures?" + params);
      if (seq !== procSeq) return;  // an older answer, arriving late
      clearError();
      renderFields(data.q ? fieldsOf(data.procedures) : data.fields);
      renderProcedures(data);
    } catch (err) { if (seq === procSeq) fail(err); }
  }
  function fieldsOf(procedures) {  // with a query, only the fields of its results: the answer stays in view
    const counts = new Map(procField ? [[procField, 0]] : []);
    for (const p of procedures) if (p.field) counts.set(p.field, (counts.get(p.field) || 0) + 1);
    return [...counts].map(([name, count]) => ({name, count}));
  }
  function renderFields(fields) {
    const total = fields.reduce((n, f) => n + f.count, 0);
    const chip = (name, label, count) => el("button", {type: "button", class: "pick" + (name === procField ? " on" : ""), "data-field": name},
      label, el("span", {class: "count"}, String(count)));
    $("proc-fields").replaceChildren(chip("", "Tất cả", total), ...fields.map((f) => chip(f.name, f.name, f.count)));
  }
  function renderProcedures(data) {
    const list = $("proc-results"), count = $("proc-count");
    if (!data.q && !data.field) {
      count.textContent = "Gõ tên thủ tục hoặc chọn một lĩnh vực ở trên.";
      list.replaceChildren();
      return;
    }
    count.textContent = !data.total ? ""
      : data.closest  // no procedure holds every word typed: the closest ones, said so
        ? "Không có thủ tục nào có đủ các từ “" + data.q + "”. Các thủ tục gần nhất (" + data.total + "):"
        : data.total + " thủ tục" + (data.q ? " phù hợp với “" + data.q + "”" : "") + (data.field ? " – lĩnh vực " + data.field : "");
    if (!data.procedures.length) {
      list.replaceChildren(el("li", {class: "no-result"}, "Không tìm thấy thủ tục phù hợp. Hãy thử gõ ít từ hơn, ví dụ “khai sinh”, hoặc hỏi cán bộ tại quầy."));
      return;
    }
    list.replaceChildren(...data.procedures.map((p) => el("li", {},
      el("a", {class: "result", href: p.url + "?kiosk=1"},
        el("span", {class: "r-name"}, p.name),
        el("span", {class: "r-meta"},
          el("span", {}, "Mã " + p.code), el("span", {}, p.field || p.level_label), el("span", {}, p.time_limit),
          p.online_level ? el("span", {class: "online-badge"}, "Trực tuyến " + p.online_label.toLowerCase()) : "")))));
  }
  $("proc-fields").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-field]");
    if (!b) return;
    procField = b.dataset.field === procField ? "" : b.dataset.field;
    searchProcedures();
  });
  $("proc-q").addEventListener("input", debounce(searchProcedures, 250));
  $("proc-form").addEventListener("submit", (ev) => { ev.preventDefault(); searchProcedures(); });

  // ---- places ------------------------------------------------------------------------------
  let placeCategory = "", placeSeq = 0;
  async function searchPlaces() {
    const seq = ++placeSeq;
    const params = new URLSearchParams({q: $("place-q").value.trim(), category: placeCategory});
    try {
      const data = await api("GET", "/api/v1/places?" + params);
      if (seq !== placeSeq) return;
      clearError();
      const total = data.categories.reduce((n, c) => n + c.count, 0);
      const chip = (code, label, count) => el("button", {type: "button", class: "pick" + (code === placeCategory ? " on" : ""), "data-category": code},
        label, el("span", {class: "count"}, String(count)));
      $("place-cats").replaceChildren(chip("", "Tất cả", total), ...data.categories.map((c) => chip(c.code, c.label, c.count)));
      $("place-count").textContent = data.q || data.category ? data.total + " địa điểm" : "";
      $("place-results").replaceChildren(...(data.places.length ? data.places.map(placeView)
        : [el("p", {class: "no-result"}, total ? "Không tìm thấy địa điểm phù hợp." : "Xã/phường chưa cập nhật thông tin địa phương.")]));
    } catch (err) { if (seq === placeSeq) fail(err); }
  }
  function placeView(p) {
    const line = (label, value) => value ? el("p", {class: "place-line"}, el("span", {class: "label"}, label), value) : "";
    return el("article", {class: "place card"},
      el("div", {class: "place-cat"}, p.category_label),
      el("h3", {}, p.name),
      line("Địa chỉ", p.address), line("Điện thoại", p.phone), line("Giờ mở cửa", p.opening_hours),
      p.description ? el("p", {class: "place-desc"}, p.description) : "");
  }
  $("place-cats").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-category]");
    if (!b) return;
    placeCategory = b.dataset.category === placeCategory ? "" : b.dataset.category;
    searchPlaces();
  });
  $("place-q").addEventListener("input", debounce(searchPlaces, 250));
  $("place-form").addEventListener("submit", (ev) => { ev.preventDefault(); searchPlaces(); });

  // ---- start -------------------------------------------------------------------------------
  startClock("clock");
  loadPriorities().catch(fail);
  const go = new URLSearchParams(location.search).get("go");
  if (go === "procedures") {  // back from a procedure's page: the same search again
    try {
      const saved = JSON.parse(sessionStorage.getItem(SAVED) || "{}");
      $("proc-q").value = saved.q || "";
      procField = saved.field || "";
    } catch (ignored) { /* a stale entry: start afresh */ }
  }
  history.replaceState(null, "", location.pathname);
  show(["procedures", "places", "dossier", "track", "services"].includes(go) ? go : "start");
})();
