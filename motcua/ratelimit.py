"""Limits per client shared by every process of a box or hub: in the database
(``office.limits``), or in Redis when the hub has ``redis_url``.

The client is the address the request came from, or, behind ``trusted_proxies`` reverse
proxies, the ``X-Forwarded-For`` entry that many hops from the right (entries further left
are whatever the client wrote, never trusted).
"""
import hashlib
import logging
import math
import time

from flask import current_app, has_app_context, request

from office.limits import Window

log = logging.getLogger("motcua.ratelimit")


def _settings():
    if not has_app_context():
        return {}
    for name in ("box", "hub"):
        owner = current_app.extensions.get(name)
        if owner is not None:
            return owner.settings
    return {}


def forwarded_client(remote_addr, forwarded_for, trusted_proxies):
    """The client's address given the proxies' ``X-Forwarded-For`` values (a list of header values)."""
    if trusted_proxies <= 0:
        return remote_addr or "?"
    hops = [part.strip() for value in forwarded_for for part in value.split(",") if part.strip()]
    if len(hops) < trusted_proxies:
        return remote_addr or "?"  # fewer hops than configured: not through our proxies
    return hops[-trusted_proxies]


def client_address():
    """The address of the client of the current request."""
    trusted = int(_settings().get("trusted_proxies") or 0)
    return forwarded_client(request.remote_addr, request.headers.getlist("X-Forwarded-For"), trusted)


class RedisWindow:
    """The same sliding window as ``office.limits.Window``, as a sorted set per key in Redis."""

    def __init__(self, redis, bucket, limit, seconds):
        self.redis, self.bucket, self.limit, self.seconds = redis, bucket, limit, seconds

    def hit(self, key, now):
        name = f"motcua:limit:{self.bucket}:{hashlib.sha256(str(key).encode()).hexdigest()}"
        member = f"{now:.6f}:{time.perf_counter_ns()}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(name, "-inf", now - self.seconds)
        pipe.zadd(name, {member: now})
        pipe.zcard(name)
        pipe.expire(name, int(math.ceil(self.seconds)) + 1)
        count = pipe.execute()[2]
        if count <= self.limit:
            return 0
        self.redis.zrem(name, member)  # refused requests do not count
        oldest = self.redis.zrange(name, -self.limit, -self.limit, withscores=True)
        return max(math.ceil(oldest[0][1] + self.seconds - now), 1) if oldest else 1


def _redis():
    url = _settings().get("redis_url") or ""
    if not url:
        return None
    client = current_app.extensions.get("ratelimit_redis")
    if client is None:
        import redis

        client = current_app.extensions["ratelimit_redis"] = redis.Redis.from_url(url, socket_timeout=2)
    return client


class RateLimiter:
    """At most ``limit`` requests per client of ``bucket`` within ``window_s`` seconds, counted
    for every process at once."""

    def __init__(self, limit, window_s, bucket=None, clock=time.time):
        self.limit, self.window, self.clock = limit, window_s, clock
        self.bucket = bucket or f"limit-{limit}-per-{window_s}s"

    def hit(self, client):
        """Count one request of ``client``; return 0 if allowed, else seconds until it would be."""
        now = self.clock()
        redis = _redis() if has_app_context() else None
        if redis is not None:
            try:
                return RedisWindow(redis, self.bucket, self.limit, self.window).hit(client, now)
            except Exception as exc:  # Redis down: the database still counts
                log.warning("rate limit: Redis unavailable (%s), counting in the database", type(exc).__name__)
        return Window(self.bucket, self.limit, self.window).hit(client, now)
