"""A box's side of moving blob bytes: fetch the files its Attachment rows name and it lacks (a
citizen's papers, report photos: oldest first), send up the files it made (scans, answer photos,
results) that the hub lacks. Each transfer goes on from where the last one stopped (the store's
partial, named by the blob's sha256; on the hub side its partial's size), and a file counts only
once its bytes match the hash the row names.

The HTTP goes through ``sync.client.HubClient`` (the box's only speaker to the hub).
"""
import io
import logging
import time

from office.attachments import Attachment, SentBlob
from office.clock import utcnow
from sync.client import HubRefused, HubUnreachable

from .store import BlobError

log = logging.getLogger("motcua.blobs")

PIECE = 1024 * 1024  # bytes per PATCH going up
RETRIES = 4  # tries of one file in a row before a run gives up (the link is down): the next run goes on


def missing_here(store, limit=None):
    """[(sha256, size)] of files this node's rows name and its store lacks, oldest row first."""
    seen, missing = set(), []
    query = (Attachment.select(Attachment.sha256, Attachment.size)
             .order_by(Attachment.added_at, Attachment.id).tuples())
    for sha, size in query.iterator():
        if sha in seen:
            continue
        seen.add(sha)
        if not store.has(sha):
            missing.append((sha, size))
            if limit and len(missing) >= limit:
                break
    return missing


def made_here_unsent(node_id):
    """[(sha256, size)] of files this node made (its own Attachment rows) the hub has not confirmed."""
    suffix = "-" + node_id[-12:]  # sync.capture.make_id: a row's id ends with the node that made it
    sent = SentBlob.select(SentBlob.sha256)
    query = (Attachment.select(Attachment.sha256, Attachment.size)
             .where(Attachment.id.endswith(suffix), Attachment.sha256.not_in(sent))
             .order_by(Attachment.added_at, Attachment.id).distinct().tuples())
    return list(query)


def fetch(client, store, sha, size):
    """Bring blob ``sha`` whole into ``store`` (from where its partial stopped); True when done."""
    with store.locked(sha):
        if store.has(sha):
            return True
        offset = store.partial_size(sha)
        if offset > size:
            store.abort(sha)
            offset = 0
        if offset < size:
            def keep(piece):
                nonlocal offset
                offset = store.append(sha, offset, io.BytesIO(piece), limit=size)

            try:
                client.blob_download(sha, offset, keep)
            except BlobError:  # more bytes than the row says: not this blob
                store.abort(sha)
                raise
        store.commit(sha, expect_sha=sha, expect_size=size)  # 422 and the partial dropped on a mismatch
        return True


def send(client, store, sha, size):
    """Send blob ``sha`` to the hub from where the hub's partial stopped; True when the hub holds it."""
    offset, whole = client.blob_offset(sha)
    tries = size // PIECE + 8  # a 409 (another sender moved the hub's partial) costs one more
    with store.open(sha) as handle:
        while not whole and tries:
            tries -= 1
            handle.seek(offset)
            offset = client.blob_patch(sha, offset, handle.read(PIECE))  # the hub's offset, even on a 409
            whole = offset >= size
    return whole


def _retrying(step, result, tries=RETRIES):
    """``step()``, again from where it stopped after a cut or a lost answer (a weak link drops some
    requests), up to ``tries`` times in a row; the last failure is raised."""
    for attempt in range(tries):
        try:
            return step()
        except HubUnreachable:
            result["retried"] += 1
            if attempt == tries - 1:
                raise
            time.sleep(min(0.2 * 2 ** attempt, 2.0))
    return None


def transfer(client, store, node_id, limit_bytes=None, budget_s=50.0):
    """Fetch what is missing here, then send what the hub lacks, within ``budget_s`` seconds.
    Returns a summary; past ``limit_bytes`` held here nothing more is fetched (nothing is deleted)."""
    started = time.monotonic()
    result = {"fetched": 0, "fetched_bytes": 0, "sent": 0, "sent_bytes": 0, "waiting": 0, "failed": 0, "retried": 0,
              "full": False, "error": ""}
    held = store.total_size() if limit_bytes else 0
    missing = missing_here(store)
    result["waiting"] = len(missing)
    for sha, size in missing:
        if time.monotonic() - started > budget_s:
            break
        if limit_bytes and held >= limit_bytes:  # what the console reports as "đã đạt giới hạn"
            result["full"] = True
            break
        try:
            _retrying(lambda sha=sha, size=size: fetch(client, store, sha, size), result)
        except HubRefused as exc:  # 404: the hub has not got it yet (or it is not for this box)
            log.info("blob %s not fetched: %s %s", sha[:12], exc.status, exc.message)
            result["failed"] += 1
            continue
        except BlobError as exc:
            log.warning("blob %s refused on arrival: %s", sha[:12], exc.message)
            result["failed"] += 1
            continue
        except HubUnreachable as exc:
            result["error"] = str(exc)
            return result
        held += size
        result["fetched"] += 1
        result["fetched_bytes"] += size
        result["waiting"] -= 1
    for sha, size in made_here_unsent(node_id):
        if time.monotonic() - started > budget_s:
            break
        if not store.has(sha):
            continue
        try:
            if not _retrying(lambda sha=sha, size=size: send(client, store, sha, size), result):
                continue
        except HubRefused as exc:  # 404 until the row has come up by the push; 422: sent again next time
            log.info("blob %s not sent: %s %s", sha[:12], exc.status, exc.message)
            result["failed"] += 1
            continue
        except HubUnreachable as exc:
            result["error"] = str(exc)
            return result
        SentBlob.insert(sha256=sha, sent_at=utcnow()).on_conflict_ignore().execute()
        result["sent"] += 1
        result["sent_bytes"] += size
    return result
