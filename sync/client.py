"""The only code on a box that speaks HTTP to the hub.

Over ``https://`` the box trusts the hub certificate (or CA) pinned from its provisioning
bundle (``<data_dir>/keys/hub-cert.pem``) and nothing else: no public CA, no first-use trust.
A box without a pinned certificate uses the system's CAs (a hub behind a public certificate).

Every signed request carries the box's estimate of the hub's clock and a fresh nonce. The
estimate is the box's clock plus the offset learnt from the hub's last answer (each answer
carries ``X-Motcua-Hub-Time``); a box whose clock is off (no RTC: it boots in 1970) is
refused once with reason ``clock``, learns the hub's time from that refusal and asks again.
"""
import logging
from pathlib import Path

from . import capture
from .keys import sign
from .protocol import HUB_TIME, NONCE, ORIGIN, SCHEMA, SIGNATURE, TIME, new_nonce, request_message

BLOB_PATH = "/sync/v1/blobs"
UPLOAD_OFFSET = "Upload-Offset"  # bytes of a blob the receiver holds (as tus names it)
BLOB_WHOLE = "X-Motcua-Blob-Whole"  # "1": the hub holds the blob whole
BLOB_SIZE = "X-Motcua-Blob-Size"  # the whole blob's size, on a download
REASON = "X-Motcua-Reason"  # a refusal's reason where the answer has no body (HEAD)

log = logging.getLogger("motcua.sync.client")

PINNED_CERT = Path("keys") / "hub-cert.pem"

# What the technician reads on /sync and the console when the hub did not answer; the exception
# itself ("HTTPConnectionPool(host=…): Read timed out") goes to the log only.
UNREACHABLE = "Không kết nối được tới máy chủ tỉnh"
TIMED_OUT = f"{UNREACHABLE} (hết thời gian chờ)."
NO_ROUTE = f"{UNREACHABLE} (không có mạng hoặc máy chủ tỉnh không chạy)."
CUT_SHORT = f"{UNREACHABLE} (kết nối bị ngắt giữa chừng)."

TLS_MISMATCH = ("Chứng chỉ TLS của trung tâm không khớp với chứng chỉ đã ghim khi cài đặt hộp: máy trả lời có "
                "thể không phải trung tâm thật, hoặc trung tâm đã đổi chứng chỉ. Hộp không gửi dữ liệu cho máy này "
                "(dữ liệu vẫn được giữ trên hộp). Báo kỹ thuật trung tâm: nếu trung tâm đổi chứng chỉ, cần cài lại "
                "hộp bằng gói cài đặt mới.")
TLS_UNTRUSTED = ("Không kiểm chứng được chứng chỉ TLS của trung tâm (hộp chưa ghim chứng chỉ nào và chứng chỉ "
                 "không do tổ chức chứng thực công cộng cấp). Hộp không gửi dữ liệu; báo kỹ thuật trung tâm để có "
                 "gói cài đặt kèm chứng chỉ của trung tâm.")


def pinned_cert(data_dir):
    """The path of the hub certificate this box pinned, or None."""
    path = Path(data_dir or ".") / PINNED_CERT
    return str(path) if data_dir and path.is_file() else None


CLOCK_REFUSALS = ("clock",)  # refusals the same request, restamped, gets past


class HubUnreachable(Exception):
    """The hub did not answer (network down, timeout, cut body): try again later."""


