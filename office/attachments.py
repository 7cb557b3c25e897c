"""Files attached to a row of another table: a paper a citizen uploaded for an online dossier, a scan
made at the desk (số hóa), a photo of a field report or of the commune's answer.

The row names the bytes by sha256 and size, so the signed, hash-chained change log covers them; the
bytes themselves are blobs (package ``blobs``) that travel on their own, both ways, and are checked
against the hash when they arrive. A row is written once (append-only); a file taken back is a new
row with ``withdrawn`` set to the id it withdraws."""
from peewee import CharField, DateTimeField, IntegerField

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
