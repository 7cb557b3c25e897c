// Shared by the box's screens: JSON calls with Vietnamese errors, safe text, clock.
"use strict";
function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}
async function api(method, path, body) {
  let response;
  const headers = body === undefined ? {} : {"Content-Type": "application/json"};
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  try {
    response = await fetch(path, {
      method, credentials: "same-origin", headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Error("Không kết nối được với máy chủ của bộ phận một cửa.");
  }
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) throw new Error((data && data.error) || "Có lỗi xảy ra (" + response.status + ").");
  return data;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const child of children) node.append(child);  // strings become text nodes: always escaped
  return node;
}
function startClock(id) {
  const node = document.getElementById(id);
  if (!node) return;
  const tick = () => { node.textContent = new Date().toLocaleString("vi-VN", {timeZone: document.body.dataset.tz || undefined, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric"}); };
  tick(); setInterval(tick, 15000);
}
