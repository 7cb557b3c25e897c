"""Spoken ticket calls for the lobby TV: "Mời số A-015 đến quầy số 2".

Pure Python, no audio hardware, no Flask. A call is a list of clip names
(ASCII slugs); each name is a short WAV file. The player simply plays the
files one after another:

    >>> call_clips("A", 15, 2)
    ['chime', 'moi_so', 'chu_a', 'muoi', 'lam', 'den_quay_so', 'hai']

The shipped clips live in ``devices/clips/<name>.wav`` (generated offline by
``python -m devices.make_clips``). A box may replace any of them with a
recording of a real voice by dropping a file with the same name into its
``clips_dir`` (see :func:`clip_path`).

Number reading (0..9999) follows Vietnamese rules, with two regional styles:

* ``north``: 24 "hai mươi tư", 105 "một trăm linh năm", 1000 "một nghìn";
* ``south``: 24 "hai mươi bốn", 105 "một trăm lẻ năm", 1000 "một ngàn".

Both: 10 "mười", 11 "mười một", 14 "mười bốn", 15 "mười lăm", 21 "hai mươi
mốt", 25 "hai mươi lăm", 1005 "một nghìn không trăm linh năm", 2010 "hai
nghìn không trăm mười".
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CLIP_NAMES",
    "CLIP_TEXT",
    "READINGS",
    "SHIPPED_DIR",
    "UnknownClip",
    "call_clips",
    "clip_path",
    "letter_clip",
    "read_number",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "clips"

READINGS = ("north", "south")

MAX_NUMBER = 9999

# Digit clips, index = digit.
DIGITS = ("khong", "mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin")

# Regional words.
_ZERO_TENS = {"north": "linh", "south": "le"}      # 105: linh / lẻ
_THOUSAND = {"north": "nghin", "south": "ngan"}    # nghìn / ngàn
_FOUR_AFTER_MUOI2 = {"north": "tu", "south": "bon"}  # 24: tư / bốn

# Vietnamese spelling-alphabet names of the ticket prefix letters (how a
# person reads them; make_clips may respell a few for espeak-ng).
_LETTERS = {
    "A": "a",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "E": "e",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét-xì",
    "T": "tê",
    "U": "u",
    "V": "vê",
    "W": "vê kép",
    "X": "ích-xì",
    "Y": "i-grếch",
    "Z": "dét",
}

# What each clip says (Vietnamese, for the README, for recording scripts and
# as the default text for the generator).
CLIP_TEXT: dict[str, str] = {
    "chime": "(two-tone ding-dong, no speech)",
    "moi_so": "mời số",
    "moi_lai_so": "mời lại số",
    "den_quay_so": "đến quầy số",
    "khong": "không",
    "mot": "một",
    "hai": "hai",
    "ba": "ba",
    "bon": "bốn",
    "nam": "năm",
    "sau": "sáu",
    "bay": "bảy",
    "tam": "tám",
    "chin": "chín",
    "muoi": "mười",
    "muoi2": "mươi",
    "mot_sac": "mốt",
    "lam": "lăm",
    "tu": "tư",
    "linh": "linh",
    "le": "lẻ",
    "tram": "trăm",
    "nghin": "nghìn",
    "ngan": "ngàn",
}
for _letter, _name in _LETTERS.items():
    CLIP_TEXT["chu_" + _letter.lower()] = _name

#: Every clip name :func:`read_number`, :func:`letter_clip` and
#: :func:`call_clips` can produce, plus ``"chime"``.
CLIP_NAMES: frozenset[str] = frozenset(CLIP_TEXT)

# Characters allowed in a prefix that are not read aloud ("A-", "B 2"?).
_SILENT_PREFIX_CHARS = frozenset("- _.")


class UnknownClip(KeyError, ValueError):
    """A clip name that is not in CLIP_NAMES."""


def _check_reading(reading: str) -> None:
    if reading not in READINGS:
        raise ValueError(f"unknown reading {reading!r}; expected one of {READINGS}")


def _tens_and_units(n: int, reading: str) -> list[str]:
    """1..99, as it is read on its own or after "trăm"/"không trăm"."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return [DIGITS[unit]]
    if tens == 1:
        words = ["muoi"]
        if unit == 5:
            words.append("lam")            # mười lăm
        elif unit:
            words.append(DIGITS[unit])     # mười một, mười bốn
        return words
    words = [DIGITS[tens], "muoi2"]
    if unit == 1:
        words.append("mot_sac")            # hai mươi mốt
    elif unit == 4:
        words.append(_FOUR_AFTER_MUOI2[reading])  # hai mươi tư / bốn
    elif unit == 5:
        words.append("lam")                # hai mươi lăm
    elif unit:
        words.append(DIGITS[unit])
    return words


