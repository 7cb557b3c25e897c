"""The merge is a pure function: same result for any arrival order and any duplicates."""
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.capture import entry_hash
from sync.hlc import HLC, pack, unpack
from sync.merge import Write, field_outcome, verify_chain

NODES = ("box-a", "box-b", "hub")


@st.composite
def histories(draw):
    """Writes to one field by several nodes, each having seen some earlier write (its base)."""
    writes, stamps = [], set()
    for _ in range(draw(st.integers(1, 8))):
        hlc, node = draw(st.integers(1, 40)), draw(st.sampled_from(NODES))
        if (hlc, node) in stamps:  # a node never issues the same stamp twice
            continue
        stamps.add((hlc, node))
        seen = [w.hlc for w in writes if w.hlc < hlc]
        base = draw(st.sampled_from([0] + seen))
        writes.append(Write(hlc, node, base, draw(st.text(max_size=3))))
    return writes


def fold(arrivals):
    """What a node ends up with when writes arrive one by one: the state only grows."""
    seen, losers, winner = set(), set(), None
    for write in arrivals:
        if write in seen:
            continue
        seen.add(write)
        winner, new_losers = field_outcome(seen)
        losers |= new_losers
    return winner, losers


@settings(max_examples=300, deadline=None)
@given(histories(), st.data())
def test_field_merge_ignores_order_and_duplicates(writes, data):
    expected = field_outcome(writes)
    arrivals = data.draw(st.permutations(writes + data.draw(st.lists(st.sampled_from(writes), max_size=4))))
    assert fold(arrivals) == expected


@settings(max_examples=200, deadline=None)
@given(histories())
def test_winner_is_the_highest_stamp_and_node_breaks_ties(writes):
    winner, losers = field_outcome(writes)
    assert winner.order == max(w.order for w in writes)
    assert winner not in losers


def test_a_value_built_upon_is_not_a_conflict():
    a = Write(10, "box-a", 0, "cũ")
    b = Write(20, "hub", 10, "mới")  # the hub saw a
    assert field_outcome([a, b]) == (b, set())


def test_concurrent_values_are_conflicts():
    a = Write(10, "box-a", 0, "A")
    b = Write(11, "box-b", 0, "B")  # did not see a
    c = Write(30, "hub", 10, "C")  # saw a, not b
    winner, losers = field_outcome([a, b, c])
    assert winner == c and losers == {a, b}  # a lost to b concurrently, b lost to c


def test_equal_stamps_tie_break_on_node_id():
    a, b = Write(5, "box-a", 0, "A"), Write(5, "box-b", 0, "B")
    assert field_outcome([b, a])[0] == b


def chain(n, origin="box-a"):
    entries, prev = [], ""
    for seq in range(1, n + 1):
        e = {"origin": origin, "seq": seq, "hlc": pack(1000 + seq, 0), "table": "ticket", "pk": f"t{seq}",
             "op": "insert", "scope": "05518", "data": {"n": seq}, "base": {}, "prev": prev}
        e["hash"] = entry_hash(e)
        prev = e["hash"]
        entries.append(e)
    return entries


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12), st.data())
def test_chain_applies_each_entry_once_whatever_the_delivery(n, data):
    """Batches delivered shuffled, duplicated, overlapping: applied = 1..n exactly once, in order."""
    entries = chain(n)
    applied, acked, last = [], 0, ""
    deliveries = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, n)), min_size=1, max_size=12))
    deliveries.append((0, n))  # the box eventually resends from its last confirmed seq
    for start, length in deliveries:
        batch = entries[start:start + length]
        verdict = verify_chain(batch, acked, last, lambda seq: entries[seq - 1]["hash"])
        if verdict.reason:
            assert verdict.reason == "gap" and not verdict.apply
            continue
        applied += verdict.apply
        if verdict.apply:
            acked, last = verdict.apply[-1]["seq"], verdict.apply[-1]["hash"]
    assert [e["seq"] for e in applied] == list(range(1, n + 1))


def test_chain_detects_fork_and_tampering():
    entries = chain(3)
    forged = dict(entries[0], data={"n": 99})
    forged["hash"] = entry_hash(forged)
    verdict = verify_chain([forged], 3, entries[2]["hash"], lambda seq: entries[seq - 1]["hash"])
    assert verdict.fork is forged and verdict.reason == "fork"
    tampered = dict(entries[0], data={"n": 7})  # hash not recomputed
    assert verify_chain([tampered], 0, "", lambda s: None).reason == "bad_hash"
    assert verify_chain([entries[0], entries[2]], 0, "", lambda s: None).reason == "gap"
    relinked = dict(entries[1], prev="0" * 64)
    relinked["hash"] = entry_hash(relinked)
    assert verify_chain([entries[0], relinked], 0, "", lambda s: None).reason == "bad_chain"


def test_hlc_is_monotonic_when_the_wall_clock_goes_back():
    clock = HLC()
    t2026 = 1_795_000_000_000
    stamps = [clock.tick(t2026), clock.tick(t2026), clock.tick(0), clock.tick(t2026 - 14 * 86_400_000)]
    assert stamps == sorted(set(stamps))
    assert unpack(stamps[-1]) == (t2026, 3)
    assert clock.observe(pack(t2026 + 5000, 7), t2026) > pack(t2026 + 5000, 7)


def test_hlc_counter_overflow_borrows_the_next_millisecond():
    clock = HLC(pack(100, 65535))
    assert unpack(clock.tick(50)) == (101, 0)
