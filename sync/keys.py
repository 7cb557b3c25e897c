"""Ed25519 keys of boxes and the hub: made where they are used, never copied elsewhere."""
import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from office.errors import MotcuaError


def generate_key(path):
    """Create a private key file readable by its owner only (0600); refuse to overwrite one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def load_private_key(path):
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def public_bytes(key):
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(key):
    """The public key as one base64 line, for files, bundles and the hub's registry."""
    return base64.b64encode(public_bytes(key)).decode()


def load_public_text(text):
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise MotcuaError("Khoá công khai không hợp lệ (cần 32 byte Ed25519, mã base64).") from exc


def node_id(key):
    """A node's name, derived from its key: a cloned SD card keeps the key, a new box gets a new name."""
    return "box-" + hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def sign(key, data):
    return base64.b64encode(key.sign(hashlib.sha256(data).digest())).decode()


def verify(public_key, data, signature):
    """True when ``signature`` is ``public_key``'s over ``data``."""
    try:
        public_key.verify(base64.b64decode(signature), hashlib.sha256(data).digest())
        return True
    except (InvalidSignature, ValueError):
        return False
