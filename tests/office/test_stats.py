"""Statistics on hand-built data, worked out by hand: on SQLite and on PostgreSQL (the SQL of
buckets, time differences and the 90th percentile differs between them)."""
from datetime import date, datetime

import pytest

from office import stats, stats_queue
from office.calendar import WorkCalendar
from office.db import bind, database, open_database
from office.errors import MotcuaError
from office.models import MODELS
from office.stats_period import Filters, Period, parse_period
from sync.capture import init_node
from tests.stats_data import A, B, NOW, load

MARCH = Period.month(2026, 3)
COUNTS = ("received", "resolved", "early", "on_time", "late", "pending", "overdue_open", "other", "on_time_pct")


@pytest.fixture(params=["sqlite", "postgresql"])
def data(request, tmp_path):
    schema = None
    if request.param == "postgresql":
        from tests.sync.conftest import drop_schema, postgres_schema

        schema, url = postgres_schema()
        handle = bind(open_database(url), MODELS)
    else:
        handle = bind(open_database(str(tmp_path / "stats.db")), MODELS)
    init_node("hub-stats-test", "*")
    load()
    yield handle
    handle.close()
    database.initialize(None)
    if schema:
        drop_schema(schema)


def numbers(row):
    return tuple(row[k] for k in COUNTS)


# ---- periods ---------------------------------------------------------------------------------------

