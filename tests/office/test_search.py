"""Kiosk search: no diacritics needed, đ/d folded, codes and exact phrases first, one slip forgiven."""
import pytest

from office.search import SearchIndex, fold

DOCS = [
    ("ks", "1.001193", "Đăng ký khai sinh", "Hộ tịch"),
    ("kt", "1.000656", "Đăng ký khai tử", "Hộ tịch"),
    ("kh", "1.000894", "Đăng ký kết hôn", "Hộ tịch"),
    ("ksl", "2.000528", "Đăng ký lại khai sinh", "Hộ tịch"),
    ("ct", "2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực"),
    ("dd", "1.003554", "Đăng ký đất đai lần đầu", "Đất đai"),
    ("ksnn", "1.004884", "Đăng ký khai sinh có yếu tố nước ngoài", "Hộ tịch"),
]
INDEX = SearchIndex(DOCS, closest=True)


def test_fold():
    assert fold("Đăng ký  KHAI sinh!") == "dang ky khai sinh"
    assert fold("Chứng thực bản sao") == "chung thuc ban sao"


@pytest.mark.parametrize("query", ["dang ky khai sinh", "khai sinh", "dăng ký khai sinh", "Đăng ký khai sinh",
                                   "DANG KY KHAI SINH", "khai snh", "dang ky khia sinh"])
def test_the_usual_ways_of_typing_find_khai_sinh_first(query):
    assert INDEX.search(query)[0] == "ks"


def test_code_search_ranks_first():
    assert INDEX.search("1.001193") == ["ks"]
    assert INDEX.search("2.000")[:2] == ["ksl", "ct"]


def test_exact_phrase_before_scattered_words():
    results = INDEX.search("khai sinh")
    assert results.index("ks") < results.index("ksnn") and "ksl" in results
    assert "kt" not in results


def test_field_words_are_found_too():
    assert set(INDEX.search("chung thuc")) == {"ct"}
    assert INDEX.search("dat dai")[0] == "dd"


def test_nothing_for_nothing():
    assert INDEX.search("") == [] and INDEX.search("xyz qwerty") == []
