"""Hybrid logical clock: physical milliseconds plus a counter, packed in one integer.

A stamp is ``wall_ms << 16 | counter``: it sorts like time, stays strictly increasing on a
node even when the wall clock jumps back (a Raspberry Pi without RTC boots in 1970), and
moves forward past every stamp the node has seen from others.
"""
from dataclasses import dataclass

COUNTER_BITS = 16
COUNTER_MAX = (1 << COUNTER_BITS) - 1


def pack(wall_ms, counter):
    return (wall_ms << COUNTER_BITS) | counter


def unpack(stamp):
    return stamp >> COUNTER_BITS, stamp & COUNTER_MAX


def wall_ms(stamp):
    return stamp >> COUNTER_BITS


@dataclass
class HLC:
    """The clock state of one node; persist ``last`` after every tick (see sync.capture)."""

    last: int = 0

    def tick(self, now_ms):
        """A stamp for a local event, greater than every stamp issued or observed before."""
        last_wall, counter = unpack(self.last)
        if now_ms > last_wall:
            self.last = pack(now_ms, 0)
        elif counter < COUNTER_MAX:
            self.last = pack(last_wall, counter + 1)
        else:  # 65,536 events in one millisecond: borrow the next millisecond
            self.last = pack(last_wall + 1, 0)
        return self.last

    def observe(self, remote, now_ms):
        """Take in a stamp seen from another node (or the hub's time) so later ticks exceed it."""
        self.last = max(self.last, remote)
        return self.tick(now_ms)