class HubBusy(HubUnreachable):
    """The hub is taking in other boxes' data (503 with Retry-After): send again after
    ``retry_after`` seconds. Callers that do not wait treat it as any unanswered request."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


BUSY = "Máy chủ tỉnh đang bận nhận dữ liệu của nhiều xã/phường; hộp sẽ tự gửi lại sau ít phút."
MAX_RETRY_AFTER_S = 300  # a hub asking for longer is heard as this


class HubClient:
    def __init__(self, hub_url, key, node_id, timeout=20.0, session=None, verify=None, clock_offset_ms=None):
        """``verify``: the pinned hub certificate file (``pinned_cert``), None for the system CAs."""
        self.base = hub_url.rstrip("/")
        self.key = key
        self.node_id = node_id
        self.timeout = timeout
        self.pinned = bool(verify)
        self.session = session or _new_session(verify)
        self.hub_time_ms = None  # the hub's clock at its last answer
        self.clock_offset_ms = clock_offset_ms or 0  # hub clock minus this box's clock

    def hub_now_ms(self):
        """This box's best estimate of the hub's clock: the timestamp of its requests."""
        return capture.now_ms() + self.clock_offset_ms

    def hello(self, pending):
        """A signed sign of life for an idle box; the hub notes the contact and ``pending``."""
        return _json(self._signed_get("hello", "/sync/v1/hello", {"pending": int(pending)}))

    def hub_info(self):
        return self._call("GET", "/sync/v1/hub").json()

    def push(self, body, signature):
        """(status code, JSON answer) of pushing one batch."""
        response = self._call("POST", "/sync/v1/push", data=body, headers={
            ORIGIN: self.node_id, SIGNATURE: signature, "Content-Type": "application/octet-stream"})
        return response.status_code, _json(response)

    def enrol(self, body, signature):
        """(status code, JSON answer) of enrolling this box with a provisioning bundle's token."""
        response = self._call("POST", "/sync/v1/enrol", data=body, headers={
            SIGNATURE: signature, "Content-Type": "application/json"})
        return response.status_code, _json(response)

    def pull(self, cursor, limit):
        """(body, signature) of the next batch after ``cursor``."""
        response = self._signed_get("pull", "/sync/v1/pull", {"cursor": cursor, "limit": limit, "schema": SCHEMA})
        return response.content, response.headers.get(SIGNATURE, "")

    def snapshot(self):
        response = self._signed_get("snapshot", "/sync/v1/snapshot", {"schema": SCHEMA})
        return response.content, response.headers.get(SIGNATURE, "")

    def signed_post(self, action, path, body):
        """(status code, JSON answer) of posting ``body`` signed as ``action``: the signature covers
        the body's sha256, sent as the query (see ``central.releases_api``)."""
        import hashlib

        query = f"digest={hashlib.sha256(body).hexdigest()}"
        for attempt in range(2):
            nonce, at_ms = new_nonce(), self.hub_now_ms()
            signature = sign(self.key, request_message(action, self.node_id, query, nonce, at_ms))
            response = self._call("POST", f"{path}?{query}", data=body, headers={
                ORIGIN: self.node_id, SIGNATURE: signature, NONCE: nonce, TIME: str(at_ms),
                "Content-Type": "application/json"})
            if response.status_code == 200:
                return _json(response)
            if attempt == 0 and refusal_reason(_json(response, {})) in CLOCK_REFUSALS:
                continue
            raise HubRefused(response.status_code, _error_text(response))

    # Blob bytes (files named by an Attachment row): signed like a pull, the blob's hash in the
    # signed action, the offset in the signed query. See central.blob_api.

    def blob_offset(self, sha):
        """(bytes of blob ``sha`` the hub holds, whether it holds it whole)."""
        response = self._signed("HEAD", f"blob-head {sha}", f"{BLOB_PATH}/{sha}", {})
        return int(response.headers.get(UPLOAD_OFFSET) or 0), response.headers.get(BLOB_WHOLE) == "1"

    def blob_patch(self, sha, offset, chunk):
        """Send ``chunk`` of blob ``sha`` from ``offset``; return the hub's offset after it (the
        hub's own offset when ``offset`` was not where it stood)."""
        import hashlib

        response = self._signed("PATCH", f"blob-patch {sha}", f"{BLOB_PATH}/{sha}",
                                {"offset": offset, "digest": hashlib.sha256(chunk).hexdigest()},
                                ok=(200, 204, 409), data=chunk,
                                headers={"Content-Type": "application/offset+octet-stream"})
        if UPLOAD_OFFSET not in response.headers:  # a 409 of another kind (a replayed request)
            raise HubRefused(response.status_code, _error_text(response))
        return int(response.headers[UPLOAD_OFFSET])

    def blob_download(self, sha, offset, sink, chunk_size=256 * 1024):
        """Read blob ``sha`` from ``offset`` and give each piece to ``sink`` as it arrives (a cut
        connection raises ``HubUnreachable`` after the pieces already given)."""
        import requests

        response = self._signed("GET", f"blob-get {sha}", f"{BLOB_PATH}/{sha}", {"offset": offset},
                                ok=(200, 206), stream=True)
        try:
            for piece in response.iter_content(chunk_size):
                sink(piece)
        except requests.RequestException as exc:
            log.info("blob %s cut after it started: %s", sha[:12], exc)
            raise HubUnreachable(plain_reason(exc)) from exc
        finally:
            response.close()

    def _signed_get(self, action, path, params):
        return self._signed("GET", action, path, params)

    def _signed(self, method, action, path, params, ok=(200,), headers=None, **kwargs):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        for attempt in range(2):
            nonce, at_ms = new_nonce(), self.hub_now_ms()
            signature = sign(self.key, request_message(action, self.node_id, query, nonce, at_ms))
            response = self._call(method, f"{path}?{query}" if query else path, headers={
                **(headers or {}), ORIGIN: self.node_id, SIGNATURE: signature, NONCE: nonce, TIME: str(at_ms)},
                **kwargs)
            if response.status_code in ok:
                return response
            reason = refusal_reason(_json(response, {})) or response.headers.get(REASON, "")
            if attempt == 0 and reason in CLOCK_REFUSALS:
                continue  # the refusal taught us the hub's time: once more, restamped
            raise HubRefused(response.status_code, _error_text(response))

    def _call(self, method, path, stream=False, **kwargs):
        import requests

        try:
            response = self.session.request(method, self.base + path, timeout=self.timeout, stream=stream, **kwargs)
            if not stream or response.status_code >= 300:
                _ = response.content  # read it all now: a body cut mid-way fails here
        except requests.exceptions.SSLError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
                raise HubUnreachable(TLS_MISMATCH if self.pinned else TLS_UNTRUSTED) from exc
            log.warning("TLS error talking to the hub %s: %s", self.base, exc)
            raise HubUnreachable(f"{UNREACHABLE} (lỗi kết nối bảo mật TLS). Báo kỹ thuật trung tâm.") from exc
        except requests.RequestException as exc:
            log.warning("the hub %s did not answer %s %s: %s", self.base, method, path.split("?")[0], exc)
            raise HubUnreachable(plain_reason(exc)) from exc
        if HUB_TIME in response.headers:
            try:
                self.hub_time_ms = int(response.headers[HUB_TIME])
                self.clock_offset_ms = self.hub_time_ms - capture.now_ms()
            except ValueError:
                pass
        if response.status_code == 503 and "Retry-After" in response.headers:
            retry_after = retry_after_seconds(response.headers["Retry-After"])
            log.info("the hub %s is busy; %s %s again in %s s", self.base, method, path.split("?")[0], retry_after)
            raise HubBusy(BUSY, retry_after)
        if response.status_code >= 500:
            log.warning("the hub %s answered %s to %s %s", self.base, response.status_code, method, path.split("?")[0])
            raise HubUnreachable(f"Máy chủ tỉnh đang gặp sự cố (mã lỗi {response.status_code}).")
        return response


