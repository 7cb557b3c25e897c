"""What a ticket costs the storage: kiosks issuing at the same moment share one commit (one fsync
of edge.db), and the worker's nudge adds no fsync of its own."""
import threading
import time

from office.db import database
from office.models import Ticket

SERVICES = ["ho-tich", "chung-thuc", "dat-dai", "tu-phap", "ldtbxh", "ho-tich", "chung-thuc", "dat-dai"]


def test_tickets_issued_at_once_share_a_commit(app, monkeypatch):
    commits, arrived = [], []
    original = database.obj.commit

    def commit():
        commits.append(threading.current_thread().name)
        return original()

    monkeypatch.setattr(database.obj, "commit", commit)
    app.before_request(lambda: arrived.append(1) and None)
    answers = []

    def kiosk(code):
        answers.append(app.test_client().post("/api/v1/tickets", json={"service": code}).status_code)

    threads = [threading.Thread(target=kiosk, args=(code,)) for code in SERVICES]
    with database.atomic():  # a counter's write holds the lock while eight kiosks ask at once
        for thread in threads:
            thread.start()
        for _ in range(1000):  # bounded: 10 s
            if len(arrived) == len(SERVICES):
                break
            time.sleep(0.01)
        time.sleep(0.3)  # let them reach the write lock
        commits.clear()
    for thread in threads:
        thread.join(20)
    assert answers == [201] * len(SERVICES)
    assert Ticket.select().count() == len(SERVICES)
    # One commit each before: eight fsyncs in a row. Now the first alone, the seven queued behind it together.
    assert len(commits) <= 3, commits


def test_the_workers_nudge_does_not_wait_for_the_storage(app):
    huey_storage = app.extensions["box"].tasks["print_job"].huey.storage
    with huey_storage.db(commit=False) as cursor:
        synchronous = cursor.execute("pragma synchronous").fetchone()[0]
    assert synchronous == 1  # NORMAL: WAL stays whole through a power cut; FULL (2) cost a second fsync per ticket


def test_kiosks_issuing_at_once_send_the_worker_one_nudge_between_them(app):
    """Twenty kiosks issuing together queued twenty nudges on the task store's one connection,
    behind the worker's reads of it: the web waited there instead of issuing (issue 15)."""
    box = app.extensions["box"]
    sent, on_its_way = [], threading.Event()

    def print_job(*args):
        sent.append(args)
        on_its_way.wait(10)

    box.tasks = dict(box.tasks, print_job=print_job)
    box.nudge_printer()
    for _ in range(1000):  # bounded: 10 s
        if sent:
            break
        time.sleep(0.01)
    for _ in range(7):  # tickets committed while the first nudge is on its way: one more covers them
        box.nudge_printer()
    on_its_way.set()
    assert box.printer_nudge.wait_sent(10)
    assert sent == [(), ()]


def test_a_ticket_does_not_wait_for_the_task_store(app):
    """The request sent the worker's nudge itself: with the task store busy (huey's lock held, as
    while the worker reads it), the kiosk's answer waited for it (issue 15: one web thread of eight
    was always there under twenty kiosks)."""
    box = app.extensions["box"]
    answers = []
    kiosk = threading.Thread(target=lambda: answers.append(
        app.test_client().post("/api/v1/tickets", json={"service": "ho-tich"}).status_code))
    with box.tasks["print_job"].huey.storage.lock:  # the task store is busy
        kiosk.start()
        kiosk.join(10)
        assert answers == [201]
    assert box.printer_nudge.wait_sent(10)  # sent once the store was free


def test_one_nudge_prints_every_job_due(app, settings):
    from edge.tasks import create_huey
    from office.models import PrintJob

    client = app.test_client()
    for code in SERVICES[:5]:
        assert client.post("/api/v1/tickets", json={"service": code}).status_code == 201
    assert PrintJob.select().where(PrintJob.state == PrintJob.PENDING).count() == 5
    _, tasks = create_huey(dict(settings, printer="dummy"))
    tasks["print_job"].call_local()  # the worker runs the one nudge the five tickets sent
    assert PrintJob.select().where(PrintJob.state == PrintJob.DONE).count() == 5