def test_periods_include_their_first_and_last_day():
    assert (MARCH.start, MARCH.end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert MARCH.bounds() == (datetime(2026, 3, 1), datetime(2026, 4, 1))
    assert Period.month(2026, 12).bounds()[1] == datetime(2027, 1, 1)
    assert Period.month(2024, 2).end == date(2024, 2, 29)
    q1 = Period.quarter(2026, 1)
    assert (q1.start, q1.end, q1.label) == (date(2026, 1, 1), date(2026, 3, 31), "Quý I năm 2026")
    assert Period.quarter(2026, 4).end == date(2026, 12, 31)
    assert MARCH.label == "Tháng 03/2026" and MARCH.days() == ("2026-03-01", "2026-03-31")


def test_periods_are_read_from_a_form_with_vietnamese_errors():
    today = date(2026, 5, 17)
    assert parse_period({}, today) == Period.month(2026, 5)
    assert parse_period({"month": "2026-03"}, today) == MARCH
    assert parse_period({"quarter": "2026-q2"}, today) == Period.quarter(2026, 2)
    assert parse_period({"year": "2025"}, today) == Period.year(2025)
    assert parse_period({"from": "2026-03-05", "to": "2026-03-05", "month": "2026-01"}, today) == \
        Period.between(date(2026, 3, 5), date(2026, 3, 5))
    for values, words in (({"from": "2026-02-30", "to": "2026-03-01"}, "không hợp lệ"),
                          ({"from": "2026-03-02", "to": "2026-03-01"}, "phải trước"),
                          ({"from": "2026-03-02"}, "cả"),
                          ({"month": "2026-13"}, "Tháng"), ({"quarter": "2026-Q5"}, "Quý"),
                          ({"from": "2000-01-01", "to": "2026-01-01"}, "5 năm")):
        with pytest.raises(MotcuaError, match=words) as caught:
            parse_period(values, today)
        assert caught.value.status == 400


# ---- dossiers ------------------------------------------------------------------------------------

def test_summary_by_commune_counts_the_dossiers_received_in_the_month(data):
    table = stats.summary(MARCH, Filters(), "commune", NOW)
    rows = {r["key"]: r for r in table.rows}
    assert numbers(rows[A]) == (6, 3, 1, 1, 1, 2, 1, 1, 66.7)
    assert rows[A]["label"] == "UBND Phường Sông Công"
    assert numbers(rows[B]) == (1, 1, 0, 0, 1, 0, 0, 0, 0.0)
    assert numbers(table.total) == (7, 4, 1, 1, 2, 2, 1, 1, 50.0)


def test_commune_filter_and_quarter(data):
    only_b = stats.summary(MARCH, Filters(commune=B), "commune", NOW)
    assert [r["key"] for r in only_b.rows] == [B]
    quarter = stats.summary(Period.quarter(2026, 1), Filters(commune=A), "commune", NOW)
    assert numbers(quarter.total) == (7, 3, 1, 1, 1, 3, 2, 1, 66.7)  # + 28/02, open and overdue
    assert stats.summary(Period.between(date(2026, 4, 1), date(2026, 4, 1)), Filters(), "commune", NOW).total[
        "received"] == 1  # 01/04 00:00 belongs to April


def test_summary_by_field_procedure_day_month_stage_handler(data):
    by_field = {r["key"]: r for r in stats.summary(MARCH, Filters(), "field", NOW).rows}
    assert numbers(by_field["Chứng thực"]) == (3, 2, 0, 1, 1, 0, 0, 1, 50.0)
    assert numbers(by_field["Hộ tịch"]) == (4, 2, 1, 0, 1, 2, 1, 0, 50.0)
    by_procedure = stats.summary(MARCH, Filters(field="Chứng thực"), "procedure", NOW)
    assert [(r["label"], r["received"]) for r in by_procedure.rows] == [("2.000815 – Chứng thực chữ ký", 3)]
    by_day = stats.summary(MARCH, Filters(commune=A), "day", NOW)
    assert [(r["key"], r["label"], r["received"]) for r in by_day.rows][0] == ("2026-03-01", "01/03/2026", 1)
    assert by_day.rows[-1]["key"] == "2026-03-31"
    assert [(r["key"], r["received"]) for r in stats.summary(Period.quarter(2026, 1), Filters(), "month", NOW).rows] \
        == [("2026-02", 1), ("2026-03", 7)]
    by_handler = {r["key"]: r["received"] for r in stats.summary(MARCH, Filters(), "handler", NOW).rows}
    assert by_handler == {"Lan": 3, "Minh": 2, "Hoa": 1, "": 1}
    assert stats.summary(MARCH, Filters(procedure="1.001193", commune=A), "stage", NOW).total["received"] == 3


def test_overdue_list_is_sorted_by_lateness_in_working_days(data):
    table = stats.overdue(MARCH, Filters(), NOW, WorkCalendar())
    rows = list(table.rows)
    assert [(r["code"], r["days_late"], r["state"]) for r in rows] == [
        ("X-d2", 5, "Đang quá hạn"),  # due Fri 03/04, now Fri 10/04: 6, 7, 8, 9, 10 April
        ("X-d4", 2, "Đã xong, trễ hạn"),  # due Wed 18/03, finished Fri 20/03
        ("X-d8", 1, "Đã xong, trễ hạn"),
    ]
    assert rows[0]["due_at"] == datetime(2026, 4, 3, 17) and rows[0]["commune"] == "UBND Phường Sông Công"
    assert [r["code"] for r in stats.overdue(MARCH, Filters(commune=B), NOW).rows] == ["X-d8"]
    assert len(list(stats.overdue(MARCH, Filters(), NOW, limit=1).rows)) == 1


def test_lateness_per_handler(data):
    table = stats.lateness_by_handler(MARCH, Filters(), NOW)
    assert [(r["handler"], r["late"], r["overdue_open"], r["total"]) for r in table.rows] == [
        ("Minh", 1, 1, 2), ("Hoa", 1, 0, 1)]
    assert table.total["total"] == 3


def test_index_766(data):
    table = stats.index766(MARCH, Filters(), NOW)
    rows = {r["key"]: r for r in table.rows}
    a = rows[A]  # 6 dossiers; d3 and d4 rated dissatisfied, d2 and d4 late: d4 is deducted once
    assert (a["dossiers"], a["resolved"], a["on_time"], a["on_time_ratio"]) == (6, 3, 2, 66.7)
    assert (a["dissatisfied"], a["late"], a["deducted"], a["satisfaction_index"]) == (2, 2, 3, 50.0)
    assert (rows[B]["deducted"], rows[B]["satisfaction_index"]) == (1, 0.0)
    assert (table.total["dossiers"], table.total["deducted"], table.total["satisfaction_index"]) == (7, 4, 42.9)
    assert "Phản ánh, kiến nghị chưa được ghi nhận" in table.note


# ---- queue and ratings -----------------------------------------------------------------------------

def test_p90_is_percentile_cont():
    assert stats_queue.p90([]) is None and stats_queue.p90([7]) == 7
    assert stats_queue.p90(list(range(10, 0, -1))) == pytest.approx(9.1)
    assert stats_queue.p90([1, 2]) == pytest.approx(1.9)


def test_queue_by_service_counter_officer(data):
    service = stats_queue.queue_stats(MARCH, Filters(), "service")
    (row,) = service.rows
    assert (row["key"], row["label"], row["tickets"], row["called"], row["no_show"], row["no_show_pct"]) == \
        ("ho-tich", "Hộ tịch", 12, 11, 2, 18.2)
    assert (row["wait_avg"], row["wait_p90"], row["service_avg"], row["service_p90"]) == (6.8, 10.0, 9.1, 14.4)
    assert service.total["tickets"] == 12 and service.total["wait_p90"] == 10.0
    assert (service.total["wait_avg"], service.total["service_avg"], service.total["service_p90"]) == (6.8, 9.1, 14.4)
    counters = {r["key"]: r for r in stats_queue.queue_stats(MARCH, Filters(commune=A), "counter").rows}
    one = counters["c1"]  # waits 1..10 min: p90 9.1; services 2..16 min: p90 14.6
    assert (one["label"], one["called"], one["no_show_pct"], one["wait_avg"], one["wait_p90"]) == \
        ("Quầy số 1", 10, 20.0, 5.5, 9.1)
    assert (one["service_avg"], one["service_p90"]) == (9.0, 14.6)
    assert (counters["c2"]["wait_p90"], counters["c2"]["service_p90"]) == (20.0, 10.0)
    officers = {r["key"]: r for r in stats_queue.queue_stats(MARCH, Filters(), "officer").rows}
    assert officers["o2"]["label"] == "Trần Văn Minh – UBND Phường Sông Công"
    assert officers[None]["tickets"] == 1  # the cancelled ticket nobody called
    assert stats_queue.queue_stats(MARCH, Filters(commune=B), "service").rows == []


def test_satisfaction_per_officer_and_commune(data):
    table = stats_queue.satisfaction(MARCH, Filters(), "officer")
    rows = {r["key"]: r for r in table.rows}
    assert (rows["o1"]["very"], rows["o1"]["satisfied"], rows["o1"]["dissatisfied"], rows["o1"]["total"],
            rows["o1"]["satisfied_pct"]) == (1, 1, 2, 4, 50.0)
    assert (rows["o2"]["total"], rows["o2"]["satisfied_pct"]) == (1, 100.0)
    assert (table.total["total"], table.total["satisfied_pct"]) == (5, 60.0)
    by_commune = stats_queue.satisfaction(MARCH, Filters(), "commune")
    assert [(r["key"], r["total"]) for r in by_commune.rows] == [(A, 5), (B, 0)]  # a commune without ratings: 0
    assert stats_queue.satisfaction(MARCH, Filters(commune=B)).rows == []
    april = stats_queue.satisfaction(Period.month(2026, 4))
    assert april.total["dissatisfied"] == 1


def test_online_dossier_not_yet_accepted_is_neither_received_nor_overdue(data):
    """Defect: a dossier submitted online (status 1, waiting for the commune to accept it) was counted
    as received and, past the placeholder due date, as open and overdue in statistics and reminders."""
    from office.dossiers import overdue
    from sync.capture import applying_remote
    from tests.stats_data import dossier

    before = numbers(stats.summary(MARCH, Filters(), "commune", NOW).total)
    overdue_before = {d.code for d in overdue(NOW)}
    with applying_remote():
        dossier("online-1", A, datetime(2026, 3, 2, 9), datetime(2026, 3, 4, 17), status=1, stage="Mới đăng ký")
    assert numbers(stats.summary(MARCH, Filters(), "commune", NOW).total) == before
    assert "X-online-1" not in [r["code"] for r in stats.overdue(MARCH, Filters(), NOW, WorkCalendar()).rows]
    assert {d.code for d in overdue(NOW)} == overdue_before


def test_the_summary_by_commune_reads_no_dossier_row_on_sqlite(tmp_path, monkeypatch):
    """Since phi địa giới the summary by commune asked every dossier of the period for the commune
    that decides it, a column the covering indexes lacked: a year of 100 communes went from 0.28 s
    to 1.08 s (bench/stats.py, issue 15). Each of its statements now reads an index only."""
    handle = bind(open_database(str(tmp_path / "stats.db")), MODELS)
    init_node("hub-stats-test", "*")
    load()
    ran = []
    execute = handle.execute_sql
    monkeypatch.setattr(handle, "execute_sql", lambda sql, params=None, *a: ran.append((sql, params)) or execute(sql, params))
    stats.summary(MARCH, Filters(), "commune", NOW)
    monkeypatch.undo()
    statements = [(sql, params) for sql, params in ran if '"dossier"' in sql and "RECURSIVE" not in sql]
    assert len(statements) == 2, statements  # received and resolved by commune; resolved where decided
    for sql, params in statements:
        plan = " ".join(row[-1] for row in handle.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "COVERING INDEX" in plan or "USING INDEX dossier_decided_by" in plan, plan
        assert "SCAN" not in plan.replace("SCAN c", ""), plan  # no walk over every dossier
    handle.close()
    database.initialize(None)
