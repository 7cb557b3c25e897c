"""Files attached to a row of another table: a paper a citizen uploaded for an online dossier, a scan
made at the desk (số hóa), a photo of a field report or of the commune's answer.

The row names the bytes by sha256 and size, so the signed, hash-chained change log covers them; the
bytes themselves are blobs (package ``blobs``) that travel on their own, both ways, and are checked
against the hash when they arrive. A row is written once (append-only); a file taken back is a new
row with ``withdrawn`` set to the id it withdraws."""
from peewee import CharField, DateTimeField, IntegerField

from office.errors import MotcuaError

from office.db import BaseModel
from sync.capture import ReplicatedModel
from sync.policy import APPEND

KINDS = {
    "paper": "Giấy tờ công dân nộp trực tuyến",
    "scan": "Bản quét tại bộ phận một cửa",
    "photo": "Ảnh phản ánh",
    "answer": "Ảnh trả lời phản ánh",
    "result": "Kết quả giải quyết",
}


class Attachment(ReplicatedModel):
    replication = APPEND

    owner = CharField(index=True)  # id of the row it belongs to (a dossier, a report...)
    kind = CharField()  # one of KINDS
    label = CharField(default="")  # e.g. the paper's name in the procedure's document list
    name = CharField()  # the file's name as uploaded
    mime = CharField(default="application/octet-stream")
    sha256 = CharField(index=True)
    size = IntegerField()
    added_at = DateTimeField()
    added_by = CharField(default="")
    withdrawn = CharField(default="")  # id of an attachment this row takes back

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)


def attachments_of(owner):
    """The files of ``owner`` still in force, oldest first."""
    rows = list(Attachment.select().where(Attachment.owner == owner).order_by(Attachment.added_at, Attachment.id))
    taken_back = {row.withdrawn for row in rows if row.withdrawn}
    return [row for row in rows if not row.withdrawn and row.id not in taken_back]


# What a paper may be: the file's first bytes decide, not the name or the browser's word.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"RIFF", "image/webp", ".webp"),  # checked further below (WEBP at byte 8)
)
ALLOWED_LABEL = "ảnh (JPG, PNG, WEBP) hoặc PDF"


def sniff(head):
    """(mime, extension) of a file from its first 16 bytes, or None when it is not an allowed kind."""
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic) and (mime != "image/webp" or head[8:12] == b"WEBP"):
            return mime, ext
    return None


def attach_file(owner, kind, fileobj, name, store, added_by="", label="", limit=None, now=None, commune=""):
    """Keep the bytes of ``fileobj`` in ``store`` and add the row naming them (kind ``scan`` at the
    desk, ``answer`` or ``result`` elsewhere). Refuses, with the reason in Vietnamese, a file that is
    empty, too large or not an image or PDF; nothing is kept then. A box writes its own commune's
    rows (``commune`` is for the hub)."""
    from office.clock import utcnow

    if kind not in KINDS:
        raise MotcuaError("Loại tệp đính kèm không hợp lệ.")
    head = fileobj.read(16)
    if not head:
        raise MotcuaError("Chưa chọn tệp, hoặc tệp rỗng.")
    found = sniff(head)
    if found is None:
        raise MotcuaError(f"Tệp “{name}” không phải {ALLOWED_LABEL}: hãy chụp hoặc quét lại.", status=415)
    fileobj.seek(0)
    sha, size = store.put(fileobj, limit=limit)  # 413 past the limit: nothing kept
    row = Attachment(commune=commune, owner=owner, kind=kind, label=label[:200], name=(name or "tep")[:200], mime=found[0],
                     sha256=sha, size=size, added_at=now or utcnow(), added_by=added_by)
    row.save()
    return row


class SentBlob(BaseModel):
    """A blob this node made that the hub confirmed it holds whole (not replicated: the box's own
    memory, so it does not ask the hub again about every file it ever sent)."""

    sha256 = CharField(primary_key=True)
    sent_at = DateTimeField()
