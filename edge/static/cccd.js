// The dossier desk: a chip ID card's QR code fills the applicant's name, ID number and address.
// A USB scanner types the code and Enter into the scan field (or into the name or ID field the
// officer left the cursor in); the webcam button sends a still. The raw code never enters the form:
// the scan field has no name, and a scanned name or ID field is overwritten with the parsed value.
"use strict";
(function () {
  const form = document.getElementById("receive-form");
  if (!form) return;
  const scan = document.getElementById("cccd-scan");
  const status = document.getElementById("cccd-status");
  const say = (text, bad) => { status.textContent = text; status.classList.toggle("error", !!bad); };
  const fill = (data) => {
    for (const [name, value] of Object.entries(data.fields)) {
      const input = form.elements.namedItem(name);
      if (input && value) input.value = value;
    }
    say("Đã điền họ tên, số định danh và địa chỉ từ thẻ căn cước của " + data.fields.name + ". Hãy kiểm tra lại.");
  };
  const send = async (text, field) => {
    field.value = "";
    say("Đang đọc mã QR…");
    try { fill(await api("POST", "/dossiers/cccd", {text: text})); } catch (err) { say(err.message, true); }
  };
  const looksScanned = (value) => /^\s*\d{12}\|/.test(value);
  for (const field of [scan, form.elements.namedItem("name"), form.elements.namedItem("id_number")]) {
    if (!field) continue;
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== "Tab") return;
      if (field === scan ? field.value.trim() === "" : !looksScanned(field.value)) return;
      event.preventDefault();
      send(field.value, field);
    });
  }
  const button = document.getElementById("cccd-camera");
  const video = document.getElementById("cccd-video");
  if (!button || !video) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { button.hidden = true; return; }
  button.addEventListener("click", async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {width: 1280, height: 720}});
    } catch (err) { say("Không mở được camera của quầy.", true); return; }
    video.srcObject = stream; video.hidden = false; await video.play();
    say("Đưa mặt sau thẻ căn cước (mã QR) vào trước camera…");
    const canvas = document.createElement("canvas");
    try {
      for (let tries = 0; tries < 20; tries++) {  // about ten seconds, then give up
        await new Promise((r) => setTimeout(r, 500));
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        canvas.getContext("2d").drawImage(video, 0, 0);
        const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
        const response = await fetch("/dossiers/cccd/image", {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "image/jpeg", "X-CSRFToken": csrfToken()}, body: blob});
        if (response.ok) { fill(await response.json()); return; }
      }
      say("Không đọc được mã QR từ camera: hãy quét bằng máy quét hoặc gõ tay.", true);
    } finally {
      stream.getTracks().forEach((t) => t.stop()); video.hidden = true;
    }
  });
})();
