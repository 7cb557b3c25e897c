"""Search that forgives, and never answers nothing when some words match.

"dang ky khai sinh", "dang ki khai sinh", "dăng ký khai sinh" all find "Đăng ký khai sinh":
- text is folded (no tone or vowel marks, đ as d) and a final y after a consonant is read as i
  (ký/kí, lý/lí, quy/qui);
- filler words ("làm", "cho", "với", "xin", "thủ tục"...) are left out of a query, and a leading
  "Thủ tục" of a name is left out before ranking;
- a bare 7-digit number is a code ("1004873" is 1.004873); codes and code prefixes rank first;
- synonyms citizens use ("sổ đỏ" → giấy chứng nhận quyền sử dụng đất) rewrite the query;
- a word forgives one slip (3 letters or more); the last word may be the start of a word;
- documents are ranked by BM25 over weighted fields (name, result, field, agency), scaled by the
  share of the query's weight (rarer words weigh more) each document holds: when no document
  has every word, those holding the rarest of them come first instead of an empty answer;
  an exact phrase in the name ranks above scattered words.

The index is built from ``documents``: ``(key, code, texts)`` where ``texts`` maps field names
of ``FIELD_WEIGHTS`` to text (``procedure_texts`` makes it from a procedure); the older
``(key, code, name, extra)`` shape is kept for small indexes (places).
"""
import math
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from itertools import compress

_SPACES = re.compile(r"[^0-9a-z.]+")
_WORDS = re.compile(r"[0-9a-z]+(?:\.[0-9]+)*")
_BARE_CODE = re.compile(r"^(\d)(\d{6})$")

# How much a word counts in each field of a document (BM25F-like: weighted term frequencies).
FIELD_WEIGHTS = {"name": 1.0, "result": 0.5, "field": 0.3, "agency": 0.15, "extra": 0.3}
K1, B = 1.2, 0.6
SLIP, PREFIX = 0.8, 0.7  # a word one slip away (less for short words), or one the query's last word begins
PARTIAL_SHARE = 0.35  # documents missing words are shown down to this share of the best score ...
COMMON = 0.25  # a word in more than this share of the documents is looked up in those the rarer words found
HELD_BESIDE = 0.5  # ... and beside documents holding every word, if they hold this share of the query's weight
LEADING = ("thu tuc",)  # left out at the start of a name
# Left out of a query (unless nothing else is left). Not "cần", "tôi", "của", "mình": folded they
# are "căn" (căn cước), "tội", "cửa", "minh" (chứng minh) too.
FILLER = ("thu tuc", "nhu the nao", "the nao", "o dau", "lam", "cho", "voi", "xin", "muon", "giup")


class _Folding(dict):
    """str.translate's table, filled as characters are met: each to its lower-case base letters."""

    def __missing__(self, code):
        ch = chr(code)
        if ch in "đĐ":
            base = "d"
        else:
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn").lower()
        self[code] = base
        return base


_FOLDING = _Folding()


def fold(text):
    """Lower case, no tone or vowel marks, đ -> d, one space between words."""
    return _SPACES.sub(" ", (text or "").translate(_FOLDING)).strip()


def _word(word):
    """A folded word as the index keeps it: a final y after a consonant (or qu) is an i."""
    if len(word) >= 2 and word[-1] == "y" and (word[-2] not in "aeiouy" or word.endswith("quy")):
        return word[:-1] + "i"
    return word


def terms(text):
    """The index's words of a text: folded, y/i folded, dots kept inside codes only."""
    return [_word(w) for w in _WORDS.findall(fold(text))]


def _phrases(items):
    return [tuple(terms(p)) for p in items]


_FILLER = sorted(_phrases(FILLER), key=len, reverse=True)
_LEADING = _phrases(LEADING)


def _replace_phrases(words, pairs):
    """``words`` with each occurrence of a pair's phrase (a tuple of words) replaced by its words."""
    out, i = [], 0
    while i < len(words):
        for phrase, replacement in pairs:
            if tuple(words[i:i + len(phrase)]) == phrase:
                out.extend(replacement)
                i += len(phrase)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _without(words, phrases):
    """``words`` with every occurrence of the phrases taken out."""
    return _replace_phrases(words, [(phrase, ()) for phrase in phrases])


