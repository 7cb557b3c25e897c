"""The hub's rolled-up queue statistics give the figures the tickets give, on SQLite and PostgreSQL:
before any rollup, after it, and after a box that was offline pushes tickets of past days (new
tickets, changed tickets, a new day in a month already rolled up), before and after the next rollup."""
import random
from datetime import date, datetime, timedelta

import pytest

from office import stats_queue, stats_rollup
from office.db import bind, database, open_database
from office.models import MODELS, Counter, Office, Officer, Service, Ticket
from office.stats_period import Filters, Period
from sync.capture import applying_remote, init_node

COMMUNES = ("05518", "05521", "00001")
TODAY = "2026-04-20"
CASES = [(period, filters, by)
         for period in (Period.month(2026, 3), Period.quarter(2026, 1), Period.year(2026),
                        Period.between(date(2026, 2, 10), date(2026, 4, 5)), Period.between(date(2026, 3, 9), date(2026, 3, 9)))
         for filters in (Filters(), Filters(commune="05521"))
         for by in ("service", "counter", "officer", "commune")]


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    schema = None
    if request.param == "postgresql":
        from tests.sync.conftest import drop_schema, postgres_schema

        schema, url = postgres_schema()
        handle = bind(open_database(url), MODELS)
    else:
        handle = bind(open_database(str(tmp_path / "hub.db")), MODELS)
    init_node("hub-rollup-test", "*")
    with applying_remote():
        for n, commune in enumerate(COMMUNES):
            Office.insert(id=f"office-{n}", commune=commune, name=f"UBND xã {n}", agency_code=f"000.19.{commune}").execute()
            for k, code in enumerate(("ho-tich", "chung-thuc", "dat-dai")):
                Service.insert(id=f"s{n}{k}", commune=commune, code=code, name=code, prefix=chr(65 + k)).execute()
                Counter.insert(id=f"c{n}{k}", commune=commune, number=k + 1).execute()
                Officer.insert(id=f"o{n}{k}", commune=commune, username=f"canbo{k}", full_name=f"Cán bộ {k}",
                               password_hash="x").execute()
    yield handle
    handle.close()
    database.initialize(None)
    if schema:
        drop_schema(schema)


def tickets(rng, first, days, per_day, start_id=0, communes=COMMUNES):
    """Tickets of every commune on ``days`` days from ``first``: waits and service times in
    microseconds, a few no-shows and cancelled ones, some called by nobody yet."""
    rows, number = [], start_id
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() == 6 and days > 1:  # no office on Sundays (a late push may still bring one)
            continue
        for commune in communes:
            n = COMMUNES.index(commune)
            for seq in range(rng.randrange(1, per_day)):
                number += 1
                issued = datetime.combine(day, datetime.min.time()) + timedelta(hours=1, seconds=rng.uniform(0, 30000))
                state = rng.choices(("done", "no_show", "cancelled", "issued"), (85, 6, 5, 4))[0]
                called = issued + timedelta(seconds=rng.expovariate(1 / 700)) if state in ("done", "no_show") else None
                serving = called + timedelta(seconds=rng.uniform(5, 60)) if state == "done" else None
                ended = serving + timedelta(seconds=rng.expovariate(1 / 400)) if state == "done" else None
                k = rng.randrange(3)
                rows.append({"id": f"t{number:06d}", "commune": commune, "day": day.isoformat(), "prefix": "A",
                             "seq": start_id + seq + 1 + 1000 * offset, "number": f"A-{seq:03d}", "service": f"s{n}{k}",
                             "state": state, "tracking_code": f"tr{number:06d}",
                             "counter": f"c{n}{rng.randrange(3)}" if called else None,
                             "officer": f"o{n}{rng.randrange(3)}" if called else None,
                             "issued_at": issued, "queued_at": issued, "called_at": called, "serving_at": serving,
                             "ended_at": ended})
    with applying_remote():
        for at in range(0, len(rows), 200):
            Ticket.insert_many(rows[at:at + 200]).execute()
    return rows


def live_figures(monkeypatch):
    """Every case computed from the tickets alone (the rollup ignored)."""
    with monkeypatch.context() as patch:
        patch.setattr(stats_rollup, "installed", lambda: False)
        return [figures(case) for case in CASES]