def _after_hundreds(rest: int, reading: str) -> list[str]:
    """The 0..99 part after "trăm": 5 -> "linh năm", 15 -> "mười lăm"."""
    if rest == 0:
        return []
    if rest < 10:
        return [_ZERO_TENS[reading], DIGITS[rest]]
    return _tens_and_units(rest, reading)


def read_number(n: int, reading: str = "north") -> list[str]:
    """Clip names reading ``n`` (0..9999) aloud in Vietnamese.

    >>> read_number(105)
    ['mot', 'tram', 'linh', 'nam']
    >>> read_number(24, "south")
    ['hai', 'muoi2', 'bon']
    """
    _check_reading(reading)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is out of range 0..{MAX_NUMBER}")
    if n == 0:
        return ["khong"]
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    words: list[str] = []
    if thousands:
        words += [DIGITS[thousands], _THOUSAND[reading]]
        if hundreds == 0 and rest == 0:
            return words                      # một nghìn
        words += [DIGITS[hundreds], "tram"]   # ... không trăm ...
        return words + _after_hundreds(rest, reading)
    if hundreds:
        words += [DIGITS[hundreds], "tram"]
        return words + _after_hundreds(rest, reading)
    return _tens_and_units(rest, reading)


def letter_clip(letter: str) -> str:
    """Clip name of a ticket prefix letter A–Z ("a" -> "chu_a")."""
    if not isinstance(letter, str) or len(letter) != 1:
        raise ValueError(f"expected a single letter, got {letter!r}")
    upper = letter.upper()
    if upper not in _LETTERS:
        raise ValueError(f"no clip for letter {letter!r} (only A–Z)")
    return "chu_" + upper.lower()


def call_clips(prefix: str, seq: int, counter: int, reading: str = "north",
               recall: bool = False, repeat: int = 1) -> list[str]:
    """The clips of "Mời số <prefix><seq> đến quầy số <counter>".

    A recall says "Mời lại số" instead of "Mời số". ``repeat``: how many times the words are
    said after the one chime (a lobby says each call twice, for whoever missed the first).

    >>> call_clips("A", 1, 2, recall=True, repeat=2)
    ['chime', 'moi_lai_so', 'chu_a', 'mot', 'den_quay_so', 'hai', 'moi_lai_so', 'chu_a', 'mot', 'den_quay_so', 'hai']

    Separators in the prefix ("-", " ", "_", ".") are not read.
    """
    _check_reading(reading)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a whole number of at least 1, got {repeat!r}")
    letters = [letter_clip(ch) for ch in (prefix or "") if ch not in _SILENT_PREFIX_CHARS]
    words = [
        "moi_lai_so" if recall else "moi_so",
        *letters,
        *read_number(seq, reading),
        "den_quay_so",
        *read_number(counter, reading),
    ]
    return ["chime", *words * repeat]


def clip_path(name: str, override_dir: str | os.PathLike[str] | None = None) -> Path:
    """The WAV file to play for clip ``name``.

    ``<override_dir>/<name>.wav`` when it exists (a recording replacing the
    shipped clip), else the shipped ``devices/clips/<name>.wav``. Checked on
    every call, so recordings dropped into the box's clips_dir take effect
    without a restart.
    """
    if name not in CLIP_NAMES:
        raise UnknownClip(name)
    if override_dir:
        candidate = Path(override_dir) / f"{name}.wav"
        if candidate.is_file():
            return candidate
    return SHIPPED_DIR / f"{name}.wav"
