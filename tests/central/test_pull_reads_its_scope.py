"""A box's pull reads its own part of the hub's log, not every commune's entries after its cursor.

Read by id alone, the pull went through every commune's entries since the cursor to find the box's
own: after a province's three-day outage every box's first pull walked the whole province's backlog
(bench/README.md, "On paper: a national hub"). The entries it returns are the same as before."""
import random
from datetime import datetime

import pytest

from central.app import HUB_MODELS
from central.models import BoxNode
from central.outbound import pulled_entries
from office.db import bind, database, open_database
from office.dossiers import Dossier, DossierEvent
from sync.capture import applying_remote
from sync.models import ChangeEntry
from sync.policy import GLOBAL_SCOPE, HUB_NODE

from tests.sqlite_steps import sqlite_steps

OWN, OTHER = "05518", "05521"
NOW = datetime(2026, 12, 7, 2, 0)


@pytest.fixture
def hub_db(tmp_path):
    db = bind(open_database(str(tmp_path / "hub.db")), HUB_MODELS)
    yield db
    db.close()


@pytest.fixture
def box(hub_db):
    return BoxNode.create(node_id="box-own", commune=OWN, public_key="-", registered_at=NOW)


def log(entries):
    """Append (origin, scope, table, pk) entries to the hub's log; their ids follow in order."""
    seqs = {}
    rows = []
    for origin, scope, table, pk in entries:
        seqs[origin] = seqs.get(origin, ChangeEntry.select().where(ChangeEntry.origin == origin).count()) + 1
        rows.append((origin, seqs[origin], 1, table, pk, "insert", scope, "{}", "", "", f"h{len(rows)}", NOW))
    database.connection().executemany(
        'INSERT INTO change_entry (origin, seq, hlc, "table", pk, op, scope, data, base, prev, hash, created_at)'
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def end():
    return ChangeEntry.select(ChangeEntry.id).order_by(ChangeEntry.id.desc()).first().id


def steps_of_a_pull(box, cursor):
    """(SQLite's virtual machine steps, in hundreds, to find the box's entries after ``cursor``; them)."""
    return sqlite_steps(lambda: pulled_entries(box, cursor, end(), 2000), every=100)


def test_a_pull_does_not_read_other_communes_entries(box):
    log([(HUB_NODE, OWN, "procedure", f"p{i}") for i in range(30)] + [(HUB_NODE, GLOBAL_SCOPE, "service", "s1")])
    cursor = end()
    log([(HUB_NODE, OWN, "procedure", f"q{i}") for i in range(30)])
    alone, found_alone = steps_of_a_pull(box, cursor)

    # a province reconnects: 40 other communes push 500 entries each after the box's cursor
    log([(f"box-{c}", f"{c:05d}", "ticket", f"t{c}-{i}") for c in range(40) for i in range(500)])
    crowded, found_crowded = steps_of_a_pull(box, cursor)

    assert [row[5] for row in found_crowded] == [row[5] for row in found_alone] == [f"q{i}" for i in range(30)]
    assert crowded < 2 * alone + 10, (alone, crowded)  # by id alone: 20,000 entries read, ~50 times more


def reference(box, cursor, stop, limit):
    """What a pull returned before: the first ``limit`` entries by id that the box receives."""
    routed = {d.id for d in Dossier.select().where(Dossier.decided_by == box.commune)}
    events = {e.id for e in DossierEvent.select().where(DossierEvent.dossier.in_(routed))} if routed else set()
    wanted = []
    for entry in ChangeEntry.select().where(ChangeEntry.id > cursor, ChangeEntry.id <= stop).order_by(ChangeEntry.id):
        if entry.origin == box.node_id:
            continue
        if entry.scope in (box.commune, GLOBAL_SCOPE) or (entry.table == "dossier" and entry.pk in routed) or (
                entry.table == "dossier_event" and entry.pk in events):
            wanted.append(entry.id)
    return wanted[:limit]


def test_a_pull_returns_what_it_returned_before(box):
    """Its commune's entries, everyone's, a dossier it decides for another commune with its events;
    never its own entries, another commune's other rows, or a dossier decided elsewhere."""
    with applying_remote():  # rows as the merge writes them, without log entries of their own
        for pk, commune, decider in (("d-routed", OTHER, OWN), ("d-other", OTHER, ""), ("d-own", OWN, "")):
            Dossier.insert(id=pk, commune=commune, decided_by=decider, code=pk, procedure_code="1.0",
                           procedure_name="x", applicant_name="x", received_at=NOW, due_at=NOW).execute()
        for pk, dossier in (("e-routed", "d-routed"), ("e-other", "d-other")):
            DossierEvent.insert(id=pk, commune=OTHER, dossier=dossier, action="receive", at=NOW, status=2).execute()
    kinds = [(HUB_NODE, OWN, "procedure", "p"), (HUB_NODE, GLOBAL_SCOPE, "service", "s"), ("box-own", OWN, "ticket", "t"),
             ("box-other", OTHER, "ticket", "o"), ("box-other", OTHER, "dossier", "d-routed"),
             ("box-other", OTHER, "dossier_event", "e-routed"), ("box-other", OTHER, "dossier", "d-other"),
             ("box-other", OTHER, "dossier_event", "e-other"), ("box-x", "05524", "rating", "r")]
    rng = random.Random(7)
    log([rng.choice(kinds) for _ in range(600)])
    stop = end()
    for cursor in (0, 1, 37, 300, stop - 5, stop):
        for limit in (1, 7, 50, 2000):
            assert [row[0] for row in pulled_entries(box, cursor, stop, limit)] == reference(box, cursor, stop, limit)
