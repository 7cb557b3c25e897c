"""A box's writer killed with SIGKILL at random moments loses nothing it acknowledged, and
leaves a database whose numbering, change log and rows still agree.

``MOTCUA_CRASH_KILLS`` sets the number of kills (default 200), ``MOTCUA_CRASH_SEED`` replays
a run (the seed is printed and named in any failure). ``bench/crash.py`` runs 1,000 and more.
"""
import copy
import os
import random
import shutil

import pytest

from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import MODELS, Rating, Ticket, TicketEvent
from office.queue import QueuePolicy, call_next, finish, issue_ticket, sign_in, start_serving
from office.ratings import rate
from office.seed import seed_office
from sync.capture import init_node
from sync.models import ChangeEntry

from . import harness

KILLS = int(os.environ.get("MOTCUA_CRASH_KILLS") or 200)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path):
    seed = int(os.environ.get("MOTCUA_CRASH_SEED") or random.randrange(2**32))
    print(f"crash test: MOTCUA_CRASH_SEED={seed} MOTCUA_CRASH_KILLS={KILLS}")
    path = tmp_path / "box.db"
    harness.prepare(path)
    with open(tmp_path / "issuer.err", "ab") as stderr:
        try:
            acks, stats = harness.run(path, KILLS, random.Random(seed), stderr)
        except harness.ChildFailed as exc:
            raise AssertionError(f"seed {seed}: {exc}\n{(tmp_path / 'issuer.err').read_text()[-3000:]}") from None
    problems, held = harness.verify(path, acks)
    print(f"crash test: {stats}, acknowledged {len(acks.tickets)} tickets, held {held}")
    assert stats.kills >= KILLS
    assert len(acks.tickets) > KILLS, f"seed {seed}: too few tickets acknowledged to mean anything"
    assert acks.ratings and acks.events, f"seed {seed}: the issuers wrote only tickets"
    assert not problems, f"seed {seed}: " + "\n".join(problems[:40])


# ---- the checks find what they look for ----------------------------------------------------

@pytest.fixture(scope="module")
def box_template(tmp_path_factory):
    """A small box database written in this process, with what its clients were told."""
    path = tmp_path_factory.mktemp("crash-template") / "box.db"
    db = bind(open_database(str(path)), MODELS)
    init_node(harness.NODE_ID, harness.COMMUNE)
    seed_office(find_commune(harness.COMMUNE))
    policy, acks = QueuePolicy(), harness.Acks()
    counter = sign_in(1, harness_officer()).id
    for code in ("ho-tich", "ho-tich", "tu-phap", "chung-thuc"):
        t = issue_ticket(policy, code)
        acks.take(f"T {t.id} {t.day} {t.prefix} {t.seq} {t.number}")
    t = call_next(policy, counter)
    acks.take(f"E {t.id} call")
    start_serving(counter)
    finish(counter)
    acks.take(f"R {rate(t.id, 3).id} {t.id}")
    db.close()  # checkpoints the WAL into the file: the file alone is the database
    return path, acks


@pytest.fixture
def box(box_template, tmp_path):
    """A copy of the template, for one test to damage."""
    source, acks = box_template
    path = tmp_path / "box.db"
    shutil.copyfile(source, path)
    return path, copy.deepcopy(acks)


def harness_officer():
    from office.models import Officer

    return Officer.get(Officer.username == "canbo1")


def _damage(path, *sql):
    db = open_database(str(path))
    database.initialize(db)
    db.connect()
    for statement in sql:
        db.execute_sql(statement)
    db.close()


def test_checks_pass_on_an_undamaged_box(box):
    path, acks = box
    problems, held = harness.verify(path, acks)
    assert problems == [] and held["tickets"] == 4 and held["ratings"] == 1


@pytest.mark.parametrize("sql, expected", [
    # a ticket row lost: the client's ticket, the numbering and the log all notice
    (["DELETE FROM ticket_event WHERE ticket_id = (SELECT id FROM ticket WHERE number = 'A-002')",
      "DELETE FROM ticket WHERE number = 'A-002'"],
     ["acknowledged ticket A-002", "ticket_sequence", "in the change log but not in the table"]),
    # a number skipped (a number given twice is refused by the unique index already)
    (["UPDATE ticket SET seq = 3, number = 'A-003' WHERE number = 'A-002'"],
     ["was (", "gaps [2]", "log != row"]),
    # the sequence ran ahead of the tickets: the next number would skip one
    (["UPDATE ticket_sequence SET last = last + 1 WHERE prefix = 'D'"], ["ticket_sequence"]),
    # a write that bypassed capture
    (["UPDATE ticket SET recalls = 7 WHERE number = 'B-001'"], ["log != row on {'recalls': (0, 7)}"]),
    (["DELETE FROM rating"], ["acknowledged rating", "in the change log but not in the table"]),
    # the log edited, cut or reordered
    (["UPDATE change_entry SET data = replace(data, 'A-001', 'A-009') WHERE seq = (SELECT min(seq) FROM change_entry WHERE \"table\" = 'ticket')"],
     ["hash does not match", "log != row"]),
    (["DELETE FROM change_entry WHERE seq = 3"], ["seq 4 where 3 was due", "prev"]),
    (["DELETE FROM change_entry WHERE seq = (SELECT max(seq) FROM change_entry)"], ["sync_node points at"]),
])
def test_checks_catch_damage(box, sql, expected):
    path, acks = box
    _damage(path, *sql)
    problems, _ = harness.verify(path, acks)
    text = "\n".join(problems)
    for needle in expected:
        assert needle in text, text


def test_checks_catch_a_lost_acknowledged_event(box):
    path, acks = box
    acks.take(f"E {next(iter(acks.tickets))} recall")
    problems, _ = harness.verify(path, acks)
    assert any("acknowledged event" in p for p in problems)


def test_replay_of_the_log_equals_the_tables(box):
    """The fold itself, spelled out on the small box: every table the queue wrote is there."""
    path, _ = box
    db = open_database(str(path))
    database.initialize(db)
    entries, problems = harness.check_chain(harness.NODE_ID)
    replayed = harness.log_picture(entries)
    assert problems == []
    assert {"office", "service", "officer", "counter", "counter_service", "ticket", "ticket_event", "rating"} <= set(replayed)
    assert len(replayed["ticket"]) == Ticket.select().count() == 4
    assert len(replayed["ticket_event"]) == TicketEvent.select().count()
    assert len(replayed["rating"]) == Rating.select().count() == 1
    assert len(entries) == ChangeEntry.select().count()
    db.close()
