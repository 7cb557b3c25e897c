"""Search that forgives: without diacritics, đ as d, a common slip, codes and phrases first.

"dang ky khai sinh", "khai sinh", "dăng ký khai sinh" all find "Đăng ký khai sinh".
"""
import re
import unicodedata
from dataclasses import dataclass

_SPACES = re.compile(r"[^0-9a-z.]+")


def fold(text):
    """Lower case, no tone or vowel marks, đ -> d, one space between words."""
    text = (text or "").replace("đ", "d").replace("Đ", "d")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", text.lower()).strip()


def _one_slip(a, b):
    """Whether two words differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _looks_like_code(text):
    return bool(text) and all(ch.isdigit() or ch == "." for ch in text)


@dataclass
class Document:
    key: object
    code: str
    text: str  # folded name
    extra: str  # folded field, agency...: searched, ranked lower
    words: frozenset


class SearchIndex:
    """An in-memory index of a few thousand documents; rebuild it when they change."""

    def __init__(self, documents):
        self.docs = [Document(key, code.lower(), fold(name), fold(extra), frozenset(fold(name + " " + extra).split()))
                     for key, code, name, extra in documents]
        self.postings = {}
        for number, doc in enumerate(self.docs):
            for word in doc.words:
                self.postings.setdefault(word, set()).add(number)
        self.vocabulary = frozenset(self.postings)

    def search(self, query, limit=20):
        """Keys of the best matches, best first."""
        q = fold(query)
        if not q:
            return []
        words = q.split()
        expanded = [self._variants(w) for w in words]
        if _looks_like_code(q):
            candidates = [d for d in self.docs if d.code.startswith(q)] or self._candidates(words, expanded)
        else:
            candidates = self._candidates(words, expanded)
        scored = []
        for doc in candidates:
            score = self._score(doc, q, words, expanded)
            if score:  # ties: codes in code order, names in alphabetical order
                scored.append((-score, doc.code if score >= 1000 else doc.text, doc.key))
        scored.sort()
        return [key for _, _, key in scored[:limit]]

    def _candidates(self, words, expanded):
        """Documents holding every word (as typed, one slip away, or as the start of a word)."""
        found = None
        for word, variants in zip(words, expanded):
            matching = set(variants)
            if len(word) >= 3:
                matching |= {v for v in self.vocabulary if v.startswith(word)}
            docs = set().union(*(self.postings.get(v, ()) for v in matching))
            found = docs if found is None else found & docs
            if not found:
                return []
        return [self.docs[i] for i in found]

    def _variants(self, word):
        """The word itself, plus known words one slip away (for words long enough to slip)."""
        if word in self.vocabulary or len(word) < 3:
            return {word}
        return {word} | {v for v in self.vocabulary if abs(len(v) - len(word)) <= 1 and _one_slip(word, v)}

    @staticmethod
    def _score(doc, q, words, expanded):
        if doc.code and (doc.code == q or (len(q) >= 3 and doc.code.startswith(q))):
            return 1000 + (doc.code == q) * 100
        if q == doc.text:
            return 900
        if q in doc.text:
            return 800 - doc.text.index(q) - len(doc.text) / 100
        hits = exact = 0
        for word, variants in zip(words, expanded):
            if word in doc.words:
                exact += 1
                hits += 1
            elif variants & doc.words or any(w.startswith(word) for w in doc.words if len(word) >= 3):
                hits += 1
        if hits < len(words):
            return 0
        in_name = sum(1 for w in words if w in doc.text.split())
        return 100 + exact * 10 + in_name * 5 - len(doc.text) / 100
