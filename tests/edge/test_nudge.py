"""The worker's nudge: asked by every ticket, sent at most once an interval, never lost."""
import time

from edge.nudge import Nudge


def test_the_asks_of_an_interval_share_one_nudge():
    """Under twenty kiosks the web sent the worker a nudge for every second ticket, each a write of
    the task store and a task for the worker, where one an interval does the same (issue 15)."""
    sent = []
    nudge = Nudge(lambda: sent.append(time.monotonic()), interval=0.02)
    asked = []
    for _ in range(100):  # a ticket a millisecond for about 0.1 s
        nudge.ask()
        asked.append(time.monotonic())
        time.sleep(0.001)
    assert nudge.wait_sent(10)
    assert sent[-1] >= asked[-1]  # the last ticket's nudge went after it
    assert len(sent) <= 2 + (asked[-1] - asked[0]) / 0.02, len(sent)
    assert all(b - a >= 0.019 for a, b in zip(sent, sent[1:]))


def test_a_failed_nudge_does_not_stop_the_next():
    calls = []

    def send():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("task store locked")

    nudge = Nudge(send, interval=0.001)
    nudge.ask()
    assert nudge.wait_sent(10)
    nudge.ask()
    assert nudge.wait_sent(10)
    assert len(calls) == 2
