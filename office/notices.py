"""Messages for citizens, written where the event happens and sent by the hub.

A box has no gateway: it writes a notice in the same transaction as the event (a dossier
received, papers missing, a result ready, a queue turn near), the notice travels in the
change log like any other row, and the hub turns it into outbox messages when it arrives.
One notice per (kind, ref): a retried action never asks twice.
"""
import json

from peewee import CharField, DateTimeField, TextField

from sync.capture import ReplicatedModel
from sync.policy import APPEND

from .clock import utcnow

KINDS = {
    "dossier_received": "Tiếp nhận hồ sơ",
    "dossier_supplement": "Yêu cầu bổ sung giấy tờ",
    "dossier_ready": "Có kết quả",
    "dossier_refused": "Không được tiếp nhận",
    "turn_near": "Sắp đến lượt",
    "booking_made": "Đặt lịch",
    "booking_cancelled": "Huỷ lịch hẹn",
    "report_answered": "Phản ánh đã được trả lời",
}


class Notice(ReplicatedModel):
    replication = APPEND

    kind = CharField()
    ref = CharField()  # the dossier event's or the ticket's id
    phone = CharField()  # digits as the citizen gave them
    fields = TextField(default="{}")  # named values for the templates: ten_nguoi_dan, ma_ho_so, ...
    created_at = DateTimeField()

    class Meta:
        indexes = ((("commune", "kind", "ref"), True),)

    @property
    def values(self):
        return json.loads(self.fields)


def notify(commune, kind, ref, phone, fields, now=None):
    """Write a notice unless there is no phone or one was already written; returns it or None."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    phone = "".join(ch for ch in phone or "" if ch.isdigit())
    if not phone:
        return None
    if Notice.select().where(Notice.commune == commune, Notice.kind == kind, Notice.ref == ref).exists():
        return None
    return Notice.create(commune=commune, kind=kind, ref=ref, phone=phone, created_at=now or utcnow(),
                         fields=json.dumps(fields, ensure_ascii=False, sort_keys=True))