class HubRefused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def retry_after_seconds(value):
    """Seconds of a ``Retry-After`` header (a number; an HTTP date or nonsense counts as 30)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 30.0
    return min(max(seconds, 1.0), MAX_RETRY_AFTER_S) if seconds == seconds else 30.0


def plain_reason(exc):
    """The Vietnamese sentence for a request that got no answer (``requests`` exception)."""
    import requests

    if isinstance(exc, requests.Timeout):
        return TIMED_OUT
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "timed out" in text.lower():
            return TIMED_OUT
        if "RemoteDisconnected" in text or "Connection aborted" in text or "IncompleteRead" in text:
            return CUT_SHORT
        return NO_ROUTE
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return CUT_SHORT
    return f"{UNREACHABLE}."


def refusal_reason(answer):
    """The short reason code of a hub's refusal (push answers carry it on top, others in detail)."""
    if not isinstance(answer, dict):
        return ""
    return answer.get("reason") or (answer.get("detail") or {}).get("reason") or ""


def _json(response, default=None):
    try:
        return response.json()
    except ValueError as exc:
        if default is not None:
            return default
        log.warning("the hub answered %s with a body that is not JSON: %r", response.status_code, response.text[:200])
        raise HubUnreachable(f"Máy chủ tỉnh trả lời không đúng dạng (mã {response.status_code}).") from exc


def _error_text(response):
    try:
        return response.json().get("error") or response.text[:200]
    except ValueError:
        return response.text[:200]


def session_for(data_dir):
    """A requests session that trusts what this box trusts for its hub (its pinned certificate)."""
    return _new_session(pinned_cert(data_dir))


def _new_session(verify=None):
    """A requests session; with ``verify`` (a certificate file) it trusts that file only."""
    import requests  # loaded by the processes that talk to the hub, not by every web worker

    session = requests.Session()
    if verify:
        session.verify = str(verify)
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment would replace the pin
    return session
