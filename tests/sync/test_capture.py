"""No write path of a box bypasses the change log.

(a) The bulk query methods of every replicated model refuse to run outside the merge.
(b) SQLite triggers on every replicated table audit each row actually written while a box is
    driven through every write route of its HTTP API and the domain functions reached
    otherwise (seed, keypad rating, cancel, printing); the audit and the change log must
    match write for write, and replaying the log must give each row exactly as written.
(c) Entries applied from elsewhere (inside ``applying_remote()``) add nothing to the log.
"""
import hashlib
import io
import json
import threading
from collections import Counter as Tally
from datetime import datetime

import pytest

from office import dossiers, queue, ratings
from office.calendar import WorkCalendar
from office.communes import find_commune
from office.db import bind, database, open_database
from office.models import (
    MODELS,
    REPLICATED,
    Counter,
    CounterService,
    Holiday,
    Officer,
    Place,
    PrintJob,
    Procedure,
    Rating,
    Service,
    TicketEvent,
)
from office.seed import seed_office
from sync.apply import apply_entries
from sync.capture import (
    CaptureError,
    ReplicatedModel,
    applying_remote,
    init_node,
    replicated_models,
)
from sync.models import ChangeEntry, SyncNode
from sync.policy import HUB
from tests.conftest import DEMO_COMMUNE, PageClient, sign_in
from tests.crash.harness import _json, decode, log_picture, row_picture

NODE = "box-test0000000000"


def test_replicated_models_are_the_replicated_tuple():
    assert set(replicated_models().values()) == set(REPLICATED)
    assert {m for m in MODELS if issubclass(m, ReplicatedModel)} == set(REPLICATED)
    assert all(m in MODELS for m in REPLICATED)


# ---- (a) the bulk methods refuse ---------------------------------------------------------------

def _bulk_writes(model):
    """Every query-building write of peewee's Model API, on ``model``."""
    field = next(f for f in model._meta.sorted_fields if not f.primary_key and f.name != "commune")
    row = {field: None}
    return {
        "update": lambda: model.update(row),
        "insert": lambda: model.insert(row),
        "insert_many": lambda: model.insert_many([row]),
        "insert_from": lambda: model.insert_from(model.select(field), [field]),
        "delete": lambda: model.delete(),
        "replace": lambda: model.replace(row),
        "replace_many": lambda: model.replace_many([row]),
        # peewee helpers built on the ones above
        "bulk_create": lambda: model.bulk_create([model()]),
        "bulk_update": lambda: model.bulk_update([model(id="x")], fields=[field]),
        "set_by_id": lambda: model.set_by_id("x", row),
        "delete_by_id": lambda: model.delete_by_id("x"),
    }


@pytest.mark.parametrize("model", REPLICATED, ids=lambda m: m._meta.table_name)
def test_bulk_writes_of_replicated_models_raise(db, model):
    for write in _bulk_writes(model).values():
        with pytest.raises(CaptureError, match="bypass the change log"):
            write()
    with pytest.raises(CaptureError, match="recursive"):
        model(id="x").delete_instance(recursive=True)
    assert ChangeEntry.select().count() == 0


def test_bulk_writes_run_only_inside_the_merge(office):
    before = ChangeEntry.select().count()
    with applying_remote():
        assert Service.update(name="Hộ tịch (mới)").where(Service.code == "ho-tich").execute() == 1
        errors = []
        thread = threading.Thread(target=lambda: _catch(errors, lambda: Service.update(name="x").execute()))
        thread.start()
        thread.join()
        assert isinstance(errors[0], CaptureError)  # the allowance is this context's, not the process's
    with pytest.raises(CaptureError):
        Service.update(name="Hộ tịch").execute()
    assert ChangeEntry.select().count() == before
    assert Service.get(Service.code == "ho-tich").name == "Hộ tịch (mới)"


