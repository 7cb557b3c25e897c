"""The hub answers a ticket's tracking code (``/t/<code>``), where the ticket's QR code points by
default: a phone on mobile data reaches the hub, not the office LAN. The page reloads itself."""
from datetime import datetime

import pytest

from motcua.settings import load_settings
from office.db import database
from office.models import Counter, Office, Service, Ticket
from sync.capture import applying_remote


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    from central.app import create_app
    from tests.sync.conftest import drop_schema, postgres_schema

    overrides = {"data_dir": str(tmp_path), "operator_password": "operator-pw"}
    schema = None
    if request.param == "postgresql":
        schema, overrides["database"] = postgres_schema()
    app = create_app(load_settings("hub", environ={}, overrides=overrides))
    app.config["TESTING"] = True
    with applying_remote():  # as the box's batches bring them
        Office.insert(id="O1", commune="05518", name="UBND Phường Sông Công").execute()
        Service.insert(id="S1", commune="05518", code="ho-tich", name="Hộ tịch", prefix="A").execute()
        Counter.insert(id="C1", commune="05518", number=2).execute()
        day, at = "2026-03-02", datetime(2026, 3, 2, 2, 0)  # 09:00 in Hà Nội
        for seq, state, code in ((1, "called", "AAAA1111"), (2, "issued", "BBBB2222"), (3, "issued", "CCCC3333")):
            Ticket.insert(id=f"T{seq}", commune="05518", day=day, prefix="A", seq=seq, number=f"A-00{seq}",
                          service="S1", state=state, tracking_code=code, issued_at=at, queued_at=at.replace(minute=seq),
                          counter="C1" if state == "called" else None).execute()
    yield app
    database.close()
    if schema:
        drop_schema(schema)


def test_the_hub_answers_a_tickets_tracking_code(hub):
    client = hub.test_client()
    waiting = client.get("/t/cccc3333")  # typed in lower case
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 200, page[:500]
    assert "UBND Phường Sông Công" in page and "A-003" in page and "Đang chờ đến lượt" in page
    assert "Số người chờ trước quý khách: <b>1</b>" in page and "09:00 02/03/2026" in page
    assert '<meta http-equiv="refresh" content="30">' in page
    called = client.get("/t/AAAA1111").get_data(as_text=True)
    assert "Đang được mời đến quầy – Quầy số 2" in called
    with applying_remote():
        Ticket.update(state="done").where(Ticket.id == "T1").execute()
    done = client.get("/t/AAAA1111").get_data(as_text=True)
    assert "Đã phục vụ xong" in done and 'http-equiv="refresh"' not in done


def test_a_ticket_the_hub_has_not_received_yet_says_so_and_reloads(hub):
    missing = hub.test_client().get("/t/ZZZZ9999")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "Chưa có thông tin của mã ZZZZ9999" in page
    assert '<meta http-equiv="refresh" content="30">' in page and "Traceback" not in page
