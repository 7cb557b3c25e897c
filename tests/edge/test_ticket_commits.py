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
    sent = []
    box.tasks = dict(box.tasks, print_job=lambda *args: sent.append(args))
    committed = time.monotonic()
    assert box.nudge_printer(committed) is True
    assert [box.nudge_printer(committed) for _ in range(7)] == [False] * 7  # the nudge above covers them
    assert box.nudge_printer(time.monotonic()) is True  # committed after it: the worker might have read before
    assert sent == [(), ()]


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
