// Excel downloads on the statistics page: say that the file is being made (a long list can take
// a minute) and when it is ready. The server answers the download with the cookie
// motcua_download=<token> that this page asked for; the page watches for it.
(function () {
  var status = document.getElementById("export-status");
  if (!status) return;
  var busy = false;

  function say(text, kind) {
    status.textContent = text;
    status.className = "export-status " + (kind || "");
    status.hidden = false;
  }

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? found.slice(name.length + 1) : "";
  }

  document.querySelectorAll("a[data-export]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      var token = Math.random().toString(36).slice(2, 12);
      var started = Date.now();
      var label = link.textContent.trim();
      say("Đang tạo tệp “" + label + "”… Danh sách dài có thể mất đến một phút; tệp sẽ tự tải về.", "working");
      var url = link.href + (link.href.indexOf("?") < 0 ? "?" : "&") + "download_token=" + token;
      window.location.href = url;  // an attachment: the page stays
      var timer = setInterval(function () {
        var seconds = Math.round((Date.now() - started) / 1000);
        if (cookie("motcua_download") === token) {
          clearInterval(timer);
          document.cookie = "motcua_download=; Max-Age=0; path=/";
          busy = false;
          say("Đã tạo xong “" + label + "” (" + seconds + " giây); xem thư mục tải về của trình duyệt.", "done");
        } else if (seconds > 300) {
          clearInterval(timer);
          busy = false;
          say("Chưa tạo xong tệp sau 5 phút. Hãy thử lại, hoặc chọn một kỳ ngắn hơn.", "problem");
        } else {
          say("Đang tạo tệp “" + label + "”… (" + seconds + " giây) Danh sách dài có thể mất đến một phút; " +
              "tệp sẽ tự tải về.", "working");
        }
      }, 500);
    });
  });
})();

// The hub's Excel buttons are forms: a short file comes at once (the server answers its address), a
// long one is made by the hub's worker: the page shows rows written / rows in all on a progress bar
// and the download when it is ready. Without scripts the form leads to the job's own page.
(function () {
  var status = document.getElementById("export-status");
  var box = document.getElementById("export-progress");
  if (!status || !box) return;
  var bar = document.getElementById("export-bar");
  var count = document.getElementById("export-count");
  var download = document.getElementById("export-download");
  var busy = false;

  function say(text, kind) {
    status.textContent = text;
    status.className = "export-status " + (kind || "");
    status.hidden = false;
  }

  function number(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  function show(job) {
    box.hidden = false;
    bar.value = job.percent;
    count.textContent = "Đã ghi " + number(job.rows_done) + " / " + number(job.rows_total) + " dòng (" + job.percent + "%)";
    if (job.state === "done") {
      busy = false;
      say("Đã tạo xong “" + job.file_name + "”.", "done");
      download.href = job.download_url;
      download.hidden = false;
      window.location.href = job.download_url;
      return;
    }
    if (job.state === "failed") {
      busy = false;
      say(job.error || "Không tạo được tệp Excel.", "problem");
      return;
    }
    say("Đang tạo tệp “" + job.file_name + "” trên máy chủ… Có thể làm việc khác trên trang này; tệp sẽ tự tải về khi xong.",
        "working");
    setTimeout(function () { poll(job); }, 1000);
  }

  function poll(job) {
    fetch("/api/v1/stats/exports/" + job.token, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.ok) show(body.job); else { busy = false; say(body.error, "problem"); }
      })
      .catch(function () { setTimeout(function () { poll(job); }, 3000); });
  }

  document.querySelectorAll("form[data-export-job]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      download.hidden = true;
      box.hidden = true;
      var label = form.querySelector("button").textContent.trim();
      say("Đang chuẩn bị “" + label + "”…", "working");
      fetch("/api/v1/stats/exports", {method: "POST", body: new FormData(form), credentials: "same-origin",
                                       headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (!body.ok) { busy = false; say(body.error, "problem"); return; }
          if (body.download_url) {  // short: it downloads at once
            busy = false;
            say("Đang tải “" + label + "” về máy…", "done");
            window.location.href = body.download_url;
            return;
          }
          show(body.job);
        })
        .catch(function () { busy = false; say("Không liên lạc được với máy chủ. Hãy thử lại.", "problem"); });
    });
  });
})();