def _catch(errors, fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the thread hands its error to the test
        errors.append(exc)


# ---- (b) triggers audit every row written ------------------------------------------------------

AUDIT = "capture_audit"


def install_audit(db):
    """AFTER INSERT/UPDATE/DELETE triggers on every replicated table, each writing one audit row
    per row written (SQLite triggers are FOR EACH ROW) with the row's image after the write.

    A main-schema table, not a TEMP one: the app may close and reopen its connection, and TEMP
    objects live and die with one connection.
    """
    db.execute_sql(f"CREATE TABLE {AUDIT} (n INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT, pk TEXT, op TEXT, image TEXT)")
    for model in REPLICATED:
        table = model._meta.table_name
        image = "json_object(" + ", ".join(f"'{c}', NEW.\"{c}\"" for c in model._meta.columns) + ")"
        for op, row, img in (("insert", "NEW", image), ("update", "NEW", image), ("delete", "OLD", "NULL")):
            db.execute_sql(
                f'CREATE TRIGGER audit_{table}_{op} AFTER {op.upper()} ON "{table}" BEGIN '
                f"INSERT INTO {AUDIT} (tbl, pk, op, image) VALUES ('{table}', {row}.id, '{op}', {img}); END")


def audit_rows(after=0):
    cursor = database.execute_sql(f"SELECT n, tbl, pk, op, image FROM {AUDIT} WHERE n > ? ORDER BY n", (after,))
    return [{"n": n, "table": t, "pk": pk, "op": op, "image": json.loads(img) if img else None}
            for n, t, pk, op, img in cursor.fetchall()]


def log_entries(after=0):
    query = ChangeEntry.select().where(ChangeEntry.origin == NODE, ChangeEntry.seq > after).order_by(ChangeEntry.seq)
    return [{"seq": e.seq, "table": e.table, "pk": e.pk, "op": e.op, "data": decode(e.data)} for e in query]


def image_as_logged(table, image):
    """A trigger's row image (values as SQLite stores them) in the change log's representation."""
    columns = replicated_models()[table]._meta.columns
    return {c: _json(columns[c].db_value(columns[c].python_value(v))) for c, v in image.items() if c != "id"}


def assert_log_matches_audit():
    """The change log and the audit, write for write.

    Exact, and why: ``ReplicatedModel.save()`` writes nothing and logs nothing when no field is
    dirty; otherwise it runs one INSERT or one ``UPDATE ... WHERE id = ?`` of one row (one
    trigger firing, even when the new values equal the old: SQLite fires UPDATE triggers per row
    matched, changed or not) and appends one entry, in the same transaction;
    ``delete_instance()`` likewise deletes one row, one entry. A rolled-back transaction takes
    its audit rows and entries with it. So with every write captured the two sequences are equal
    (table, pk, op) by (table, pk, op), in the same order. Any other write (raw SQL, a bulk
    query, a foreign-key cascade, a trigger of the product) shows as an audit row without its
    entry; an entry whose UPDATE matched no row shows as an entry without its audit row.
    Beyond the counts: replaying the log up to each entry gives the row exactly as the trigger
    saw it after that write (all columns), so no logged value differs from the stored one.
    """
    audit, log = audit_rows(), log_entries()
    per_table_audit = Tally(a["table"] for a in audit)
    per_table_log = Tally(e["table"] for e in log)
    for model in REPLICATED:
        table = model._meta.table_name
        assert per_table_audit[table] == per_table_log[table], table
        audited = {a["pk"] for a in audit if a["table"] == table}
        assert {e["pk"] for e in log if e["table"] == table} <= audited, table
    assert [(a["table"], a["pk"], a["op"]) for a in audit] == [(e["table"], e["pk"], e["op"]) for e in log]
    picture = {}
    for a, e in zip(audit, log):
        picture = log_picture([e], picture)
        if e["op"] == "delete":
            assert e["pk"] not in picture.get(e["table"], {})
        else:
            assert picture[e["table"]][e["pk"]] == image_as_logged(a["table"], a["image"]), (e["seq"], e["table"])
    for model in REPLICATED:  # and the tables now hold what the whole log says (hub-owned: the merge's)
        if model.replication != HUB:
            assert row_picture(model) == picture.get(model._meta.table_name, {}), model._meta.table_name
    return per_table_log


@pytest.fixture
def audited_app(settings):
    """The box's app as in tests/conftest.py, with the audit triggers installed before the seed."""
    from edge.app import create_app
    from edge.tasks import create_huey

    _, tasks = create_huey(settings)
    application = create_app(settings, tasks=tasks)
    application.config["TESTING"] = True
    application.test_client_class = PageClient  # writes as the box's pages do (Origin, CSRF token)
    install_audit(database.obj)
    init_node(NODE, DEMO_COMMUNE)
    application.extensions["routes_driven"] = driven = set()

    @application.after_request
    def note_route(response):
        from flask import request

        if request.url_rule is not None:
            driven.add((request.url_rule.rule, request.method))
        return response

    yield application
    database.close()


def _ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_every_write_path_of_a_box_is_captured(audited_app, settings):
    app = audited_app
    seed_office(find_commune(DEMO_COMMUNE))  # first boot: office, services, counters, officers, links
    seeded = audit_rows()
    assert {a["table"] for a in seeded} == {"office", "service", "officer", "counter", "counter_service"}
    seed_office(find_commune(DEMO_COMMUNE))  # idempotent: writes nothing
    assert audit_rows() == seeded

    one, two = app.test_client(), app.test_client()
    sign_in(one, counter=1, username="canbo1")
    sign_in(two, counter=2, username="canbo2")
    post = lambda client, path, **body: client.post("/api/v1" + path, json=body)

    issued = [_ok(post(one, "/tickets", service=s, **extra), 201) for s, extra in (
        ("ho-tich", {}), ("ho-tich", {"priority": "elderly"}), ("tu-phap", {"phone": "0912 345 678"}),
        ("chung-thuc", {}), ("ho-tich", {}), ("dat-dai", {}), ("ho-tich", {}), ("tu-phap", {}))]
    assert [t["number"] for t in issued] == ["A-001", "A-002", "D-001", "B-001", "A-003", "C-001", "A-004", "D-002"]

    # counter 1: call, recall, start, finish, rating by the screen
    first = _ok(post(one, "/counters/1/next"))["ticket"]
    _ok(post(one, "/counters/1/recall"))
    _ok(post(one, "/counters/1/start"))
    _ok(post(one, "/counters/1/start"), 409)  # started already: refused, nothing written
    _ok(post(one, "/counters/1/finish"))
    assert one.post("/rate/1/pair", data={"username": "canbo1", "password": "motcua123"}).status_code == 302
    _ok(post(one, "/ratings", counter=1, ticket=first["id"], score=3, reason="Nhanh, chu đáo"), 201)
    _ok(post(one, "/ratings", counter=1, ticket=first["id"], score=1), 409)  # rated already: rolled back
    # no-show; a call that closes the ticket in hand; transfers to a service and to a counter
    _ok(post(one, "/counters/1/next"))
    _ok(post(one, "/counters/1/no-show"))
    _ok(post(one, "/counters/1/next"))
    _ok(post(one, "/counters/1/start"))
    _ok(post(one, "/counters/1/recall"), 409)  # serving: refused, nothing written
    _ok(post(one, "/counters/1/next"))  # closes the served ticket (finish) and calls the next
    _ok(post(one, "/counters/1/transfer", service="chung-thuc"))
    _ok(post(one, "/counters/1/next"))
    _ok(post(one, "/counters/1/transfer", counter=2))
    _ok(post(one, "/counters/1/transfer", counter=2), 409)  # nothing in hand
    # counter 2 takes the transferred ticket first; "finish" before "start" is refused
    moved = _ok(post(two, "/counters/2/next"))["ticket"]
    assert moved["transfers"] == 1
    _ok(post(two, "/counters/2/finish"), 409)
    _ok(post(two, "/counters/2/start"))
    _ok(post(two, "/counters/2/finish"))
    # the keypad rates the ticket just finished at counter 2; the counter screen asks first
    assert _ok(two.get("/api/v1/counters/2/awaiting-rating"))["ticket"]["id"] == moved["id"]
    assert ratings.rate_at_counter(2, 2, settings["rating_window_seconds"]).ticket_id == moved["id"]
    assert ratings.rate_at_counter(2, 2, settings["rating_window_seconds"]) is None  # rated: writes nothing
    # a ticket given up by the citizen (no HTTP route: the counter console calls the function)
    waiting = queue.waiting_tickets(app.extensions["box"].policy)
    queue.cancel(waiting[-1].id)
    # officers move: log out, log in elsewhere (taking a seat from another counter)
    _ok(one.delete("/api/v1/session"))
    _ok(one.delete("/api/v1/session"))  # signed out already: writes nothing
    sign_in(one, counter=3, username="canbo1")
    _ok(two.post("/api/v1/session", json={"username": "canbo2", "password": "motcua123", "counter": 3}), 409)
    _ok(two.post("/api/v1/session", json={"username": "canbo2", "password": "motcua123", "counter": 3,
                                          "take_over": True}))  # leaves counter 2 empty, takes counter 3 from canbo1
    sign_in(one, counter=2, username="canbo1")
    sign_in(two, counter=1, username="canbo2")  # leaves counter 3 for counter 1
    _ok(one.post("/api/v1/session", json={"username": "canbo1", "password": "sai", "counter": 1}), 401)
    _ok(post(two, "/counters/1/next"))
    _ok(post(one, "/tickets", service="ho-tich", priority="vip"), 400)
    _ok(post(one, "/tickets", service="khong-co"), 404)

    # the print path touches print_job only: a failed job, reprinted
    before = len(audit_rows())
    job = PrintJob.get(PrintJob.ticket == issued[-1]["id"])
    from edge.printing import process_job

    def printer_off():
        raise OSError("máy in tắt")

    assert process_job(job.id, printer_off, dict(settings, print_max_attempts=1)) == PrintJob.FAILED
    assert _ok(one.get("/api/v1/print-jobs"))[0]["id"] == job.id
    _ok(post(one, f"/print-jobs/{job.id}/reprint"))
    _ok(post(one, "/sync"), 202)  # only enqueues
    queue.rebuild_sequences()
    # and reading writes nothing: every page and GET route
    code = issued[0]["tracking_code"]
    for path in ("/", "/kiosk", "/lobby", "/counter", "/rate/1", f"/t/{code}", "/sync", "/qr.svg?data=x",
                 "/clips/chime.wav", "/api/v1/health", "/api/v1/services", "/api/v1/priorities",
                 f"/api/v1/tickets/{code}", "/api/v1/queue", "/api/v1/calls", "/api/v1/counters/1",
                 "/api/v1/counters/1/awaiting-rating", "/api/v1/sync", "/api/v1/print-jobs", "/api/v1/opening",
                 "/api/v1/printer", f"/api/v1/tickets/{code}/print"):
        response = one.get(path)
        response.close()  # send_file's open file
        assert response.status_code == 200, path
    assert len(audit_rows()) == before

    # a shared row through the officers' places pages: create, edit one field, unchanged (no write), hide, show
    form = {"name": "Trạm y tế phường", "category": "y-te", "address": "", "phone": "", "opening_hours": "",
            "description": ""}
    assert one.post("/places", data=form).status_code == 302
    place = Place.get(Place.name == "Trạm y tế phường")
    for _ in range(2):  # the second save changes nothing: no write, no entry
        assert one.post(f"/places/{place.id}", data=dict(form, phone="0208 3862 111")).status_code == 302
    for active in ("0", "1"):
        assert one.post(f"/places/{place.id}/active", data={"active": active}).status_code == 302
    # edits of the model API no route reaches: a hub-owned row, a delete
    with pytest.raises(CaptureError):
        Holiday.create(day="2026-09-02", name="Quốc khánh")  # the hub's table: the row is rolled back too
    assert Holiday.select().count() == 0
    with pytest.raises(CaptureError):
        place.delete_instance()  # shared rows are never deleted
    CounterService.get(CounterService.counter == Counter.get(Counter.number == 3).id).delete_instance()
    # a dossier's life, on a procedure pulled from the hub (the merge writes it, no entry)
    with applying_remote():
        Procedure.insert(id="p-1", commune="*", code="1.001193", name="Đăng ký khai sinh", days=1).execute()
    database.execute_sql(f"DELETE FROM {AUDIT} WHERE tbl = 'procedure'")  # the merge's write: see (c)
    dossier = dossiers.receive(WorkCalendar(), Procedure.get_by_id("p-1"), {"name": "Nguyễn Văn An"},
                               "000.19.05518", officer="canbo1", now=datetime(2026, 3, 2, 9))
    dossiers.transfer(dossier, "Thẩm định", "canbo2")
    dossiers.finish(dossier)
    dossiers.return_result(dossier)
    # the dossier desk over HTTP (edge/dossier_views.py): a receipt for a ticket, every action, slips
    from office.models import Agency

    with applying_remote():
        Agency.insert(id="ag-1", commune=DEMO_COMMUNE, code="000.00.19.STP", name="Sở Tư pháp").execute()
    database.execute_sql(f"DELETE FROM {AUDIT} WHERE tbl = 'agency'")  # the merge's write
    desk_clock = [datetime(2026, 3, 2, 10)]
    app.extensions["dossier_clock"] = lambda: desk_clock[0]

    def desk(path, status=303, **form):
        response = one.post(path, data=form)
        assert response.status_code == status, (path, response.get_data(as_text=True)[:500])
        return response.headers.get("Location", "").split("/dossiers/")[-1].split("?")[0]

    desk("/dossiers", 400, procedure="1.001193", name="", extra="Tờ khai")  # refused: nothing written
    code = desk("/dossiers", procedure="1.001193", name="Trần Thị Bình", id_number="001099012345", phone="0912 345 678",
                extra="Tờ khai đăng ký khai sinh", ticket=issued[1]["id"], print_slip="1")
    other = desk("/dossiers", procedure="1.001193", name="Lê Văn Cường", extra="Tờ khai")
    gone = desk("/dossiers", procedure="1.001193", name="Phạm Thu Hà", extra="Tờ khai")
    stopped = desk("/dossiers", procedure="1.001193", name="Đỗ Văn Dũng", extra="Tờ khai")
    desk(f"/dossiers/{code}/return", 409, confirm="1")  # not finished: rolled back
    desk(f"/dossiers/{code}/transfer", stage="Thẩm định", handler="Trần Văn Minh", agency="000.00.19.STP")
    desk(f"/dossiers/{code}/supplement", note="Thiếu giấy chứng sinh")
    desk(f"/dossiers/{code}/resume")
    desk_clock[0] = datetime(2026, 3, 4, 9)  # late now
    desk(f"/dossiers/{code}/apologize", new_due="2026-03-06T17:00", reason="Chờ Sở Tư pháp")
    desk(f"/dossiers/{code}/finish", note="Đã ký", confirm="1")
    desk(f"/dossiers/{code}/return", confirm="1")
    desk(f"/dossiers/{other}/refuse", reason="Không thuộc thẩm quyền", confirm="1")
    desk(f"/dossiers/{gone}/withdraw", confirm="1")
    desk(f"/dossiers/{stopped}/stop", reason="Quá hạn bổ sung", confirm="1")
    desk(f"/dossiers/{code}/print-slip")  # a print job: local, not replicated
    # accepting an online dossier (status 1, from the hub) writes through the same path as the actions above;
    # a dossier received here is refused (nothing written): the log replay holds the box's own rows only
    desk(f"/dossiers/{code}/accept", 409)
    scanned = one.post(f"/dossiers/{code}/so-hoa", data={"label": "Giấy chứng sinh", "scan": (
        io.BytesIO(b"%PDF-1.4\n" + b"1 0 obj\n" * 500), "giay-chung-sinh.pdf")}, content_type="multipart/form-data")
    assert scanned.status_code == 303, scanned.get_data(as_text=True)[:500]  # a scan (số hóa): an attachment row
    from office.attachments import Attachment

    scan_id = Attachment.get().id
    before = len(audit_rows())
    for path in ("/dossiers", "/dossiers?overdue=1&status=4", "/dossiers/new?from_counter=1&q=khai",
                 "/dossiers/procedures?q=khai", f"/dossiers/{code}", f"/dossiers/{code}/slip",
                 f"/dossiers/{code}/forms/02", f"/dossiers/{other}/forms/03", f"/dossiers/{code}/forms/04",
                 f"/dossiers/{code}/forms/06", "/dossiers/register?from=2026-03-01&to=2026-03-31",
                 f"/dossiers/{code}/tep/{scan_id}"):
        response = one.get(path)
        response.close()  # a file's stream
        assert response.status_code == 200, path  # the desk's pages read only
    assert one.get(f"/dossiers/{stopped}/forms/05").status_code == 200
    card = "001099012345|123456789|Trần Thị Bình|01011990|Nữ|Tổ 5|15082021"
    assert one.post("/dossiers/cccd", json={"text": card}).status_code == 200  # the ID card reader reads only
    assert one.post("/dossiers/cccd/image", data=b"x", content_type="image/png").status_code == 422
    for path in ("/stats?table=summary&month=2026-03", "/stats/overdue.xlsx?month=2026-03",
                 "/stats/report.xlsx?quarter=2026-Q1", "/api/v1/stats/queue?from=2026-03-01&to=2026-03-31"):
        response = one.get(path)
        response.close()  # send_file's temporary file
        assert response.status_code == 200, path  # the statistics read only
    assert len(audit_rows()) == before
    before = len(audit_rows())
    for path in (f"/api/v1/tracking/{dossier.code}", f"/tracking?code={dossier.code}",
                 "/api/v1/procedures?q=khai+sinh", "/api/v1/procedures/p-1", "/procedures?q=khai+sinh",
                 "/procedures/p-1", "/procedures/p-1/forms/0", "/api/v1/places?q=tram+y+te", "/places",
                 "/places/new", f"/places/{place.id}"):
        assert one.get(path).status_code == 200, path  # tracking, the catalog and places read only
    _ok(post(one, "/procedures/p-1/checklist/print"), 201)  # the kiosk's list of documents: a print job only
    assert len(audit_rows()) == before

    # a booking made online (written here through capture, as the hub would) honoured at the kiosk: its ticket
    # and the booking used
    from office.bookings import Booking
    from office.queue import QueuePolicy

    from office.clock import utcnow

    local_now = QueuePolicy().local_time(utcnow())
    Booking(code="K7PX3M2Q", phone="0912345678", service_code="ho-tich", day=local_now.date().isoformat(),
            slot=f"{local_now:%H:%M}", created_at=utcnow()).save()
    before = len(audit_rows())
    _ok(post(one, "/bookings/ticket", code="DATLICH:K7PX3M2Q"), 201)
    _ok(post(one, "/bookings/ticket", code="K7PX3M2Q"), 409)  # used already: nothing written
    assert {a["table"] for a in audit_rows()[before:]} >= {"ticket", "booking"}
    before = len(audit_rows())
    # field reports (edge/report_views.py): a report (written here as the hub writes it), the commune's acts
    from office.reports import FieldReport

    FieldReport.create(commune=DEMO_COMMUNE, code="PA-ABCDEFG", category="moi-truong",
                       description="Rác thải đổ trộm bên đường", address="Tổ 5", phone="0912345678",
                       created_at=datetime(2026, 3, 2, 9), ack_due=datetime(2026, 3, 2, 11),
                       answer_due=datetime(2026, 3, 9, 17))
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x01" * 500
    for action, form in (("acknowledge", {}), ("assign", {"officer": "canbo2"}),
                         ("answer", {"answer": "Đã thu dọn, cảm ơn ông/bà.", "confirm": "1",
                                     "photos": (io.BytesIO(jpeg), "xong.jpg")}), ("close", {})):
        response = one.post(f"/reports/PA-ABCDEFG/{action}", data=form, content_type="multipart/form-data")
        assert response.status_code == 303, (action, response.get_data(as_text=True)[:500])
    before = len(audit_rows())
    sha = hashlib.sha256(jpeg).hexdigest()
    for path in ("/reports", "/reports?status=all", "/reports/PA-ABCDEFG", f"/reports/photo/{sha}"):
        response = one.get(path)
        response.close()  # send_file's open file
        assert response.status_code == 200, path  # the reports' pages read only
    assert len(audit_rows()) == before

    from tests.edge.test_console import drive_every_route  # the technician console writes no replicated row

    drive_every_route(app, settings)
    assert len(audit_rows()) == before

    # every route that writes was driven above, so a new route cannot slip by unaudited
    writes = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods if m in ("POST", "PUT", "PATCH", "DELETE")}
    reads = {(r.rule, "GET") for r in app.url_map.iter_rules()
             if "GET" in r.methods and r.endpoint != "static" and not r.rule.startswith("/assets/")}  # files
    driven = app.extensions["routes_driven"]
    assert writes - driven == set()
    assert reads - driven == set()

    logged = assert_log_matches_audit()
    for model in REPLICATED:  # the drive reached every table a box may write
        if model.replication != HUB:
            assert logged[model._meta.table_name] > 0, model._meta.table_name
    assert Tally((e["table"], e["op"]) for e in log_entries())[("counter_service", "delete")] == 1
    assert Rating.select().count() == 2 and TicketEvent.select().where(TicketEvent.action == "cancel").count() == 1
    assert {e.action for e in TicketEvent.select()} >= {"call", "recall", "serve", "finish", "no_show", "transfer",
                                                        "cancel"}


