"""The box enrols with the hub: its own key, the bundle's one-time token, its commune.

``enrol_pending(settings)`` finishes what provisioning could not do while the hub was out
of reach (enrolment, then loading the commune's data from the hub); the box's worker calls
it periodically. It does nothing (and reads one small file) once the box is enrolled.
"""
import logging
from pathlib import Path

from office.clock import utcnow
from office.db import database
from sync.capture import now_ms, observe
from sync.client import CLOCK_REFUSALS, HubClient, HubRefused, HubUnreachable, pinned_cert, refusal_reason
from sync.encoding import canonical
from sync.hlc import pack
from sync.keys import node_id, public_text, sign
from sync.protocol import new_nonce

from .bundle import BundleRefused, format_time
from .local import locked, read_state, write_config, write_state

log = logging.getLogger("motcua.provisioning")

DEFINITE = (400, 401, 403, 409, 410, 413)  # the hub looked and said no (a 404 may be a wrong URL: next one)
RETRY_LATER = ("clock", "replay")  # refusals of this request, not of the box: a later one may pass


class HubPending(Exception):
    """No hub URL answered: enrol later."""


def enrol_request(key, token, bundle_id, commune, fresh, at_ms=None):
    """(body, signature): the enrolment request, signed by the box's new key.

    ``at_ms``: the box's estimate of the hub's clock (default its own); with a fresh nonce, so
    the hub takes each request once and only while it is recent.
    """
    body = canonical({"token": token, "public_key": public_text(key), "commune": commune, "bundle_id": bundle_id,
                      "node_id": node_id(key), "fresh": bool(fresh),
                      "sent_ms": int(at_ms if at_ms is not None else now_ms()), "nonce": new_nonce()})
    return body, sign(key, body)


def enrol_with(urls, key, token, bundle_id, commune, fresh, timeout=20.0, verify=None):
    """Enrol at the first hub URL that answers: (url, answer). ``verify``: the hub
    certificate file to trust over https (the bundle's), None for the system CAs.

    Raises ``BundleRefused("enrol", ...)`` with the hub's reason when it refuses, ``HubPending``
    when none answers.
    """
    errors = []
    for url in urls:
        client = HubClient(url, key, node_id(key), timeout=timeout, verify=verify)
        try:
            for attempt in range(2):  # a new request each time: the hub takes a request once
                status, answer = client.enrol(*enrol_request(key, token, bundle_id, commune, fresh,
                                                             client.hub_now_ms()))
                if attempt or refusal_reason(answer) not in CLOCK_REFUSALS:
                    break  # else the refusal taught us the hub's time (a box boots in 1970): again
        except HubUnreachable as exc:
            errors.append(f"{url}: {exc}")
            continue
        if refusal_reason(answer) in RETRY_LATER:
            errors.append(f"{url}: {answer.get('error') or status}")
            continue
        if status == 200 and answer.get("ok"):
            if client.hub_time_ms:
                answer.setdefault("hub_time_ms", client.hub_time_ms)
            return url, answer
        message = answer.get("error") or f"mã {status}"
        if status in DEFINITE and answer.get("error"):
            raise BundleRefused("enrol", f"Trung tâm từ chối đăng ký hộp: {message}", status=status)
        errors.append(f"{url}: {message}")
    raise HubPending("; ".join(errors) or "không có địa chỉ trung tâm")


def after_enrolment(answer, url):
    """Record in this box's node what enrolment taught it (the database bound)."""
    from sync.models import SyncNode

    SyncNode.update(hub_url=url, failures=0, last_error="").execute()
    if answer.get("hub_time_ms"):
        observe(pack(int(answer["hub_time_ms"]), 0))


