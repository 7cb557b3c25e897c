"""Words citizens use for the catalog's words ("sổ đỏ" for giấy chứng nhận quyền sử dụng đất).

Authored at the hub (page under the catalog, ``motcua hub import-synonyms``) and replicated to
every box with the catalog (hub-owned rows, commune "*"); the kiosk's search rewrites a query's
``phrase`` into ``means``. A synonym is withdrawn by switching it off, never deleted, so the
defaults below are seeded once and a withdrawn one stays withdrawn.

Import shape: JSON ``[{"phrase": "sổ đỏ", "means": "giấy chứng nhận quyền sử dụng đất"}]`` or
CSV with the columns ``phrase,means`` (a header row).
"""
import csv
import io
import json
from dataclasses import dataclass, field

from peewee import BooleanField, CharField

from sync.capture import ReplicatedModel
from sync.policy import GLOBAL_SCOPE, HUB

from .db import database
from .search import terms

TEXT_MAX = 200
DEFAULTS = (
    ("syn-so-do", "sổ đỏ", "giấy chứng nhận quyền sử dụng đất"),
    ("syn-so-hong", "sổ hồng", "giấy chứng nhận quyền sử dụng đất"),
    ("syn-doc-than", "giấy xác nhận độc thân", "xác nhận tình trạng hôn nhân"),
    ("syn-xac-nhan-doc-than", "xác nhận độc thân", "xác nhận tình trạng hôn nhân"),
    ("syn-bao-tu", "báo tử", "khai tử"),
    ("syn-nhap-khau", "nhập khẩu", "đăng ký thường trú"),
    ("syn-cong-chung", "công chứng", "chứng thực"),
    ("syn-lay-vo", "lấy vợ", "đăng ký kết hôn"),
    ("syn-lay-chong", "lấy chồng", "đăng ký kết hôn"),
)


class SearchSynonym(ReplicatedModel):
    replication = HUB

    phrase = CharField()  # as citizens type it
    means = CharField()  # in the catalog's words
    active = BooleanField(default=True)


def active_synonyms():
    """[(phrase, means)] of the synonyms in use."""
    return list(SearchSynonym.select(SearchSynonym.phrase, SearchSynonym.means)
                .where(SearchSynonym.active == True).order_by(SearchSynonym.phrase).tuples())  # noqa: E712


def ensure_default_synonyms():
    """Seed the default synonyms at the hub once (by fixed id: a withdrawn one is not brought back)."""
    with database.atomic():
        have = {pk for (pk,) in SearchSynonym.select(SearchSynonym.id).tuples()}
        added = 0
        for pk, phrase, means in DEFAULTS:
            if pk not in have:
                SearchSynonym.create(id=pk, commune=GLOBAL_SCOPE, phrase=phrase, means=means)
                added += 1
    return added


def check(phrase, means, current=None):
    """Reasons a synonym is refused (empty: fine)."""
    reasons = []
    phrase, means = (phrase or "").strip(), (means or "").strip()
    if not terms(phrase):
        reasons.append("thiếu từ người dân gõ")
    if not terms(means):
        reasons.append("thiếu từ trong danh mục mà nó chỉ tới")
    if len(phrase) > TEXT_MAX or len(means) > TEXT_MAX:
        reasons.append(f"mỗi ô không dài quá {TEXT_MAX} ký tự")
    if terms(phrase) and terms(phrase) == terms(means):
        reasons.append("hai ô giống nhau")
    other = find(phrase)
    if other is not None and (current is None or other.id != current.id):
        reasons.append(f"“{other.phrase}” đã có (chỉ tới “{other.means}”)")
    return reasons


def find(phrase):
    """The synonym whose phrase reads the same (folded), if any."""
    wanted = terms(phrase)
    if not wanted:
        return None
    for row in SearchSynonym.select():
        if terms(row.phrase) == wanted:
            return row
    return None


@dataclass
class SynonymReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # (row number, phrase, [reasons])


def parse_file(name, data):
    lower = name.lower()
    if lower.endswith(".json"):
        rows = json.loads(data.decode("utf-8-sig"))
        if not isinstance(rows, list):
            raise ValueError("tệp JSON phải là một danh sách {phrase, means}")
        return rows, 1
    if lower.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")))), 2
    raise ValueError("chỉ nhận tệp .json hoặc .csv (cột phrase, means)")


def import_file(name, data):
    """Create or update synonyms by phrase (a known phrase gets the new meaning, switched on)."""
    rows, first = parse_file(name, data)
    report = SynonymReport()
    with database.atomic():
        for number, row in enumerate(rows, start=first):
            if not isinstance(row, dict):
                report.rejected.append((number, "", ["dòng không phải một đối tượng {phrase, means}"]))
                continue
            phrase, means = str(row.get("phrase") or "").strip(), str(row.get("means") or "").strip()
            existing = find(phrase)
            reasons = check(phrase, means, current=existing)
            if reasons:
                report.rejected.append((number, phrase, reasons))
            elif existing is None:
                SearchSynonym.create(commune=GLOBAL_SCOPE, phrase=phrase, means=means)
                report.created += 1
            elif existing.save_changes({"phrase": phrase, "means": means, "active": True}):
                report.updated += 1
            else:
                report.unchanged += 1
    return report
