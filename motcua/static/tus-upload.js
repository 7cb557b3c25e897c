// Resumable uploads of a citizen's papers (tus 1.0.0), no library: each chosen file goes up in
// pieces; when the connection drops, the page waits, asks the hub how much arrived (HEAD) and goes
// on from there. Without this script the form posts the files in one request.
(function () {
  "use strict";
  var form = document.getElementById("papers-form");
  if (!form || !window.fetch || !window.Blob) return;
  form.setAttribute("data-resumable", "on");  // the files go up in pieces from now on
  var CHUNK = 256 * 1024, TRIES = 12;
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var endpoint = form.getAttribute("data-tus"), draft = form.getAttribute("data-draft");
  var maxSize = +form.getAttribute("data-max");

  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }
  function headers(extra) {
    var h = { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrf };
    for (var k in extra) h[k] = extra[k];
    return h;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function fail(response) {
    return response.text().then(function (text) { var e = new Error(text || ("Lỗi " + response.status)); e.fatal = true; throw e; });
  }
  function keyOf(file, paper) { return "tus:" + draft + ":" + paper + ":" + file.name + ":" + file.size + ":" + file.lastModified; }

  function create(file, paper) {
    var key = keyOf(file, paper), known = null;
    try { known = localStorage.getItem(key); } catch (e) {}
    var ask = known ? fetch(known, { method: "HEAD", headers: headers({}), credentials: "same-origin" }) : Promise.resolve(null);
    return ask.then(function (r) {
      if (r && r.ok) return { url: known, offset: +r.headers.get("Upload-Offset") };
      var meta = "filename " + b64(file.name) + ",filetype " + b64(file.type || "") + ",draft " + b64(draft) + ",paper " + b64(String(paper));
      return fetch(endpoint, { method: "POST", credentials: "same-origin",
                               headers: headers({ "Upload-Length": String(file.size), "Upload-Metadata": meta }) })
        .then(function (r) {
          if (r.status !== 201) return fail(r);
          var url = new URL(r.headers.get("Location"), location.href).pathname;
          try { localStorage.setItem(key, url); } catch (e) {}
          return { url: url, offset: 0 };
        });
    });
  }

  function offsetNow(url) {
    return fetch(url, { method: "HEAD", headers: headers({}), credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { var e = new Error("Lượt tải lên không còn trên máy chủ, hãy chọn lại tệp."); e.fatal = true; throw e; }
      return +r.headers.get("Upload-Offset");
    });
  }

  function send(file, paper, show) {
    return create(file, paper).then(function (up) {
      var offset = up.offset, failures = 0;
      function step() {
        show(offset / file.size, failures ? "Mạng bị gián đoạn, đang tải tiếp…" : "Đang tải lên…");
        if (offset >= file.size) return Promise.resolve();
        return fetch(up.url, { method: "PATCH", credentials: "same-origin", body: file.slice(offset, offset + CHUNK),
                               headers: headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }) })
          .then(function (r) {
            if (r.status === 204) { offset = +r.headers.get("Upload-Offset"); failures = 0; return step(); }
            if (r.status === 409) return offsetNow(up.url).then(function (o) { offset = o; return step(); });
            if (r.status >= 500) throw new Error("máy chủ bận");
            return fail(r);
          })
          .catch(function (err) {
            if (err.fatal || ++failures > TRIES) throw err;
            show(offset / file.size, "Mạng bị gián đoạn, thử lại sau " + Math.min(30, Math.pow(2, failures - 1)) + " giây…");
            return sleep(1000 * Math.min(30, Math.pow(2, failures - 1)))
              .then(function () { return offsetNow(up.url); })
              .then(function (o) { offset = o; return step(); }, function (e) { if (e.fatal) throw e; return step(); });
          });
      }
      return step().then(function () { try { localStorage.removeItem(keyOf(file, paper)); } catch (e) {} });
    });
  }

  function row(list, file) {
    var item = document.createElement("div");
    var label = document.createElement("div"), bar = document.createElement("progress"), status = document.createElement("div");
    label.textContent = file.name;
    bar.max = 100; bar.value = 0; bar.setAttribute("aria-label", "Tiến độ tải " + file.name);
    status.className = "status";
    item.appendChild(label); item.appendChild(bar); item.appendChild(status); list.appendChild(item);
    return function (part, text) { bar.value = Math.round(part * 100); status.textContent = text + " " + Math.round(part * 100) + "%"; };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var jobs = [], button = document.getElementById("upload-button");
    Array.prototype.forEach.call(form.querySelectorAll("section.paper"), function (section) {
      var paper = section.getAttribute("data-paper"), input = section.querySelector("input[type=file]");
      var list = section.querySelector(".progress-list");
      Array.prototype.forEach.call(input.files, function (file) {
        var show = row(list, file);
        if (file.size > maxSize) { show(0, "Tệp lớn quá " + Math.round(maxSize / 1048576) + " MB, không tải lên được."); return; }
        jobs.push(send(file, paper, show).then(function () { show(1, "Đã tải xong"); },
                                               function (err) { show(0, "Không tải lên được: " + err.message); throw err; }));
      });
    });
    if (!jobs.length) return;
    button.disabled = true;
    Promise.all(jobs.map(function (j) { return j.then(function () { return true; }, function () { return false; }); }))
      .then(function (results) {
        button.disabled = false;
        if (results.every(Boolean)) location.reload();
      });
  });
})();
