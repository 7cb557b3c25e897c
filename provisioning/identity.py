"""Identities: each box and the hub has its own Ed25519 key, made where it is used."""
import time
from pathlib import Path

from sync.capture import init_node
from sync.keys import generate_key, load_private_key, node_id, public_text
from sync.policy import GLOBAL_SCOPE, HUB_NODE


def key_path(data_dir, name="box"):
    return Path(data_dir) / "keys" / f"{name}.key"


def public_path(data_dir, name="box"):
    return Path(data_dir) / "keys" / f"{name}.pub"


def ensure_key(data_dir, name="box"):
    """The private key ``<data_dir>/keys/<name>.key``, created (mode 0600) on first use,
    with its public half beside it."""
    path = key_path(data_dir, name)
    try:
        key = load_private_key(path) if path.exists() else generate_key(path)
    except (FileExistsError, ValueError):  # another process is making it this very moment
        key = _wait_for_key(path)
    public = public_path(data_dir, name)
    if not public.exists():
        public.write_text(public_text(key) + "\n")
    return key


def _wait_for_key(path, seconds=5.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return load_private_key(path)
        except ValueError:  # still being written
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def ensure_identity(data_dir, commune_code, hub_url="", hub_key=""):
    """Key and node row of this box's database; returns the node id."""
    key = ensure_key(data_dir)
    node = init_node(node_id(key), commune_code, hub_url=hub_url, hub_key=hub_key)
    return node.node_id


def ensure_hub_identity(data_dir):
    """The hub's key and node row; returns the key."""
    key = ensure_key(data_dir, "hub")
    init_node(HUB_NODE, GLOBAL_SCOPE)
    return key
