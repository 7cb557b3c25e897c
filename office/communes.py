"""Vietnam's administrative units since 1 July 2025: 34 provinces, 3,321 communes/wards.

Data: vn-admin-units (MIT, see data/vn-admin-units.LICENSE).
"""
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    full_name: str
    province_code: str
    province_name: str


@cache
def all_communes():
    raw = json.loads(resources.files("office").joinpath("data/vn-admin-units.json").read_text("utf-8"))
    return {
        ward["Code"]: Commune(ward["Code"], ward["Name"], ward["FullName"], province["Code"], province["FullName"])
        for province in raw
        for ward in province["Wards"]
    }


def find_commune(code):
    return all_communes().get(code)


def unit_word(code):
    """“xã”, “phường” or “đặc khu”: what the commune really is (“xã” when the code is unknown)."""
    commune = find_commune(code)
    if commune is None:
        return "xã"
    lowered = commune.full_name.lower()
    for word in ("phường", "đặc khu"):
        if lowered.startswith(word):
            return word
    return "xã"


def commune_label(code):
    """“Phường Sông Công” for 05518; the code itself when unknown."""
    commune = find_commune(code)
    return commune.full_name if commune else code


def authority_name(code):
    """The people's committee as a citizen's message names it: “UBND Phường Sông Công”."""
    commune = find_commune(code)
    return f"UBND {commune.full_name}" if commune else "UBND xã, phường"
