"""Sliding-window counts in the database: what lockouts and lookup limits stand on."""
from office.limits import Hit, Window


def test_a_window_counts_refuses_and_forgets(db):
    window = Window("test", 3, 60)
    assert [window.hit("10.0.0.1", t) for t in (0, 10, 20)] == [0, 0, 0]
    assert window.hit("10.0.0.1", 30) == 30  # the first hit (at 0) leaves the window at 60
    assert window.hit("10.0.0.2", 30) == 0  # another client
    assert window.hit("10.0.0.1", 61) == 0
    window.record("10.0.0.3", 200)  # any hit prunes what every key of the bucket left behind
    assert Hit.select().where(Hit.bucket == "test", Hit.at <= 140).count() == 0
    window.clear("10.0.0.3")
    assert window.retry_after("10.0.0.3", 200) == 0


def test_keys_are_not_stored_in_clear(db):
    Window("test", 3, 60).record("0912345678", 0)
    assert "0912345678" not in Hit.get().key and len(Hit.get().key) == 64
