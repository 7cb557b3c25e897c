"""A fault-injecting HTTP proxy for the chaos test (stdlib only).

One request per client connection (the answer says ``Connection: close``). Each request is
forwarded to the upstream on a fresh connection and, while faults are on, a seeded RNG
picks for ~``rate`` of the requests one of:

- ``drop_before``: close the client's connection, the request never reaches the hub;
- ``drop_after``: forward it, then close without answering (the hub applied, the box
  never hears);
- ``delay``: wait 50-500 ms before forwarding;
- ``duplicate``: forward it twice: answer with the second answer, or answer with the first
  and deliver a stale copy later, together with the same box's next request (or after
  ``hold_s``), so that an old pull or push meets the box's new one at the hub;
- ``reorder``: hold it until a later request has been forwarded (or ``hold_s`` passed);
- ``cut``: forward it, send the head and half of the body, then close.

Every forwarded request has a hard timeout; every thread is a daemon and catches all.
"""
import http.client
import random
import socket
import socketserver
import threading
import time
from collections import Counter

FAULTS = ("drop_before", "drop_after", "delay", "duplicate", "reorder", "cut")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "content-length"}
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class FaultProxy:
    def __init__(self, upstream_port, seed, rate=0.3, hold_s=1.0, upstream_timeout=10.0, log=None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.rng = random.Random(seed)
        self.rate = rate
        self.hold_s = hold_s
        self.upstream_timeout = upstream_timeout
        self.faults_on = True
        self.counts = Counter()
        self.errors = []  # unexpected exceptions inside the proxy
        self.log = log
        self._lock = threading.Lock()
        self._forwarded = threading.Condition(self._lock)
        self._forward_count = 0
        self._background = []
        self._stale = {}  # origin -> requests to deliver again with its next one
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._handle(self.request)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="chaos-proxy", daemon=True)

    # lifecycle -------------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    def heal(self):
        """No more faults; stale copies still held are delivered now (and waited for)."""
        self.faults_on = False
        with self._lock:
            stale, self._stale = self._stale, {}
        for requests in stale.values():
            for request in requests:
                self._spawn(lambda r=request: self._forward(r))
        for thread in list(self._background):
            thread.join(self.hold_s + self.upstream_timeout)

    def close(self):
        self.faults_on = False
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
        for thread in list(self._background):
            thread.join(3)

    # per request -------------------------------------------------------------------------
    def _pick(self):
        with self._lock:
            if not self.faults_on or self.rng.random() >= self.rate:
                fault = None
            else:
                fault = self.rng.choice(FAULTS)
            params = {"delay": self.rng.uniform(0.05, 0.5), "second": self.rng.random() < 0.5,
                      "cut_at": self.rng.uniform(0.0, 0.9)}
            self.counts[fault or "pass"] += 1
        return fault, params

    def _handle(self, client):
        try:
            client.settimeout(15)
            request = _read_request(client)
            if request is None:
                return
            fault, params = self._pick()
            self._note(fault, request)
            if fault == "drop_before":
                return
            if fault == "delay":
                time.sleep(params["delay"])
            if fault == "reorder":
                self._hold()
            self._release_stale(_origin(request))
            answer = self._forward(request)
            if fault == "duplicate":
                if params["second"]:
                    again = self._forward(request)
                    answer = again if again is not None else answer
                else:
                    self._keep_stale(request)
            if fault == "drop_after":
                return
            if answer is None:  # the hub is down: what a reverse proxy would say
                answer = (502, [("Content-Type", "text/plain")], b"upstream unreachable")
            self._answer(client, answer, cut_at=params["cut_at"] if fault == "cut" else None)
        except Exception as exc:  # noqa: BLE001 - never let a proxy thread die loudly
            if not isinstance(exc, OSError):
                self.errors.append(repr(exc))
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()

    def _note(self, fault, request):
        if self.log is not None and fault:
            self.log.append(f"{time.monotonic():.3f} {fault} {request[0]} {request[1].split('?')[0]} "
                            f"{_origin(request)[-6:]}")

    def _hold(self):
        """Wait until some later request has been forwarded (bounded by ``hold_s``)."""
        with self._forwarded:
            start = self._forward_count
            deadline = time.monotonic() + self.hold_s
            while self._forward_count == start:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._forwarded.wait(left)

    def _keep_stale(self, request):
        """Deliver a copy of ``request`` later: with its origin's next request, or after hold_s."""
        origin = _origin(request)
        with self._lock:
            self._stale.setdefault(origin, []).append(request)

        def timeout():
            time.sleep(self.hold_s)
            with self._lock:
                waiting = self._stale.get(origin, [])
                if request not in waiting:
                    return
                waiting.remove(request)
            self._forward(request)

        self._spawn(timeout)

    def _release_stale(self, origin):
        with self._lock:
            stale = self._stale.pop(origin, [])
        for request in stale:
            self._spawn(lambda r=request: self._forward(r))

    def _spawn(self, target):
        def run():
            try:
                target()
            except Exception as exc:  # noqa: BLE001
                self.errors.append(repr(exc))

        thread = threading.Thread(target=run, name="chaos-replay", daemon=True)
        with self._lock:
            self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()

    def _forward(self, request):
        """(status, headers, body) of the upstream's answer, or None when it did not answer."""
        method, target, headers, body = request
        conn = http.client.HTTPConnection(*self.upstream, timeout=self.upstream_timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_HEADERS:
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Connection", "close")
            conn.endheaders(body)
            response = conn.getresponse()
            payload = response.read()
            answer = (response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS],
                      payload)
        except (OSError, http.client.HTTPException):
            answer = None
        finally:
            conn.close()
            with self._forwarded:
                self._forward_count += 1
                self._forwarded.notify_all()
        return answer

    @staticmethod
    def _answer(client, answer, cut_at=None):
        status, headers, body = answer
        reason = http.client.responses.get(status, "")
        head = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        data = "\r\n".join(head).encode("latin-1")
        if cut_at is not None:
            client.sendall(data + body[: int(len(body) * cut_at)])
            return
        client.sendall(data + body)


def _origin(request):
    return next((v for k, v in request[2] if k.lower() == "x-motcua-origin"), "")


def _read_request(sock):
    """(method, target, headers, body) of one HTTP/1.1 request with a Content-Length body."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
        if len(buf) > MAX_HEAD:
            raise ValueError("request head too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    if any(k.lower() == "transfer-encoding" for k, _ in headers):
        raise ValueError("chunked requests are not supported")
    length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
    if length > MAX_BODY:
        raise ValueError("request body too large")
    body = rest
    while len(body) < length:
        chunk = sock.recv(min(65536, length - len(body)))
        if not chunk:
            return None
        body += chunk
    return method, target, headers, body[:length]
