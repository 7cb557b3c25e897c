// The dossier desk: live search of procedures while typing (the form works without it too),
// and the print button of the printable forms.
"use strict";
(function () {
  const input = document.getElementById("procedure-q");
  const list = document.getElementById("procedure-results");
  if (input && list) {
    const keep = list.dataset.keep;
    const hint = document.getElementById("procedure-hint");
    let timer = null, asked = 0;
    const show = (rows, q) => {
      list.replaceChildren(...rows.map((p) => {
        const href = "/dossiers/new?procedure=" + encodeURIComponent(p.code) + (keep ? "&" + keep : "");
        const link = el("a", {href: href, "data-code": p.code}, el("b", {}, p.name), el("br", {}),
          el("span", {class: "pcode"}, p.code), p.field ? " · " : "", p.field ? el("span", {class: "muted"}, p.field) : "",
          " · ", el("span", {class: "muted"}, p.time_limit));
        return el("li", {}, link);
      }));
      if (hint) {
        hint.textContent = rows.length ? "" : (q ? "Không tìm thấy thủ tục “" + q + "”." : hint.textContent);
        hint.classList.toggle("hidden", rows.length > 0);
      }
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        const mine = ++asked;
        try {
          const rows = await api("GET", "/dossiers/procedures?q=" + encodeURIComponent(q));
          if (mine === asked) show(rows, q);
        } catch (err) { /* the Tìm button still works */ }
      }, 250);
    });
  }
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
})();
