"""Demo and first-boot data: the usual one-stop services, counters and officers."""
from werkzeug.security import generate_password_hash

from .db import database
from .models import Counter, CounterService, Office, Officer, Service

DEMO_SERVICES = (
    ("ho-tich", "Hộ tịch", "A"),
    ("chung-thuc", "Chứng thực", "B"),
    ("dat-dai", "Đất đai", "C"),
    ("tu-phap", "Tư pháp – Hộ tịch", "D"),
    ("ldtbxh", "Lao động – Thương binh và Xã hội", "E"),
)

# counter number -> services it serves
DEMO_COUNTERS = {
    1: ("ho-tich", "tu-phap"),
    2: ("ho-tich", "chung-thuc"),
    3: ("dat-dai", "ldtbxh"),
}

DEMO_OFFICERS = (
    ("canbo1", "Nguyễn Thị Lan"),
    ("canbo2", "Trần Văn Minh"),
    ("canbo3", "Lê Thị Hoa"),
)
DEMO_PASSWORD = "motcua123"


def ensure_office(commune):
    """The office row of this box's commune."""
    office = Office.select().first()
    if office is None:
        office = Office.create(name=f"UBND {commune.full_name}", province_name=commune.province_name,
                               agency_code=agency_code(commune))
    return office


def agency_code(commune):
    """The office's electronic agency id (prefix of its dossier codes): 000.<province>.<commune>."""
    return f"000.{commune.province_code}.{commune.code}"


def seed_office(commune, password=DEMO_PASSWORD):
    """Create the office for ``commune`` with demo services, counters and officers (idempotent)."""
    with database.atomic():
        ensure_office(commune)
        services = {}
        for order, (code, name, prefix) in enumerate(DEMO_SERVICES):
            services[code], _ = Service.get_or_create(
                code=code, defaults={"name": name, "prefix": prefix, "sort_order": order}
            )
        for number, codes in DEMO_COUNTERS.items():
            counter, created = Counter.get_or_create(number=number)
            if created:
                for code in codes:
                    CounterService.create(counter=counter, service=services[code])
        for username, full_name in DEMO_OFFICERS:
            Officer.get_or_create(
                username=username,
                defaults={"full_name": full_name, "password_hash": generate_password_hash(password)},
            )
