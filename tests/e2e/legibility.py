"""Font sizes and contrast ratios measured in the page (getComputedStyle), for the kiosk's tests.

``text_metrics(page, selector)`` returns, for every visible element matching ``selector`` that
holds text of its own, its font size in px and the WCAG contrast ratio of its colour against the
first opaque background found walking up from it (alpha backgrounds are blended on the way).
"""
METRICS_JS = r"""
(selector) => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(",").map((x) => parseFloat(x)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const background = (node) => {
    const layers = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (const layer of layers.reverse()) bg = blend(layer, bg);
    return bg;
  };
  const out = [];
  for (const node of document.querySelectorAll(selector)) {
    const box = node.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(node).visibility === "hidden") continue;
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(node);
    const bg = background(node);
    let fg = parse(style.color); fg = blend(fg, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({text: node.textContent.trim().slice(0, 40), px: parseFloat(style.fontSize),
              contrast: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100, y: Math.round(box.top)});
  }
  return out;
}
"""


def text_metrics(page, selector):
    return page.evaluate(METRICS_JS, selector)


def smallest(page, selector):
    rows = text_metrics(page, selector)
    return min((r["px"] for r in rows), default=None)


def lowest_contrast(page, selector):
    rows = text_metrics(page, selector)
    return min((r["contrast"] for r in rows), default=None)
