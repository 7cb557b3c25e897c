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
