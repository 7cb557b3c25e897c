"""Hand-built dossiers, tickets and ratings whose statistics are worked out by hand (March 2026)."""
from datetime import datetime, timedelta

from office.models import Counter, Dossier, Office, Officer, Procedure, Rating, Service, Ticket
from sync.capture import applying_remote

A, B = "05518", "05521"
NOW = datetime(2026, 4, 10, 9, 0)  # office-local "now" of the statistics


def dossier(id_, commune, received, due, procedure="1.001193", status=4, finished=None, timeliness="", handler="",
            ticket=None, stage="Thẩm định hồ sơ"):
    Dossier.insert(id=id_, commune=commune, code=f"X-{id_}", procedure_code=procedure,
                   procedure_name={"1.001193": "Đăng ký khai sinh", "2.000815": "Chứng thực chữ ký"}[procedure],
                   applicant_name="Nguyễn Văn An", status=status, stage=stage, handler=handler, agency="000.19.05518",
                   received_at=received, due_at=due, finished_at=finished, timeliness=timeliness, ticket=ticket,
                   ).execute()


IDS = {"s1": "s1", "o1": "o1", "o2": "o2", "c1": "c1", "c2": "c2"}  # the box's seeded rows replace them


def ticket(id_, day, issued, wait_minutes, service_minutes=None, state="done", counter="c1", officer="o1"):
    counter, officer = IDS[counter], IDS[officer]
    called = issued + timedelta(minutes=wait_minutes) if wait_minutes is not None else None
    serving = called + timedelta(minutes=1) if service_minutes is not None else None
    ended = serving + timedelta(minutes=service_minutes) if service_minutes is not None else None
    Ticket.insert(id=id_, commune=A, day=day, prefix="A", seq=int(id_[1:]), number=f"A-{id_}", service=IDS["s1"],
                  tracking_code=f"track-{id_}", state=state, counter=counter if called else None,
                  officer=officer if called else None, issued_at=issued, queued_at=issued, called_at=called,
                  serving_at=serving, ended_at=ended).execute()


def rating(id_, ticket_id, score, officer="o1", counter="c1", at=datetime(2026, 3, 2, 3)):
    """``at``: UTC (07:00 Hanoi time is 00:00 UTC)."""
    Rating.insert(id=id_, commune=A, ticket=ticket_id, score=score, officer=IDS[officer], counter=IDS[counter],
                  created_at=at).execute()


def load(seeded=False):
    """``seeded``: the box's demo office is there already (its service, officers and counters)."""
    if seeded:
        IDS.update(s1=Service.get(Service.code == "ho-tich").id, c1=Counter.get(Counter.number == 1).id,
                   c2=Counter.get(Counter.number == 2).id, o1=Officer.get(Officer.username == "canbo1").id,
                   o2=Officer.get(Officer.username == "canbo2").id)
    else:
        IDS.update({k: k for k in IDS})
    with applying_remote():
        if not seeded:
            Office.insert(id="office-a", commune=A, name="UBND Phường Sông Công", agency_code="000.19.05518").execute()
        Office.insert(id="office-b", commune=B, name="UBND Xã Tân Quang", agency_code="000.19.05521").execute()
        Procedure.insert(id="p-ks", commune="*", code="1.001193", name="Đăng ký khai sinh", field="Hộ tịch",
                         days=3).execute()
        Procedure.insert(id="p-ct", commune="*", code="2.000815", name="Chứng thực chữ ký", field="Chứng thực",
                         hours=4).execute()
        if not seeded:
            Service.insert(id="s1", commune=A, code="ho-tich", name="Hộ tịch", prefix="A").execute()
            Officer.insert(id="o1", commune=A, username="canbo1", full_name="Nguyễn Thị Lan",
                           password_hash="x").execute()
            Officer.insert(id="o2", commune=A, username="canbo2", full_name="Trần Văn Minh",
                           password_hash="x").execute()
            Counter.insert(id="c1", commune=A, number=1).execute()
            Counter.insert(id="c2", commune=A, number=2).execute()
        # commune A, March 2026
        dossier("d1", A, datetime(2026, 3, 1, 0, 0), datetime(2026, 3, 6, 17), status=10,
                finished=datetime(2026, 3, 4, 10), timeliness="early", handler="Lan")
        dossier("d2", A, datetime(2026, 3, 31, 23, 59, 59), datetime(2026, 4, 3, 17), status=4, handler="Minh")
        dossier("d3", A, datetime(2026, 3, 10, 9), datetime(2026, 3, 12, 17), procedure="2.000815", status=9,
                finished=datetime(2026, 3, 12, 16), timeliness="on_time", handler="Lan", ticket="t1")
        dossier("d4", A, datetime(2026, 3, 16, 8), datetime(2026, 3, 18, 17), procedure="2.000815", status=10,
                finished=datetime(2026, 3, 20, 10), timeliness="late", handler="Minh", ticket="t2")
        dossier("d5", A, datetime(2026, 3, 20, 8), datetime(2026, 3, 23, 17), procedure="2.000815", status=3)
        dossier("d9", A, datetime(2026, 3, 25, 8), datetime(2026, 4, 20, 17), status=5, handler="Lan")
        # outside March: the day before and the instant after
        dossier("d6", A, datetime(2026, 2, 28, 23, 59), datetime(2026, 3, 4, 17), status=2, handler="Lan")
        dossier("d7", A, datetime(2026, 4, 1, 0, 0), datetime(2026, 4, 6, 17), status=2, handler="Lan")
        # commune B
        dossier("d8", B, datetime(2026, 3, 5, 8), datetime(2026, 3, 9, 17), status=10,
                finished=datetime(2026, 3, 10, 8), timeliness="late", handler="Hoa")
        # tickets (UTC times), all of commune A's service "ho-tich"
        issued = datetime(2026, 3, 2, 1, 0)
        for i in range(10):  # waits 1..10 min; t0..t7 served 2, 4, .. 16 min; t8, t9 did not show
            done = i < 8
            ticket(f"t{i}", "2026-03-02", issued, i + 1, 2 * (i + 1) if done else None,
                   state="done" if done else "no_show")
        ticket("t10", "2026-03-02", issued, None, state="cancelled")  # never called
        ticket("t11", "2026-03-31", datetime(2026, 3, 31, 8), 20, 10, counter="c2", officer="o2")
        ticket("t12", "2026-04-01", datetime(2026, 4, 1, 2), 30, 30)  # April
        rating("r1", "t1", 1)
        rating("r2", "t2", 1)
        rating("r3", "t3", 3)
        rating("r4", "t4", 2)
        rating("r11", "t11", 3, officer="o2", counter="c2", at=datetime(2026, 3, 31, 16, 59))  # 23:59 local
        rating("r12", "t12", 1, at=datetime(2026, 3, 31, 17, 0))  # 00:00 on 1 April, local