def restore_from_hub(settings, key):
    """Load the commune's rows from the hub into a box with no data of its own; return the counts
    ({} when an earlier run already did: it was cut before it could say so).

    Rows of hub-owned tables loaded from the bundle for the offline first boot are removed
    first: the hub's snapshot holds them too, with the log position that goes with them. All of
    it, the day counters of the numbers included, is one transaction: a power cut leaves the
    box as it was or restored, never restored without its counters (the next ticket would take
    a number the hub already holds, and be refused for good).
    """
    from office.models import Office
    from office.queue import rebuild_sequences
    from sync.box import apply_snapshot, client_for, fetch_snapshot
    from sync.capture import applying_remote, replicated_models
    from sync.policy import HUB

    if Office.select().exists():  # restore is the only way a box waiting for it gets its office
        rebuild_sequences()
        return {}
    doc = fetch_snapshot(client_for(settings, key))  # the download holds no lock
    with database.atomic():
        with applying_remote():
            for model in replicated_models().values():
                if model.replication == HUB:
                    model.delete().execute()
        counts = apply_snapshot(doc)
        rebuild_sequences()
    return counts


def enrol_pending(settings):
    """Retry what provisioning left pending; None when nothing is pending, else a summary dict.

    Call it with the box's database bound (the worker's process), e.g. every minute.
    """
    from provisioning.identity import ensure_key

    data_dir = Path(settings["data_dir"])
    if read_state(data_dir).get("status") not in ("enrol", "restore"):
        return None
    with locked(data_dir, wait=False) as mine:
        if not mine:
            return {"ok": False, "pending": True, "error": "đang cài đặt ở tiến trình khác"}
        state = read_state(data_dir)  # again, under the lock
        if state.get("status") not in ("enrol", "restore"):
            return None
        return _finish(settings, data_dir, state, ensure_key(data_dir))


def _finish(settings, data_dir, state, key):
    from sync.box import SyncFailed

    if state["status"] == "enrol":
        from office.models import Office
        from sync.capture import this_node
        from sync.models import ChangeEntry

        node = this_node()
        fresh = not ChangeEntry.select().where(ChangeEntry.origin == node.node_id).exists()
        try:
            url, answer = enrol_with(state["hub_urls"], key, state["token"], state["bundle_id"], state["commune"],
                                     fresh, settings.get("sync_timeout", 20.0), verify=pinned_cert(data_dir))
        except HubPending as exc:
            state.update(last_error=str(exc)[:500], last_try_at=format_time(utcnow()))
            write_state(data_dir, state)
            log.info("enrolment still pending: %s", exc)
            return {"ok": False, "pending": True, "error": str(exc)}
        except BundleRefused as exc:
            from sync.models import SyncNode

            state.update(status="refused", last_error=exc.message, token="")
            write_state(data_dir, state)
            SyncNode.update(last_error=exc.message[:500], last_error_at=utcnow()).execute()
            log.error("enrolment refused: %s", exc.message)
            return {"ok": False, "refused": True, "error": exc.message}
        after_enrolment(answer, url)
        has_office = Office.select().exists()
        if answer.get("has_data") and fresh and not has_office:
            status = "restore"
        else:
            status = "done"
            if not has_office:
                from office.communes import find_commune

                from .apply import seed_standard

                seed_standard(find_commune(state["commune"]))
        state.update(status=status, hub_url=url, token="", enrolled_at=format_time(utcnow()), node_id=node.node_id,
                     replaced=answer.get("replaced", []), last_error="")
        write_state(data_dir, state)
        write_config(data_dir, {"hub_url": url})
        log.info("enrolled with %s as %s", url, node.node_id)
    if state["status"] == "restore":
        try:
            counts = restore_from_hub({**settings, "hub_url": state["hub_url"]}, key)
        except (HubUnreachable, HubRefused, SyncFailed) as exc:
            message = getattr(exc, "message", None) or str(exc)
            state.update(last_error=message[:500], last_try_at=format_time(utcnow()))
            write_state(data_dir, state)
            log.warning("restore from the hub still pending: %s", message)
            return {"ok": False, "pending": True, "error": message}
        if state.get("recovery"):  # a database rebuilt after damage: its report learns what was lost
            from sync.capture import this_node

            from .recover import complete_pending

            complete_pending(data_dir, this_node().acked_seq, settings["timezone"], counts)
        state.update(status="done", restored=counts, last_error="", recovery=False)
        write_state(data_dir, state)
        log.info("restored from the hub: %s", counts)
        return {"ok": True, "enrolled": True, "restored": counts}
    return {"ok": True, "enrolled": True}
