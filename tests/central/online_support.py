"""What the online-submission tests share: an online procedure, a served commune, small real files."""
import io
import json
import struct
import zlib

from office.catalog import Procedure
from office.models import Office
from sync.capture import applying_remote

COMMUNE = "05518"  # Phường Sông Công
OTHER = "00454"
AGENCY = "000.19.05518"
BIRTH = "1.001193"
PAPERS = [
    {"group": "nop", "name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0},
    {"group": "nop", "name": "Giấy chứng sinh", "originals": 1, "copies": 0},
    {"group": "nop", "case": "Trẻ bị bỏ rơi", "name": "Biên bản xác nhận trẻ bị bỏ rơi", "originals": 1, "copies": 0},
    {"group": "xuat_trinh", "name": "Giấy chứng nhận kết hôn của cha mẹ", "originals": 1, "copies": 0},
    {"group": "ghi_chu", "name": "Nộp bản sao điện tử khi nộp trực tuyến", "originals": 0, "copies": 0},
]


def online_catalog(level="toan_trinh"):
    """The birth registration procedure, online; and a procedure not offered online."""
    Procedure.create(commune="*", code=BIRTH, name="Đăng ký khai sinh", field="Hộ tịch", agency="UBND cấp xã",
                     online_level=level, components=json.dumps(PAPERS, ensure_ascii=False),
                     ways=json.dumps([{"way": "truc_tiep", "amount": 3, "unit": "ngay_lam_viec"},
                                      {"way": "truc_tuyen", "amount": 2, "unit": "ngay_lam_viec"}]))
    Procedure.create(commune="*", code="1.000894", name="Đăng ký kết hôn", field="Hộ tịch", online_level="",
                     components=json.dumps([{"group": "nop", "name": "Tờ khai", "originals": 1, "copies": 0}]),
                     ways=json.dumps([{"way": "truc_tiep", "amount": 5, "unit": "ngay_lam_viec"}]))


def served(*communes):
    with applying_remote():
        for commune in communes:
            Office.insert(id=f"office-{commune}", commune=commune, name=f"UBND Phường {commune}",
                          agency_code=f"000.19.{commune}").execute()


def png(size=2000, seed=0):
    """A real PNG of about ``size`` bytes (noise, so it does not compress away)."""
    import random

    rng = random.Random(seed)
    width = max(8, int((size / 3) ** 0.5) + 1)
    raw = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(width))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def pdf(size=3000):
    body = b"%PDF-1.4\n" + b"%" + b"x" * max(0, size - 30) + b"\n%%EOF\n"
    return body


def upload_file(data, name):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream")