def test_the_workers_print_bookkeeping_does_not_wait_for_the_storage(app, settings):
    """The worker claimed and closed each round of print jobs in two commits with an fsync each,
    holding the box's writer lock the kiosks' tickets wait for (issue 15: the web idled a fifth of
    the time while the worker printed)."""
    from edge.printing import print_due
    from devices.printer import open_printer
    from office.models import PrintJob

    client = app.test_client()
    for code in SERVICES[:3]:
        assert client.post("/api/v1/tickets", json={"service": code}).status_code == 201
    statements = []
    database.connection().set_trace_callback(statements.append)
    try:
        tried, failed = print_due(lambda: open_printer("dummy", settings["data_dir"], 5), dict(settings, printer="dummy"))
    finally:
        database.connection().set_trace_callback(None)
    assert (tried, failed) == (3, None)
    assert PrintJob.select().where(PrintJob.state == PrintJob.DONE).count() == 3
    assert [s for s in statements if s.startswith("PRAGMA synchronous")] == [
        "PRAGMA synchronous = normal", "PRAGMA synchronous = full"] * 2  # the claim, then the outcome
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for the tickets


def test_an_unsynced_transaction_that_fails_leaves_nothing_and_full_sync(app):
    from office.db import unsynced_transaction
    from office.models import PrintJob

    before = PrintJob.select().count()
    try:
        with unsynced_transaction():
            assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 1
            database.execute_sql("INSERT INTO print_job (payload, state, attempts, last_error, created_at, "
                                 "next_attempt_at) VALUES ('{}', 'pending', 0, '', '2026-01-01', '2026-01-01')")
            raise RuntimeError("the printer's thread failed")
    except RuntimeError:
        pass
    assert PrintJob.select().count() == before
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2


def test_a_ticket_in_the_group_commit_opens_no_savepoint(app, monkeypatch):
    """The group commit ran each function in a savepoint of its own, and the ticket opened its own
    inside it (``one_savepoint``): SAVEPOINT and RELEASE twice a ticket, two of its statements. Then
    once: SQLite still copied every page the ticket changed, 4 % of its instructions (issue 15). A
    ticket that fails after writing now has its batch rolled back and the others run again
    (tests/office/test_group_commit.py)."""
    seen, original = [], database.obj.execute_sql

    def execute_sql(sql, *args, **kwargs):
        seen.append(sql)
        return original(sql, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", execute_sql)  # every thread's statements
    box = app.extensions["box"]
    batches = box.writes.batches
    assert app.test_client().post("/api/v1/tickets", json={"service": "ho-tich"}).status_code == 201
    assert box.writes.batches == batches + 1  # through the group commit's thread
    assert [s for s in seen if "SAVEPOINT" in s] == [], seen
    assert Ticket.select().count() == 1


def test_the_workers_claim_and_outcome_build_no_query_under_the_writer_lock(app, settings, monkeypatch):
    """The worker built peewee queries (a select, then an update a job) while it held the box's writer
    lock the kiosks' tickets wait for: 0.58 ms a commit, 0.17 ms with plain statements (issue 15)."""
    import peewee

    from devices.printer import open_printer
    from edge.printing import print_due
    from office.models import PrintJob

    client = app.test_client()
    for code in SERVICES[:3]:
        assert client.post("/api/v1/tickets", json={"service": code}).status_code == 201
    built, original = [], peewee.Database.execute

    def execute(self, query, *args, **kwargs):
        built.append(type(query).__name__)
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(peewee.Database, "execute", execute)
    printer = lambda: open_printer("dummy", settings["data_dir"], 5)  # noqa: E731
    assert print_due(printer, dict(settings, printer="dummy")) == (3, None)
    assert built == []
    monkeypatch.undo()
    jobs = PrintJob.select().order_by(PrintJob.id)
    assert [(j.state, j.last_error, j.printed_at is not None) for j in jobs] == [(PrintJob.DONE, "", True)] * 3
