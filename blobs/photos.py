"""Photos a person uploads (a field report's, the commune's answer): checked by their first bytes,
size-limited, stored as blobs. Returns what an ``Attachment`` row names."""
import re
from pathlib import Path

from office.errors import MotcuaError

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 5
KINDS = {  # mime: (magic prefixes, extension)
    "image/jpeg": ((b"\xff\xd8\xff",), "jpg"),
    "image/png": ((b"\x89PNG\r\n\x1a\n",), "png"),
    "image/webp": ((b"RIFF",), "webp"),  # and "WEBP" at offset 8
}


def sniff(head):
    """The image type of the file's first bytes, or None."""
    for mime, (magics, _) in KINDS.items():
        if any(head.startswith(m) for m in magics):
            if mime == "image/webp" and head[8:12] != b"WEBP":
                continue
            return mime
    return None


def clean_name(filename, mime):
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", Path(str(filename or "")).name).strip(" .")[:100]
    return name or f"anh.{KINDS[mime][1]}"


def store_photos(store, files):
    """``files``: [(filename, stream)] of non-empty uploads. Returns [(name, mime, sha256, size)].

    Refuses (Vietnamese, status 400/413) more than ``MAX_PHOTOS``, a file that is not a JPEG, PNG or
    WebP picture, or one over ``MAX_PHOTO_BYTES``."""
    files = [(name, stream) for name, stream in files if name]
    if len(files) > MAX_PHOTOS:
        raise MotcuaError(f"Chỉ gửi được tối đa {MAX_PHOTOS} ảnh.", status=400, detail={"field": "photos"})
    stored = []
    for filename, stream in files:
        head = stream.read(16)
        mime = sniff(head)
        if mime is None:
            raise MotcuaError(f"Tệp “{clean_name(filename, 'image/jpeg')}” không phải ảnh (JPEG, PNG hoặc WebP).",
                              status=400, detail={"field": "photos"})
        stream.seek(0)
        try:
            sha, size = store.put(stream, limit=MAX_PHOTO_BYTES)
        except MotcuaError as error:
            if error.status == 413:
                raise MotcuaError(f"Ảnh “{clean_name(filename, mime)}” lớn quá "
                                  f"{MAX_PHOTO_BYTES // (1024 * 1024)} MB.", status=413,
                                  detail={"field": "photos"}) from None
            raise
        stored.append((clean_name(filename, mime), mime, sha, size))
    return stored
