"""What a push that proves nothing, or a signed gzip bomb, can make the hub do: nothing much."""
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import requests

from office import queue
from office.communes import all_communes
from sync.box import _unsent
from sync.capture import this_node
from sync.keys import sign
from sync.protocol import MAX_RAW, ORIGIN, SIGNATURE, encode_batch

COMMUNES = iter(sorted(all_communes())[600:])
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(module_hub):
    return module_hub


@pytest.fixture
def box(make_box):
    box = make_box(commune=next(COMMUNES))
    assert box.sync()["ok"]
    with box:
        queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    return box


def post(hub, origin, body, signature):
    return requests.post(hub.url + "/sync/v1/push", data=body, timeout=60,
                         headers={ORIGIN: origin, SIGNATURE: signature})


def test_push_with_a_bad_signature_learns_nothing(hub, box):
    with box:
        rows = _unsent(this_node(), 100)
    body, _ = encode_batch(box.node_id, rows, box.key, 1)
    for signature in ("", "AAAA", sign(box.key, body + b"x")):
        answer = post(hub, box.node_id, body, signature).json()
        assert answer["reason"] == "bad_signature" and "acked_seq" not in answer and "last_hash" not in answer
    answer = post(hub, "box-nobody", body, sign(box.key, body)).json()
    assert answer["reason"] == "unknown_box" and "acked_seq" not in answer


def test_unauthenticated_rejections_are_counted_with_truncated_text(hub, box):
    rejections = hub.query("select count(*) from rejection")[0][0]
    for i in range(30):
        origin = f"box-{i:04d}" + "x" * 2000  # what an attacker writes at will
        assert post(hub, origin, b"y" * 2000, "z" * 2000).status_code == 401
        assert post(hub, box.node_id, b"y" * 2000, "z" * 2000).status_code == 401
    assert hub.query("select count(*) from rejection")[0][0] == rejections  # not one row per attempt
    counts = dict(((o, r), c) for o, r, c in hub.query("select origin, reason, count from refusal_count"))
    assert counts[("?", "unknown_box")] >= 30 and counts[(box.node_id, "bad_signature")] == 30
    longest = hub.query("select max(length(last_message)), max(length(origin)) from refusal_count")[0]
    assert longest[0] <= 200 and longest[1] <= 64


def gzip_bomb(megabytes):
    """A valid gzip stream of ``megabytes`` MB of spaces (about 1 KB per MB), made piece by piece."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk, parts = b" " * (1 << 20), [packer.compress(b'{"entries":[')]
    parts += [packer.compress(chunk) for _ in range(megabytes)]
    return b"".join(parts) + packer.flush()


PEAK = """
import resource, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync.keys import sign
from sync.protocol import BatchRejected, decode_batch
body = open(sys.argv[1], "rb").read()
key = Ed25519PrivateKey.generate()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    decode_batch(body, sign(key, body), key.public_key())
    outcome = "accepted"
except BatchRejected as exc:
    outcome = exc.reason
print(outcome, before // 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_of_decoding(path, code_root=ROOT):
    """(outcome, peak MB before, peak MB after) of decoding the signed body at ``path`` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True,
                         cwd=code_root,
                         env={**os.environ, "PYTHONPATH": str(code_root)}).stdout.split()
    return out[0], int(out[1]), int(out[2])


def test_gzip_bomb_is_refused_with_bounded_memory(hub, box, tmp_path):
    bomb = gzip_bomb(300)
    assert len(bomb) < 400_000
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb)
    outcome, before, after = peak_of_decoding(path)
    assert outcome == "too_large"
    assert after - before < MAX_RAW // (1 << 20) + 40, (before, after)  # not 300 MB and more
    # the hub, given the bomb signed by a registered box's key, refuses it and stays up
    response = post(hub, box.node_id, bomb, sign(box.key, bomb))
    assert response.status_code == 413 and response.json()["reason"] == "too_large"
    assert requests.get(hub.url + "/api/v1/health", timeout=10).ok
    assert json.loads(requests.get(hub.url + "/sync/v1/hub", timeout=10).text)["node"] == "hub"