def strip_leading(words):
    for phrase in _LEADING:
        if tuple(words[:len(phrase)]) == phrase and len(words) > len(phrase):
            return words[len(phrase):]
    return words


def procedure_texts(name, result="", field="", agency="", **more):
    """The searchable texts of a procedure; new catalog fields join here (as ``extra``)."""
    texts = {"name": name or "", "result": result or "", "field": field or "", "agency": agency or ""}
    extra = " ".join(str(v) for v in more.values() if v)
    if extra:
        texts["extra"] = extra
    return texts


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


def _slip(word):
    """How much a word one slip away from ``word`` counts: one letter of three is a lot."""
    return SLIP if len(word) >= 5 else SLIP - 0.1 * (5 - len(word))


def _looks_like_code(text):
    return bool(text) and any(ch.isdigit() for ch in text) and all(ch.isdigit() or ch == "." for ch in text)


@dataclass
class Document:
    key: object
    code: str
    name: tuple  # the name's words, without a leading "Thủ tục"
    text: str  # the name's words joined: phrases are looked for here


class SearchIndex:
    """An in-memory index of a few thousand documents; rebuild it when they (or the synonyms) change."""

    def __init__(self, documents, synonyms=(), closest=False):
        """``closest``: when no document holds every word, answer those holding the rarest of them
        (the kiosk's catalog); else only documents holding every word (places, an operator's filter)."""
        self.closest = closest
        self.docs = []
        weighted = []  # per document: {word: weighted frequency}
        lengths = []
        known = {}  # text -> its words: fields and agencies repeat across documents
        for item in documents:
            if len(item) == 4:
                key, code, name, extra = item
                texts = {"name": name, "extra": extra}
            else:
                key, code, texts = item
            name = tuple(strip_leading(terms(texts.get("name", ""))))
            self.docs.append(Document(key, (code or "").lower(), name, " " + " ".join(name) + " "))
            freq, length = {}, 0.0
            for field_name, text in texts.items():
                weight = FIELD_WEIGHTS.get(field_name, FIELD_WEIGHTS["extra"])
                words = name if field_name == "name" else known.get(text)
                if words is None:
                    words = known[text] = terms(text)
                length += weight * len(words)
                for w in words:
                    freq[w] = freq.get(w, 0.0) + weight
            weighted.append(freq)
            lengths.append(length)
        count = len(self.docs) or 1
        average = (sum(lengths) / count) or 1.0
        self.postings = {}  # word -> ([document numbers], [BM25 term weights without the idf])
        for number, freq in enumerate(weighted):
            norm = K1 * (1 - B + B * lengths[number] / average)
            for w, tf in freq.items():
                numbers, weights = self.postings.setdefault(w, ([], []))
                numbers.append(number)
                weights.append(tf * (K1 + 1) / (tf + norm))
        self.idf = {w: math.log(1 + (count - len(p[0]) + 0.5) / (len(p[0]) + 0.5)) for w, p in self.postings.items()}
        self.max_idf = math.log(1 + (count + 0.5) / 0.5)
        self.vocabulary = frozenset(self.postings)
        self._by_length = {}
        for w in self.vocabulary:
            self._by_length.setdefault(len(w), []).append(w)
        self.synonyms = sorted(((tuple(terms(a)), tuple(terms(b))) for a, b in synonyms if terms(a) and terms(b)),
                               key=lambda s: len(s[0]), reverse=True)

    # ---- the query ------------------------------------------------------------------------------

    def query_words(self, query):
        """The words a query is searched with: synonyms applied, filler left out."""
        words = terms(query)
        if not words:
            return []
        words = self._rewrite(words)
        kept = strip_leading(_without(words, _FILLER))
        return kept or words

    def _rewrite(self, words):
        return _replace_phrases(words, self.synonyms)

    def _pairs(self, word, among=None):
        """(document number, weight) of the documents holding ``word`` (of those ``among`` only:
        a sorted list and its set)."""
        numbers, weights = self.postings[word]
        if among is None:
            return zip(numbers, weights)
        ordered, members = among
        if len(ordered) * 8 > len(numbers):
            return [(n, w) for n, w in zip(numbers, weights) if n in members]
        found, end = [], len(numbers)
        for number in ordered:  # numbers are in ascending order
            at = bisect_left(numbers, number)
            if at < end and numbers[at] == number:
                found.append((number, weights[at]))
        return found

    def _document_count(self, alternatives):
        return max((len(self.postings[v][0]) for v in alternatives), default=0)

    def _alternatives(self, word, last):
        """{known word: how much it counts} for one query word."""
        found = {}
        if word in self.vocabulary:
            found[word] = 1.0
        elif len(word) >= 3:
            slip = _slip(word)
            for length in (len(word) - 1, len(word), len(word) + 1):
                for v in self._by_length.get(length, ()):
                    if _one_slip(word, v):
                        found[v] = slip
        if len(word) >= 3 and word not in self.vocabulary and (last or not found):
            for v in self.vocabulary:
                if v.startswith(word) and v not in found:
                    found[v] = PREFIX
        return found

    # ---- searching ------------------------------------------------------------------------------

    def search(self, query, limit=20):
        """Keys of the best matches, best first."""
        return [self.docs[n].key for n in self.find(query)[0][:limit]]

    def find(self, query):
        """(document numbers best first, whether the best holds every word of the query)."""
        raw = fold(query).replace(" ", "")
        bare = _BARE_CODE.match(raw)
        code = f"{bare[1]}.{bare[2]}" if bare else raw
        if _looks_like_code(code):
            by_code = sorted((d.code != code, d.code, n) for n, d in enumerate(self.docs)
                             if d.code and d.code.startswith(code))
            if by_code:
                return [n for _, _, n in by_code], True
        words = self.query_words(query)
        count = len(self.docs)
        scores, held, hits, slips = [0.0] * count, [0.0] * count, [0] * count, [0] * count
        total = 0.0
        readings = [self._alternatives(word, last=position == len(words) - 1) for position, word in enumerate(words)]
        touched = None  # documents met so far, once a common word comes after rarer ones
        # rarest words first: a common word after them is only looked up in the documents they found
        for alternatives in sorted(readings, key=self._document_count):
            if not alternatives:  # a word of no document: every document misses it
                total += self.max_idf
                continue
            if len(alternatives) == 1:  # the usual case: the word as typed (or its one slip)
                weight = self.idf[next(iter(alternatives))]
            else:  # read several ways: as telling as the documents holding any of them
                union = set().union(*(self.postings[v][0] for v in alternatives))
                weight = math.log(1 + (count - len(union) + 0.5) / (len(union) + 0.5))
            total += weight * max(alternatives.values())  # known only by slips: missing it costs less
            if self._document_count(alternatives) > COMMON * count and (touched is not None or any(hits)):
                if touched is None:
                    ordered = list(compress(range(count), hits))
                    touched = (ordered, set(ordered))
            else:
                touched = None
            best = {}  # a document holding several readings counts the best one
            for v, factor in alternatives.items():
                idf, slipped = weight * factor, factor not in (1.0, PREFIX)
                for number, tf in self._pairs(v, touched):
                    s = idf * tf
                    if s > best.get(number, (0.0,))[0]:
                        best[number] = (s, factor, slipped)
            for number, (s, factor, slipped) in best.items():
                scores[number] += s
                held[number] += weight * factor
                hits[number] += 1
                slips[number] += slipped
        every = len(words)
        touched = list(compress(range(count), hits))
        if not touched:
            return [], False
        final = {n: scores[n] * held[n] / total for n in touched}
        floor = PARTIAL_SHARE * max(final.values()) if self.closest else math.inf
        # Beside documents holding every word, after them, only those holding most of the query's
        # weight (an extra word typed: "giấy khai sinh cho con"); else the closest ones.
        least = HELD_BESIDE * total if any(hits[n] == every for n in touched) else 0.0
        phrase = " " + " ".join(words) + " "
        ranked = []
        for n in touched:
            complete = hits[n] == every
            if not complete and (final[n] < floor or held[n] < least):
                continue
            tier = 0
            if complete and phrase in self.docs[n].text:
                tier = 2 if phrase == self.docs[n].text else 1
            ranked.append((tier, final[n], complete and not slips[n], n))
        if not ranked:
            return [], False
        # every word as typed first; then by score (a slip forgiven counts for less)
        ranked.sort(key=lambda r: (-r[0], not r[2], -r[1], self.docs[r[3]].text))
        return [r[3] for r in ranked], any(hits[r[3]] == every for r in ranked[:1])
