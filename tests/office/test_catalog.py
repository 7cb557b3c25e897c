"""Importing the catalog: ≥ 500 procedures in the documented shape; bad rows reported, good kept."""
import csv
import io
import json

from openpyxl import Workbook

from office.catalog import Procedure, import_file
from office.catalog_sample import sample
from sync.capture import init_node
from sync.models import SyncNode


def as_hub(db):
    SyncNode.delete().execute()  # this database is the hub's: the catalog is its to write
    init_node("hub", "*")


def test_json_catalog_of_500_imports_and_bad_rows_are_reported(db):
    as_hub(db)
    rows = sample(520)
    rows[3]["code"] = "1.23"  # wrong shape
    rows[7]["name"] = ""
    rows[9]["ways"][0]["days"] = "ba"
    rows[11]["online_level"] = "cao"
    rows.append(dict(rows[0]))  # a duplicate code
    report = import_file("catalog.json", json.dumps(rows, ensure_ascii=False).encode())
    assert report.created == 516 and Procedure.select().count() == 516
    rejected = {r: why for r, _, why in report.rejected}
    assert sorted(rejected) == [4, 8, 10, 12, 521]
    assert "không đúng dạng" in rejected[4][0] and "thiếu tên" in rejected[8][0]
    assert "trùng" in rejected[521][0]
    fixed = sample(520)
    fixed[0]["result"] = "Giấy khai sinh (bản chính)"
    again = import_file("catalog.json", json.dumps(fixed, ensure_ascii=False).encode())
    assert (again.created, again.updated, again.unchanged) == (4, 1, 515)  # the refused rows, now right
    assert Procedure.get(Procedure.code == fixed[0]["code"]).result == "Giấy khai sinh (bản chính)"


def _flat(rows):
    for row in rows:
        yield {**row, "steps": "\n".join(row["steps"]), "legal_basis": "\n".join(row["legal_basis"]),
               "components": "\n".join(c["name"] for c in row["components"]),
               "ways": "\n".join(f"{w['way']}|{w['days']}|{w['hours']}|{w['fee']}|" for w in row["ways"])}


def test_csv_and_xlsx_in_the_same_shape(db):
    as_hub(db)
    rows = list(_flat(sample(30)))
    rows[2]["level"] = "huyen"  # no districts since 1 July 2025, but the national records still say so: kept
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    report = import_file("catalog.csv", buffer.getvalue().encode("utf-8"))
    assert report.created == 30 and not report.rejected
    assert Procedure.get(Procedure.code == rows[2]["code"]).levels() == ["huyen"]
    ks = Procedure.get(Procedure.code == "1.001000")
    way = ks.as_dict()["ways"][0]
    assert (way["way"], way["days"], way["hours"], way["amount"], way["unit"]) == ("truc_tiep", 0, 0, None, "trong_ngay")
    book = Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in _flat(sample(40)):
        sheet.append(list(row.values()))
    data = io.BytesIO()
    book.save(data)
    report = import_file("catalog.xlsx", data.getvalue())
    assert report.created == 10 and not report.rejected  # 30 known, 10 new
