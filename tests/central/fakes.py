"""Fake gateways as real servers on 127.0.0.1: an eSMS-like SMS brandname API, a Zalo ZNS-like
API and a small SMTP server. Each records every raw request it gets."""
import base64
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHttpGateway:
    """A JSON API on 127.0.0.1. ``script`` holds answers to give next, in order (status, body,
    delay seconds; body None: the gateway's own answer); when it is empty the gateway answers
    like the real one (``answer``)."""

    def __init__(self):
        self.requests = []  # every request: {"path", "headers", "body"}
        self.script = []
        self.hold = threading.Event()  # set: requests are recorded, then held until released
        self.held = threading.Event()  # set once a request is being held
        self.release = threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                with gateway.lock:
                    gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    scripted = gateway.script.pop(0) if gateway.script else None
                    status, answer, delay = scripted or (200, None, 0)
                    if answer is None:  # the gateway's own answer (and its delivery), maybe late
                        answer = gateway.answer(body)
                if gateway.hold.is_set():
                    gateway.held.set()
                    gateway.release.wait(60)
                if delay:
                    time.sleep(delay)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client is gone (timed out or killed)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, body):
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        with self.lock:
            return [r["body"] for r in self.requests]


class FakeSms(FakeHttpGateway):
    """Like eSMS.vn: a RequestId is taken once (CodeResult 100 + SMSID); seen again: 124."""

    def __init__(self):
        self.delivered = {}  # RequestId -> body, what reached citizens
        super().__init__()

    def answer(self, body):
        rid = body.get("RequestId")
        if rid in self.delivered:
            return {"CodeResult": "124", "CountRegenerate": 0, "ErrorMessage": "Request exist 1", "SendStatus": "5"}
        self.delivered[rid] = body
        return {"CodeResult": "100", "CountRegenerate": 0, "SMSID": f"sms-{len(self.delivered)}"}


class FakeZalo(FakeHttpGateway):
    def answer(self, body):
        return {"error": 0, "message": "Success", "data": {"msg_id": f"zns-{len(self.requests)}", "sent_time": "1"}}


class FakeSmtp:
    """Enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; mails kept raw."""

    def __init__(self):
        self.mails = []  # {"from", "to", "data", "auth"}
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                mail = {"from": "", "to": [], "data": b"", "auth": None}
                self.reply("220 fake.smtp ESMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-fake.smtp")
                        self.reply("250-AUTH PLAIN")
                        self.reply("250 8BITMIME")
                    elif verb == "HELO":
                        self.reply("250 fake.smtp")
                    elif verb == "AUTH":
                        parts = command.split()
                        mail["auth"] = base64.b64decode(parts[2]).split(b"\0")[1:] if len(parts) > 2 else None
                        self.reply("235 2.7.0 Authentication successful")
                    elif verb == "MAIL":
                        mail["from"] = command.split(":", 1)[1].strip().split()[0].strip("<>")
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        mail["to"].append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        chunks = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b""):
                                break
                            chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        mail["data"] = b"".join(chunks)
                        smtp.mails.append(dict(mail))
                        self.reply("250 OK queued")
                    elif verb == "RSET" or verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
