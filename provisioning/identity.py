"""A box's identity: its own Ed25519 key, made on the box, and the node id derived from it."""
from pathlib import Path

from sync.capture import init_node
from sync.keys import generate_key, load_private_key, node_id, public_text

KEY_FILE = "keys/box.key"
PUBLIC_FILE = "keys/box.pub"


def key_path(data_dir):
    return Path(data_dir) / KEY_FILE


def ensure_key(data_dir):
    """The box's private key, created (mode 0600) on first use; its public half beside it."""
    path = key_path(data_dir)
    key = load_private_key(path) if path.exists() else generate_key(path)
    public = Path(data_dir) / PUBLIC_FILE
    if not public.exists():
        public.write_text(public_text(key) + "\n")
    return key


def ensure_identity(data_dir, commune_code, hub_url="", hub_key=""):
    """Key and node row of this box's database; returns the node id."""
    key = ensure_key(data_dir)
    node = init_node(node_id(key), commune_code, hub_url=hub_url, hub_key=hub_key)
    return node.node_id
