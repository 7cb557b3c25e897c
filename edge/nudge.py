"""A "look now" for the worker, sent from a thread of its own so that no request waits for it.

A ticket's print job is in ``edge.db`` once the ticket is committed; the nudge only tells the
worker to print now rather than at its next sweep. Sending it means a write to the task store
(huey's SQLite file), which the worker reads and writes all the time: a request that sent it
itself waited behind huey's lock and SQLite's busy naps (under twenty kiosks, about one web
thread of eight was always there, and the web issued tickets 20 % of the time less; issue 15).

Here a request only marks the nudge as asked for. The sender thread clears the mark, then sends:
a ticket committed before the mark was cleared is read by the worker after that send, and one
committed later marks it again. Asks that come while a send is on its way share the next one, and
the next one waits until ``interval`` has passed since the last: the worker prints every job due
when it runs a nudge, so one per interval does what one per ticket did. Under twenty kiosks the
web sent a nudge for every second ticket, each an insert and a commit of the task store (about
0.15 M instructions: 3 % of what a ticket cost, at one for every second ticket) and a task the
worker took off its queue: 20 ms between them delays a ticket's printing by as much at most,
against the second or so the printer takes.
"""
import logging
import threading
import time

log = logging.getLogger("motcua.edge")


class Nudge:
    def __init__(self, send, name="motcua-nudge", interval=0.02):
        self._send, self._name, self._interval = send, name, interval
        self._changed = threading.Condition()
        self._asked = self._sending = False
        self._thread = None

    def ask(self):
        """Have ``send`` called soon, after this moment; returns at once."""
        with self._changed:
            self._asked = True
            if self._thread is None or not self._thread.is_alive():  # the first ask, or a forked web worker
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def wait_sent(self, timeout):
        """Wait until everything asked so far has been sent; False when ``timeout`` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._asked and not self._sending, timeout)

    def _run(self):
        sent_at = None
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._asked)
            if sent_at is not None:  # the asks of the interval's rest share the next send
                time.sleep(max(sent_at + self._interval - time.monotonic(), 0))
            with self._changed:
                self._asked, self._sending = False, True
            sent_at = time.monotonic()
            try:
                self._send()
            except Exception:  # noqa: BLE001 (the sweep prints what a lost nudge would have)
                log.exception("nudge %s not sent", self._name)
            finally:
                with self._changed:
                    self._sending = False
                    self._changed.notify_all()
