"""An online dossier while the citizen prepares it at the hub (hub-only, never replicated): the
applicant's details, then one upload per file (tus or a plain form), until it is submitted and
becomes a ``Dossier`` with its ``Attachment`` rows (``office.online_dossiers.submit``).

An upload belongs to the phone that made it; the bytes wait in the blob store's partial uploads
under the upload's id until the last byte came, then become a blob named by its sha256."""
import json
import uuid

from peewee import CharField, DateTimeField, IntegerField, TextField, fn

from office.clock import utcnow
from office.db import BaseModel, database
from office.dossiers import Dossier
from office.errors import MotcuaError, NotFound

MIME = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "application/pdf": (b"%PDF-",)}
EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}
TYPE_ERROR = "Chỉ nhận ảnh JPG, PNG hoặc tệp PDF (ảnh HEIC của iPhone: hãy chọn chụp ở dạng JPG hoặc chụp màn hình)."
MB = 1024 * 1024


class OnlineDraft(BaseModel):
    id = CharField(primary_key=True, max_length=40)
    phone = CharField(index=True)  # the proved phone preparing it
    commune = CharField()
    procedure_code = CharField()
    applicant = TextField(default="{}")  # the applicant's details, checked (office.online_dossiers.check_applicant)
    created_at = DateTimeField()
    dossier = CharField(null=True)  # id of the dossier it became

    @property
    def values(self):
        return json.loads(self.applicant or "{}")


class OnlineUpload(BaseModel):
    id = CharField(primary_key=True, max_length=40)  # also the blob store's partial upload id
    draft = CharField(index=True)
    phone = CharField()
    paper = IntegerField()  # position of the paper in the procedure's document list
    filename = CharField()
    mime = CharField()
    length = IntegerField()  # bytes announced (tus Upload-Length)
    sha256 = CharField(null=True)  # set when every byte came and the blob is whole
    created_at = DateTimeField()


ONLINE_MODELS = (OnlineDraft, OnlineUpload)


def new_id():
    return uuid.uuid4().hex


def limits(settings):
    return int(settings["upload_max_mb"]) * MB, int(settings["dossier_upload_max_mb"]) * MB


def start_draft(phone, commune, procedure_code, applicant):
    return OnlineDraft.create(id=new_id(), phone=phone, commune=commune, procedure_code=procedure_code,
                              applicant=json.dumps(applicant, ensure_ascii=False), created_at=utcnow())


def update_applicant(draft, applicant):
    draft.applicant = json.dumps(applicant, ensure_ascii=False)
    draft.save()


def draft_of(phone, draft_id):
    """The draft ``draft_id`` of ``phone``; another phone's draft is not found (never "forbidden")."""
    draft = OnlineDraft.get_or_none(OnlineDraft.id == str(draft_id)[:40], OnlineDraft.phone == phone)
    if draft is None:
        raise NotFound("Không tìm thấy hồ sơ đang soạn này.")
    return draft


def open_draft(phone, draft_id):
    """A draft still being prepared (a submitted one cannot take more files)."""
    draft = draft_of(phone, draft_id)
    if draft.dossier:
        raise MotcuaError("Hồ sơ này đã nộp; không thay đổi được nữa.", status=409)
    return draft


def check_type(filename, mime):
    """The file's type from its name and announced type: one of ``MIME``, else a 415 error."""
    lowered = (filename or "").lower()
    by_name = next((m for ext, m in EXTENSIONS.items() if lowered.endswith(ext)), None)
    mime = (mime or "").split(";")[0].strip().lower()
    if mime in ("", "application/octet-stream"):  # the sender did not know: the name says
        mime = by_name
    if mime == "image/jpg":
        mime = "image/jpeg"
    if mime not in MIME or (by_name and by_name != mime):
        raise MotcuaError(TYPE_ERROR, status=415)
    return mime


def check_magic(mime, head):
    """The first bytes must be those of the type (a renamed file is refused)."""
    if not any(head.startswith(magic) for magic in MIME[mime]):
        raise MotcuaError(TYPE_ERROR + " Tệp này không đúng loại như tên của nó.", status=415)


