"""Issue 15: the box sends its log's stored text as it is, and keeps a batch in flight while it
builds the next one.

- a batch put together from the stored canonical texts (``sync.protocol.batch_json``) is
  byte-identical to what the encoder makes of the decoded entries;
- a failure of a later batch loses nothing: the box confirms only what the hub answered, in
  order, and the next push starts again from the first batch not confirmed.
"""
import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import box as sync_box
from sync import protocol
from sync.box import _unsent, _unsent_texts
from sync.capture import this_node
from sync.client import HubClient, HubUnreachable
from sync.encoding import canonical
from sync.protocol import batch_json, encode_batch, encode_batch_texts, entry_text, parse_batch
from tests.sync.conftest import Box

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "a\"b", "c\\d", "\x00", "\x1f\n\r\t\x08\x0c", "Đăng ký khai sinh", "\u2028\u2029", "😀", "\x7f"])
SCALARS = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)


@st.composite
def stored_entries(draw):
    """(decoded array, stored columns) of one log entry, the way ``sync.capture`` stores it."""
    seq, hlc = draw(st.integers(1, 2**31)), draw(st.integers(0, 2**63))
    table, pk, op, scope, prev, hash_ = (draw(TEXT) for _ in range(6))
    data = draw(st.dictionaries(TEXT, VALUES, max_size=6))
    base = draw(st.just({}) | st.dictionaries(TEXT, st.integers(0, 2**63), max_size=3))
    stored = (seq, hlc, table, pk, op, scope, canonical(data).decode(), canonical(base).decode() if base else "",
              prev, hash_)
    return [seq, hlc, table, pk, op, scope, data, base, prev, hash_], stored


@settings(max_examples=300, deadline=None)
@given(st.lists(stored_entries(), max_size=5), TEXT, st.integers(0, 2**63),
       st.dictionaries(TEXT, VALUES, max_size=3))
def test_batch_from_stored_texts_is_the_encoders_text(pairs, origin, sent_hlc, extra):
    rows = [row for row, _ in pairs]
    doc = {"protocol": protocol.PROTOCOL, "schema": protocol.SCHEMA, "origin": origin, "sent_hlc": sent_hlc,
           "entries": rows, "extra": extra}
    texts = [entry_text(*stored) for _, stored in pairs]
    assert batch_json(origin, texts, sent_hlc, extra) == canonical(doc).decode()


def test_encoded_batches_inflate_to_the_same_bytes(monkeypatch, tmp_path):
    monkeypatch.setattr(protocol, "new_nonce", lambda: "0123456789abcdef0123456789abcdef")
    box = Box(tmp_path / "box", "05518", None)
    with box:
        node = this_node()
        rows = _unsent(node, 10_000)
        texts, last_seq = _unsent_texts(node.node_id, node.acked_seq, 10_000)
    assert rows and len(texts) == len(rows) and last_seq == rows[-1][0]
    old, _ = encode_batch(node.node_id, rows, box.key, 7, extra={"pending": 1}, at_ms=5)
    new, signature = encode_batch_texts(node.node_id, texts, box.key, 7, extra={"pending": 1}, at_ms=5)
    assert gzip.decompress(new) == gzip.decompress(old)
    assert parse_batch(new).entries[0]["data"] == json.loads(texts[0])[6]
    assert signature
    box.db.close()


class FlakyHub(HubClient):
    """Takes in batches as a hub does (acknowledges their last seq) and fails the ``fail_at``-th push."""

    def __init__(self, box, fail_at=None, acked_short=None):
        super().__init__("http://127.0.0.1:9", box.key, box.node_id)
        self.fail_at, self.acked_short, self.sent = fail_at, acked_short, []

    def push(self, body, signature):
        seqs = [e["seq"] for e in parse_batch(body).entries]
        self.sent.append(seqs)
        if len(self.sent) == self.fail_at:
            raise HubUnreachable("cut")
        acked = seqs[-1]
        if len(self.sent) == self.acked_short:  # the hub kept fewer (it stands elsewhere)
            acked = seqs[len(seqs) // 2]
        self.hub_time_ms = None
        return 200, {"ok": True, "acked_seq": acked}


@pytest.fixture
def backlog_box(tmp_path):
    box = Box(tmp_path / "box", "05518", None)
    with box:
        assert this_node().last_seq > 12  # the seeded office: more than three batches of 4
    yield box
    box.db.close()


def test_failed_later_batch_resends_from_the_first_unconfirmed(backlog_box):
    with backlog_box:
        last = this_node().last_seq
        flaky = FlakyHub(backlog_box, fail_at=3)
        with pytest.raises(HubUnreachable):
            sync_box.push(flaky, backlog_box.key, batch_size=4)
        assert flaky.sent == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
        assert this_node().acked_seq == 8  # the two batches answered, not the third nor the one built ahead
        again = FlakyHub(backlog_box)
        assert sync_box.push(again, backlog_box.key, batch_size=4) == last - 8
        assert [s for seqs in again.sent for s in seqs] == list(range(9, last + 1))
        assert this_node().acked_seq == last


def test_push_goes_on_from_where_the_hub_stands(backlog_box):
    with backlog_box:
        last = this_node().last_seq
        hub = FlakyHub(backlog_box, acked_short=2)
        assert sync_box.push(hub, backlog_box.key, batch_size=4) == last
        assert hub.sent[1] == [5, 6, 7, 8] and hub.sent[2] == [8, 9, 10, 11]  # the batch built ahead is dropped
        assert this_node().acked_seq == last
