"""A ticket's tracking code: eight symbols of the 32 readable aloud, from one read of the system's
randomness (``secrets.choice`` read it once a symbol: seven system calls a ticket more)."""
import collections
import secrets

from office import queue


def test_a_tracking_code_is_eight_readable_symbols_each_as_likely(monkeypatch):
    assert len(queue._CODE_ALPHABET) == 32 == len(set(queue._CODE_ALPHABET))  # five bits a symbol, no bias
    reads = []
    original = secrets.token_bytes
    monkeypatch.setattr(secrets, "token_bytes", lambda n: reads.append(n) or original(n))
    codes = [queue.new_tracking_code() for _ in range(4000)]
    assert reads == [8] * 4000
    assert all(len(code) == 8 and set(code) <= set(queue._CODE_ALPHABET) for code in codes)
    counts = collections.Counter("".join(codes))
    assert set(counts) == set(queue._CODE_ALPHABET)
    assert all(800 < n < 1200 for n in counts.values()), counts  # 1,000 each expected, ±6 standard deviations
    assert len(set(codes)) == len(codes)