def figures(case):
    table = stats_queue.queue_stats(*case)
    return table.rows, table.total


def assert_same_as_live(monkeypatch):
    expected = live_figures(monkeypatch)
    assert any(rows for rows, _ in expected)
    for case, wanted in zip(CASES, expected):
        assert figures(case) == wanted, case


def test_rolled_up_queue_figures_equal_the_live_ones_also_after_late_pushes(hub, monkeypatch):
    rng = random.Random(15)
    tickets(rng, date(2026, 1, 25), 80, 9)  # late January to mid April
    stats_rollup.install(hub)
    assert stats_rollup.installed()
    assert_same_as_live(monkeypatch)  # nothing rolled up yet: every day read from the tickets

    days, months = stats_rollup.roll_up(TODAY)
    assert days > 200 and months == 9  # January, February and March of three communes (April is not over)
    assert not stats_rollup.QueueRollupDay.select().where(stats_rollup.QueueRollupDay.stale == 1,
                                                           stats_rollup.QueueRollupDay.day < TODAY).exists()
    assert_same_as_live(monkeypatch)

    # a box offline since early March pushes now: new tickets on a rolled-up day of a rolled-up month,
    # a ticket of another past day finished late, and tickets of a day that had none
    empty_day = next(d for d in (date(2026, 3, 1) + timedelta(days=i) for i in range(31))
                     if not Ticket.select().where(Ticket.commune == "05521", Ticket.day == d.isoformat()).exists())
    with applying_remote():
        changed = Ticket.select().where(Ticket.commune == "05521", Ticket.day == "2026-03-10",
                                        Ticket.state == "done").first()
        Ticket.update(ended_at=changed.ended_at + timedelta(minutes=47)).where(Ticket.id == changed.id).execute()
    late = tickets(random.Random(16), date(2026, 3, 9), 1, 12, start_id=50_000, communes=("05521",))
    moved = tickets(random.Random(17), empty_day, 1, 6, start_id=60_000, communes=("05521",))
    assert late and moved
    month_rows = stats_rollup.QueueRollupMonth.select().where(stats_rollup.QueueRollupMonth.month == "2026-03")
    assert {r.commune for r in month_rows} == {"05518", "00001"}, "the pushed commune's March rows were dropped"
    assert stats_rollup.QueueRollupDay.get(commune="05521", day="2026-03-10").stale == 1
    assert_same_as_live(monkeypatch)  # before the next rollup: the stale days read live

    days, months = stats_rollup.roll_up(TODAY)
    assert months == 1 and days == 3
    assert_same_as_live(monkeypatch)  # and after it, from the rows again

    # a ticket deleted (a repair at the hub) counts no more
    with applying_remote():
        Ticket.delete().where(Ticket.id == late[0]["id"]).execute()
    assert_same_as_live(monkeypatch)
    stats_rollup.roll_up(TODAY)
    assert_same_as_live(monkeypatch)


def test_today_is_never_rolled_up(hub, monkeypatch):
    tickets(random.Random(3), date(2026, 4, 18), 3, 6)  # 18, 19 and 20 April (today)
    stats_rollup.install(hub)
    stats_rollup.roll_up(TODAY)
    stale = {d for (d,) in stats_rollup.QueueRollupDay.select(stats_rollup.QueueRollupDay.day).where(
        stats_rollup.QueueRollupDay.stale == 1).tuples()}
    assert stale == {TODAY}
    assert not stats_rollup.QueueRollupMonth.select().exists()  # April is not over
    expected = live_figures(monkeypatch)
    assert [figures(c) for c in CASES] == expected


def test_install_marks_the_tickets_already_there(hub):
    tickets(random.Random(4), date(2026, 3, 2), 2, 5)
    stats_rollup.install(hub)
    stats_rollup.install(hub)  # again at the next start: nothing changes
    pairs = set(stats_rollup.QueueRollupDay.select(stats_rollup.QueueRollupDay.commune, stats_rollup.QueueRollupDay.day)
                .where(stats_rollup.QueueRollupDay.stale == 1).tuples())
    assert pairs == set(Ticket.select(Ticket.commune, Ticket.day).distinct().tuples())
