"""Put a demo dossier, a file that has arrived and one still on its way into a box's database (run
in its own process while the box serves): ``python -m tests.e2e.desk_files_seed <database>``."""
import io
import json
import sys
from datetime import datetime

from blobs import DiskStore
from office.attachments import Attachment, attach_file
from office.db import bind, open_database
from office.demo_dossiers import seed_demo_dossiers
from office.models import MODELS, Office
from sync.capture import applying_remote


def main(database, blob_root):
    bind(open_database(database), MODELS)
    office = Office.select().first()
    [(dossier, _)] = seed_demo_dossiers(office.agency_code, "Nguyễn Thị Cán Bộ", datetime.now())[:1]
    pdf = b"%PDF-1.4\n" + b"0" * 5000 + b"\n%%EOF\n"
    attach_file(dossier.id, "scan", io.BytesIO(pdf), "to-khai.pdf", DiskStore(blob_root), added_by="Nguyễn Thị Cán Bộ",
                label="Tờ khai đã ký")
    with applying_remote():  # a paper the citizen uploaded online: its row came down, its bytes not yet
        Attachment.insert(id="att-online-e2e", commune=office.commune, owner=dossier.id, kind="paper",
                          label="Giấy chứng sinh", name="giay-chung-sinh.jpg", mime="image/jpeg", sha256="cd" * 32,
                          size=1_850_000, added_at=datetime.now(), added_by="công dân").execute()
    print(json.dumps({"code": dossier.code}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
