"""TLS end to end: a hub serving HTTPS itself with a certificate of its own CA (made here with
trustme, no public CA), a bundle carrying that CA, a box pinning it. The box enrols and syncs;
a server with another certificate at the hub's address gets nothing, and the technician reads
why in Vietnamese on /sync and in the console's health checks."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
import trustme

from office import queue
from sync.client import TLS_MISMATCH

from .conftest import provision, run
from tests.sync.conftest import OPERATOR_PASSWORD, free_port

COMMUNE = "00160"


class TlsHub:
    """``motcua hub serve`` with ``--tls-cert``/``--tls-key``, restartable with another certificate."""

    def __init__(self, root):
        self.dir = root
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.args = ["--data-dir", root, "--operator-password", OPERATOR_PASSWORD, "--log-level", "WARNING",
                     "--port", self.port]
        self.proc = None

    def start(self, cert, key, trusted):
        self.tls = ["--tls-cert", cert, "--tls-key", key]
        with open(self.dir.parent / "hub.log", "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "motcua", "hub", "serve", *map(str, self.args),
                                          *map(str, self.tls)], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1, verify=str(trusted)).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the TLS hub did not start: " + (self.dir.parent / "hub.log").read_text()[-2000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        self.proc = None


def _certificate(ca, folder):
    """(certificate chain file, key file, CA file) of a server certificate for 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, root = folder / "hub.pem", folder / "hub.key", folder / "ca.pem"
    server.private_key_and_cert_chain_pem.write_to_path(str(key))
    cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    ca.cert_pem.write_to_path(str(root))
    return cert, key, root


@pytest.fixture
def tls_hub(tmp_path):
    hub = TlsHub(tmp_path / "hub")
    yield hub
    hub.stop()


def test_a_box_pins_the_hub_certificate_from_its_bundle_and_refuses_another(tls_hub, tmp_path, opened):
    from edge.app import create_app
    from edge.console import gather

    cert, key, ca_file = _certificate(trustme.CA(), tmp_path / "real")
    tls_hub.start(cert, key, ca_file)
    bundle = tmp_path / "usb" / "xa.motcua"
    made = run("provision", "bundle", "--commune", COMMUNE, "--out", bundle, *tls_hub.args, *tls_hub.tls,
               "--tls-pin-cert", ca_file)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"Trung tâm:         {tls_hub.url}" in made.stdout and "Chứng chỉ TLS:" in made.stdout  # https by default

    code, out = provision(tmp_path / "box", bundle)
    assert code == 0 and "trung tâm đã nhận khoá của hộp" in out, out  # enrolled over TLS
    box = opened(tmp_path / "box")
    assert (box.dir / "keys" / "hub-cert.pem").read_text() == ca_file.read_text()
    assert box.settings["hub_url"] == tls_hub.url
    with box:
        queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    result = box.sync()
    assert result["ok"] and result["pending"] == 0, result

    tls_hub.stop()  # another server at the hub's address, its certificate from another CA
    other_cert, other_key, other_ca = _certificate(trustme.CA(), tmp_path / "impostor")
    tls_hub.start(other_cert, other_key, other_ca)
    with box:
        queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    result = box.sync()
    assert not result["ok"] and result["pending"] > 0 and result["error"] == TLS_MISMATCH, result

    app = create_app(box.settings, tasks={})
    page = app.test_client().get("/sync").get_data(as_text=True)
    assert "Chứng chỉ TLS của trung tâm không khớp với chứng chỉ đã ghim khi cài đặt hộp" in page
    with app.app_context():
        checks = {r["key"]: r for r in gather(box.settings)["results"]}
    assert "chứng chỉ TLS của trung tâm không khớp" in checks["hub"]["value"], checks["hub"]
    assert "gói cài đặt mới" in checks["hub"]["remedy"]
    assert "Chứng chỉ TLS của trung tâm không khớp" in checks["sync"]["value"]

    renewed = tmp_path / "usb" / "moi.motcua"  # it was the hub with a new certificate: a new bundle pins it
    made = run("provision", "bundle", "--commune", COMMUNE, "--out", renewed, *tls_hub.args, *tls_hub.tls,
               "--tls-pin-cert", other_ca)
    assert made.returncode == 0, made.stdout + made.stderr
    code, out = provision(box.dir, renewed)
    assert code == 0 and "trung tâm đã nhận khoá của hộp" in out, out
    assert (box.dir / "keys" / "hub-cert.pem").read_text() == other_ca.read_text()
    result = box.sync()
    assert result["ok"] and result["pending"] == 0, result


def test_a_pinned_certificate_replaces_the_system_and_environment_trust(tmp_path, monkeypatch):
    from sync.client import HubClient, HubUnreachable, TLS_MISMATCH as mismatch
    from sync.keys import generate_key

    real_ca = trustme.CA()
    _, _, pinned = _certificate(trustme.CA(), tmp_path / "pinned")
    _, _, other = _certificate(real_ca, tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))  # the environment trusts the server: the pin wins
    hub = TlsHub(tmp_path / "hub")
    cert, key, _ = _certificate(real_ca, tmp_path / "served")
    try:
        hub.start(cert, key, other)
        client = HubClient(hub.url, generate_key(tmp_path / "k"), "box-x", timeout=5, verify=str(pinned))
        with pytest.raises(HubUnreachable) as refused:
            client.hub_info()
        assert str(refused.value) == mismatch
    finally:
        hub.stop()


def _self_signed(folder):
    """(certificate, key) files of a self-signed certificate for 127.0.0.1, as the docs make one."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "motcua-hub")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "hub.pem", folder / "hub.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_a_box_holds_the_hub_self_signed_certificate_from_its_bundle(tls_hub, tmp_path, opened):
    cert, key = _self_signed(tmp_path / "tls")
    tls_hub.start(cert, key, cert)
    bundle = tmp_path / "xa.motcua"
    made = run("provision", "bundle", "--commune", COMMUNE, "--out", bundle, *tls_hub.args, *tls_hub.tls)
    assert made.returncode == 0, made.stdout + made.stderr
    assert str(cert) in made.stdout and "http://" not in made.stderr  # tls_pin_cert defaults to tls_cert
    code, out = provision(tmp_path / "box", bundle)
    assert code == 0 and "trung tâm đã nhận khoá của hộp" in out, out
    box = opened(tmp_path / "box")
    assert (box.dir / "keys" / "hub-cert.pem").read_text() == cert.read_text()
    assert box.sync()["ok"]
