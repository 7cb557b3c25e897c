"""Form templates from the catalog, cleaned before they are shown or printed: layout only."""
from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "small", "sup", "sub", "span", "div", "hr", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col", "center",
}
VOID_TAGS = {"br", "hr", "col"}
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "select",
                     "svg", "math", "title", "head"}
ALLOWED_ATTRS = {"class", "style", "colspan", "rowspan", "align", "valign", "width", "height", "start", "type"}
BAD_STYLE = ("url(", "expression", "@import", "javascript:", "behavior", "\\")


class _Cleaner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.open, self.dropping = [], [], []

    def handle_starttag(self, tag, attrs):
        if self.dropping:
            if tag in DROP_WITH_CONTENT:
                self.dropping.append(tag)
            return
        if tag in DROP_WITH_CONTENT:
            self.dropping.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            value = value or ""
            if name not in ALLOWED_ATTRS or (name == "style" and any(b in value.lower() for b in BAD_STYLE)):
                continue
            kept.append(f' {name}="{escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and self.open and self.open[-1] == tag and not self.dropping:
            self.open.pop()
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag):
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in self.open:
            while self.open:
                top = self.open.pop()
                self.out.append(f"</{top}>")
                if top == tag:
                    break

    def handle_data(self, data):
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    def close(self):
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def clean_html(text):
    """Only layout tags and harmless attributes: no script, handler, link, image or embedded page."""
    cleaner = _Cleaner()
    cleaner.feed(text or "")
    return cleaner.close()
