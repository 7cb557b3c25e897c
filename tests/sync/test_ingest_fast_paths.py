"""Issue 15: the hub's ingest takes shortcuts that must change nothing it decides or keeps.

- each entry's data and base are encoded once, for its hash and for the hub's log
  (``sync.merge.entry_texts``): the same hash as ``sync.capture.entry_hash``, the same text;
- the canonical encoder is built once (``sync.encoding.canonical_text``): the same bytes;
- a batch's text is screened with one pattern and one length test a value (``sync.text.may_hold``):
  the same verdict as ``row_problems``;
- and a real hub's log holds exactly the box's text of every entry, shared rows' bases included.
"""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from office.models import Place, Ticket
from sync.capture import entry_hash
from sync.encoding import _default, canonical, canonical_text
from sync.merge import entry_texts, verify_chain
from sync.models import ChangeEntry
from sync.text import column_limits, may_hold, row_problems

# every character a JSON string may carry, escapes and controls included (no lone surrogate:
# ``canonical`` cannot encode one, and neither path may)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "a\"b", "c\\d", "\x00", "\x1f\n\r\t\x08\x0c", "Đăng ký khai sinh", "\u2028\u2029", "😀", "\x7f"])
SCALARS = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)
ODD = st.sampled_from([True, 1.5, None, [1], {"a": 1}])  # a forged entry's fields of another type


@st.composite
def entries(draw):
    entry = {name: draw(TEXT | ODD) if draw(st.integers(0, 9)) == 0 else draw(TEXT)
             for name in ("origin", "table", "pk", "op", "scope", "prev")}
    for name in ("seq", "hlc"):
        entry[name] = draw(st.integers(0, 2**63) | ODD) if draw(st.integers(0, 9)) == 0 else draw(st.integers(0, 2**63))
    entry["data"] = draw(st.dictionaries(TEXT, VALUES, max_size=6) | VALUES)
    entry["base"] = draw(st.just({}) | st.dictionaries(TEXT, st.integers(0, 2**63), max_size=3) | VALUES)
    return entry


@settings(max_examples=400, deadline=None)
@given(entries())
def test_entry_texts_hash_as_capture_and_keep_the_same_text(entry):
    assert entry_texts(entry) == (entry_hash(entry), canonical(entry["data"]).decode(),
                                  canonical(entry["base"]).decode())


@settings(max_examples=400, deadline=None)
@given(VALUES | st.dictionaries(TEXT, VALUES))
def test_canonical_text_is_the_json_encoders_text(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)
    assert canonical_text(value) == expected


def test_verify_chain_still_refuses_a_changed_entry_and_keeps_the_texts_it_hashed():
    entries = []
    for seq in (1, 2):
        entry = {"origin": "box-a", "seq": seq, "hlc": 10 + seq, "table": "place", "pk": f"p{seq}", "op": "update",
                 "scope": "05518", "data": {"name": f"Chợ \"{seq}\"\n"}, "base": {"name": 3},
                 "prev": entries[-1]["hash"] if entries else ""}
        entries.append({**entry, "hash": entry_hash(entry)})
    verdict = verify_chain(entries, 0, "", lambda seq: None)
    assert verdict.reason is None and verdict.apply == entries
    assert verdict.texts == {e["seq"]: (canonical(e["data"]).decode(), '{"name":3}') for e in entries}
    tampered = {**entries[1], "data": {"name": "Chợ \"2\""}}
    assert verify_chain([entries[0], tampered], 0, "", lambda seq: None).reason == "bad_hash"
    assert verify_chain([{**entries[0], "seq": True}], 0, "", lambda seq: None).reason == "bad_hash"


LIMITED = sorted(column_limits(Ticket).items())  # limits of 3, 40, 255 and 100,000 characters


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([c for c, _ in LIMITED] + ["not_a_column"]),
                       st.none() | st.integers() | st.text(max_size=50) | st.sampled_from(
                           ["\ud800", "ok\udfff", "a\x00", "b\x0b", "\t\n\r", "x" * 256, "y" * 100_001, "abcd"])))
def test_may_hold_agrees_with_row_problems(values):
    assert may_hold(column_limits(Ticket), values) == (row_problems(Ticket, values) == [])


def test_the_hubs_log_keeps_the_boxs_text_of_every_entry(hub, make_box):
    box = make_box()
    with box:
        place = Place.create(commune=box.commune, name="Chợ \"Bến\" \\ mới", description="Sáng\nchiều\t😀")
        place.name, place.phone = "Chợ Bến", "0123"
        place.save()  # a shared row's update: a base of the stamps it saw
        sent = {seq: (data, base) for seq, data, base in ChangeEntry.select(
            ChangeEntry.seq, ChangeEntry.data, ChangeEntry.base).where(ChangeEntry.origin == box.node_id).tuples()}
    assert box.sync()["ok"]
    kept = {seq: (data, base) for seq, data, base in
            hub.query(f"SELECT seq, data, base FROM change_entry WHERE origin = '{box.node_id}'")}
    assert any(base for _, base in sent.values())
    assert kept == sent
