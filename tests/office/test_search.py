"""Kiosk search: no diacritics needed, đ/d folded, codes and exact phrases first, one slip forgiven."""
import pytest

from office.search import SearchIndex, fold, procedure_texts, terms

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


# ---- words citizens type that found nothing ------------------------------------------------------

REAL = SearchIndex([
    ("ks", "1.001193", procedure_texts("Thủ tục đăng ký khai sinh", result="Giấy khai sinh", field="Hộ tịch")),
    ("kt", "1.000656", procedure_texts("Thủ tục đăng ký khai tử", result="Trích lục khai tử", field="Hộ tịch")),
    ("khnn", "2.000528", procedure_texts("Thủ tục đăng ký kết hôn có yếu tố nước ngoài", field="Hộ tịch")),
    ("kh", "1.000894", procedure_texts("Thủ tục đăng ký kết hôn", field="Hộ tịch")),
    ("hn", "1.004873", procedure_texts("Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", field="Hộ tịch")),
    ("ht", "1.004859", procedure_texts("Thủ tục đăng ký thay đổi, cải chính, bổ sung hộ tịch", field="Hộ tịch")),
    ("dd", "1.003003", procedure_texts("Thủ tục đăng ký đất đai lần đầu",
                                       result="Giấy chứng nhận quyền sử dụng đất", field="Đất đai")),
    ("ld", "1.004475", procedure_texts("Thủ tục cấp giấy phép lao động cho người lao động nước ngoài", field="Việc làm")),
], synonyms=[("sổ đỏ", "giấy chứng nhận quyền sử dụng đất"), ("giấy xác nhận độc thân", "xác nhận tình trạng hôn nhân")],
    closest=True)


def test_terms_fold_a_final_y_as_i_and_keep_codes():
    assert terms("Đăng KÝ, kí; quy định; Thủy; 1.001193.") == ["dang", "ki", "ki", "qui", "dinh", "thuy", "1.001193"]


def test_query_words_leave_filler_and_a_leading_thu_tuc_out():
    assert REAL.query_words("Xin làm giấy khai sinh cho con") == ["giay", "khai", "sinh", "con"]
    assert REAL.query_words("thủ tục đăng ký kết hôn") == ["dang", "ki", "ket", "hon"]
    assert REAL.query_words("làm cho") == ["lam", "cho"]  # nothing but filler: kept
    assert REAL.query_words("so do") == ["giay", "chung", "nhan", "quyen", "su", "dung", "dat"]


def test_dang_ki_khai_sinh_is_dang_ky_khai_sinh():
    found, every = REAL.find("dang ki khai sinh")
    assert every and REAL.docs[found[0]].key == "ks"


def test_a_bare_seven_digit_number_is_a_code():
    assert REAL.search("1004873") == ["hn"] and REAL.search("1.004873") == ["hn"]


def test_no_document_with_every_word_answers_the_closest_by_rare_words():
    found, every = REAL.find("ket hon voi nguoi nuoc ngoai")
    keys = [REAL.docs[n].key for n in found]
    assert not every and keys[0] == "khnn" and "ks" not in keys
    assert REAL.search("thay doi ho ten")[0] == "ht"


def test_result_names_and_synonyms_are_searched():
    assert REAL.search("so do")[0] == "dd" and REAL.search("giay xac nhan doc than") == ["hn"]


def test_the_exact_name_without_thu_tuc_ranks_first():
    assert REAL.search("dang ky ket hon")[0] == "kh" and REAL.search("đăng ký khai tử")[0] == "kt"


def test_new_fields_of_a_procedure_join_the_index_as_extra_text():
    index = SearchIndex([("a", "1.000001", procedure_texts("Đăng ký khai sinh", ways="Trực tuyến toàn trình"))])
    assert index.search("truc tuyen") == ["a"]