def test_deleting_a_parent_row_is_captured_for_its_children(audited_app):
    """``delete_instance()`` of a counter would delete its counter_service rows by ON DELETE
    CASCADE (and of a seated officer set counter.officer to NULL) inside SQLite, where no entry
    is written: it is refused until the children are changed through capture."""
    seed_office(find_commune(DEMO_COMMUNE))
    counter = Counter.get(Counter.number == 3)
    with pytest.raises(CaptureError, match="CounterService"):
        counter.delete_instance()
    officer = Officer.get(Officer.username == "canbo3")
    queue.sign_in(3, officer)
    with pytest.raises(CaptureError, match="Counter"):
        officer.delete_instance()
    assert_log_matches_audit()
    for link in CounterService.select().where(CounterService.counter == counter):
        link.delete_instance()
    Counter.get(Counter.number == 3).delete_instance()
    Officer.get(Officer.username == "canbo3").delete_instance()
    assert_log_matches_audit()


# ---- (c) the merge writes rows, not entries ------------------------------------------------

def _other_node(path, node_id, scope, work):
    """Entries written by another node, in its own database; the proxy is restored after."""
    previous = database.obj
    other = open_database(str(path))
    database.initialize(other)
    try:
        bind(other, MODELS)
        init_node(node_id, scope)
        work()
        rows = ChangeEntry.select().order_by(ChangeEntry.seq).dicts()
        return [{**row, "data": decode(row["data"]), "base": decode(row["base"])} for row in rows]
    finally:
        other.close()
        database.initialize(previous)


