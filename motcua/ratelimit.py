"""A per-client sliding-window limit, kept in memory per process and bounded in size."""
import threading
import time
from collections import OrderedDict, deque


class RateLimiter:
    def __init__(self, limit, window_s, max_clients=10_000, clock=time.monotonic):
        self.limit, self.window, self.max_clients, self.clock = limit, window_s, max_clients, clock
        self._hits = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client):
        """Count one request of ``client``; return 0 if allowed, else seconds until it would be."""
        now = self.clock()
        with self._lock:
            hits = self._hits.pop(client, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            self._hits[client] = hits  # most recent last
            while len(self._hits) > self.max_clients:
                self._hits.popitem(last=False)
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return 0