def used_bytes(draft):
    return OnlineUpload.select(fn.COALESCE(fn.SUM(OnlineUpload.length), 0)).where(
        OnlineUpload.draft == draft.id).scalar() or 0


def new_upload(settings, draft, paper, filename, mime, length):
    """Record an upload of ``length`` bytes for paper ``paper`` of the draft, within the limits."""
    per_file, per_dossier = limits(settings)
    mime = check_type(filename, mime)
    if length <= 0:
        raise MotcuaError("Tệp rỗng.", status=400)
    if length > per_file:
        raise MotcuaError(f"Tệp lớn quá {per_file // MB} MB. Hãy chụp lại ở độ phân giải thấp hơn hoặc nén PDF.",
                          status=413)
    with database.atomic():
        if used_bytes(draft) + length > per_dossier:
            raise MotcuaError(f"Tổng dung lượng các tệp của một hồ sơ không quá {per_dossier // MB} MB.", status=413)
        return OnlineUpload.create(id=new_id(), draft=draft.id, phone=draft.phone, paper=paper,
                                   filename=_clean_name(filename, mime), mime=mime, length=length, created_at=utcnow())


def _clean_name(filename, mime):
    name = "".join(ch for ch in (filename or "") if ch.isprintable() and ch not in '/\\<>:"|?*').strip()[:150]
    return name or "tep" + next(ext for ext, m in EXTENSIONS.items() if m == mime)


def upload_of(phone, upload_id):
    upload = OnlineUpload.get_or_none(OnlineUpload.id == str(upload_id)[:40], OnlineUpload.phone == phone)
    if upload is None:
        raise NotFound("Không có lượt tải lên này.")
    return upload


def finished(upload, sha, size):
    OnlineUpload.update(sha256=sha).where(OnlineUpload.id == upload.id).execute()
    upload.sha256 = sha


def remove_upload(store, upload):
    store.abort(upload.id)
    OnlineUpload.delete().where(OnlineUpload.id == upload.id).execute()


def files_of(draft):
    """{paper index: [upload, ...]} of the draft's uploads (finished or not), oldest first."""
    out = {}
    for upload in OnlineUpload.select().where(OnlineUpload.draft == draft.id).order_by(OnlineUpload.created_at):
        out.setdefault(upload.paper, []).append(upload)
    return out


def finished_files(draft):
    return {index: [{"name": u.filename, "mime": u.mime, "sha256": u.sha256, "size": u.length}
                    for u in items if u.sha256]
            for index, items in files_of(draft).items()}


def mark_submitted(draft, dossier):
    OnlineDraft.update(dossier=dossier.id).where(OnlineDraft.id == draft.id).execute()
    draft.dossier = dossier.id


def dossiers_of_phone(phone, limit=50):
    """The online dossiers a proved phone submitted, newest first (for the citizen's home page)."""
    ids = OnlineDraft.select(OnlineDraft.dossier).where(OnlineDraft.phone == phone, OnlineDraft.dossier.is_null(False))
    return list(Dossier.select().where(Dossier.id.in_(ids)).order_by(Dossier.received_at.desc()).limit(limit))


def store_whole(settings, store, draft, paper, filename, mime, stream):
    """A file sent in one request (the page without script): checked and stored as a blob."""
    head = stream.read(8)
    stream.seek(0)
    stream.seek(0, 2)
    length = stream.tell()
    stream.seek(0)
    upload = new_upload(settings, draft, paper, filename, mime, length)
    try:
        check_magic(upload.mime, head)
        sha, size = store.put(stream, expect_size=length, limit=length)
    except MotcuaError:
        OnlineUpload.delete().where(OnlineUpload.id == upload.id).execute()
        raise
    finished(upload, sha, size)
    return upload


def submit_draft(calendar, draft, procedure, now):
    """The draft becomes the commune's online dossier (once: a second submit is refused)."""
    from office.online_dossiers import submit

    with database.atomic():
        fresh = OnlineDraft.get_by_id(draft.id)
        if fresh.dossier:
            raise MotcuaError("Hồ sơ này đã nộp.", status=409)
        dossier = submit(calendar, draft.commune, procedure, draft.values, finished_files(draft), now)
        mark_submitted(draft, dossier)
    return dossier