def test_applying_remote_entries_adds_no_entries(audited_app, tmp_path):
    seed_office(find_commune(DEMO_COMMUNE))
    policy = queue.QueuePolicy()

    def hub_work():
        Holiday.create(commune="*", day="2026-09-02", name="Quốc khánh")
        place = Place.create(commune=DEMO_COMMUNE, name="Chợ Sông Công", category="cho")
        place.opening_hours = "5:00–18:00"
        place.save()

    def box_work():  # a box of another commune: what the hub applies from its boxes
        seed_office(find_commune("00004"))
        queue.sign_in(1, Officer.get(Officer.username == "canbo1"))
        queue.issue_ticket(policy, "ho-tich")
        queue.call_next(policy, Counter.get(Counter.number == 1).id)
        queue.start_serving(Counter.get(Counter.number == 1).id)
        ticket = queue.finish(Counter.get(Counter.number == 1).id)
        ratings.rate(ticket.id, 3)

    from_hub = _other_node(tmp_path / "hub.db", "hub", "*", hub_work)
    from_box = _other_node(tmp_path / "other.db", "box-other000000000", "00004", box_work)
    node_before = SyncNode.select(SyncNode.last_seq, SyncNode.last_hash, SyncNode.clock).tuples().get()
    entries_before, audit_before = ChangeEntry.select().count(), len(audit_rows())

    with database.atomic():
        apply_entries(from_hub)
        apply_entries(from_box)

    assert ChangeEntry.select().count() == entries_before
    assert SyncNode.select(SyncNode.last_seq, SyncNode.last_hash, SyncNode.clock).tuples().get() == node_before
    applied = audit_rows(audit_before)
    assert len(applied) >= len(from_hub) and {a["table"] for a in applied} >= {
        "holiday", "place", "service", "counter", "ticket", "ticket_event", "rating"}
    # the rows written are what the remote logs say
    remote = log_picture(from_hub + from_box)
    for table, rows in remote.items():
        local = row_picture(replicated_models()[table])
        for pk, values in rows.items():
            assert local[pk] == values, (table, pk)
    # and the box's own log still matches its own writes: the merge's writes are the only
    # audited writes without an entry
    ours = audit_rows()[:audit_before]
    assert [(a["table"], a["pk"], a["op"]) for a in ours] == [(e["table"], e["pk"], e["op"]) for e in log_entries()]


@pytest.mark.parametrize("bypass", [
    lambda: database.execute_sql("UPDATE service SET name = 'Hộ tịch' || '!' WHERE code = 'ho-tich'"),
    lambda: _in_merge(lambda: Officer.update(active=False).where(Officer.username == "canbo3").execute()),
    lambda: database.execute_sql("UPDATE change_entry SET data = replace(data, 'Chứng thực', 'Chung thuc')"),
], ids=["raw-sql", "bulk-query-in-merge", "logged-value-differs"])
def test_the_audit_sees_a_write_that_bypasses_capture(audited_app, bypass):
    seed_office(find_commune(DEMO_COMMUNE))
    assert_log_matches_audit()
    bypass()
    with pytest.raises(AssertionError):
        assert_log_matches_audit()


def _in_merge(fn):
    with applying_remote():
        return fn()
