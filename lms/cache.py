"""A small shared cache of strings: Redis when ``REDIS_URL`` is set, so that every app server
behind the load balancer sees the same entries; otherwise a dictionary in this process (one
server, or a developer's machine).

The cache only ever saves work: if Redis cannot be reached, reads miss and writes are dropped,
and the page is computed as if nothing had been cached.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)
EXTENSION = "lms.cache"


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, seconds: int) -> None: ...
    def incr(self, key: str) -> int: ...


class MemoryCache:
    """Entries with an expiry time, in this process; the oldest go first beyond ``limit``.
    Counters (``incr``) are kept apart and never evicted, so a count never falls back."""

    def __init__(self, limit: int = 512) -> None:
        self.limit = limit
        self._entries: dict[str, tuple[float, str]] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._counters:
                return str(self._counters[key])
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.limit:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (time.monotonic() + seconds, value)

    def incr(self, key: str) -> int:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]


class RedisCache:
    def __init__(self, url: str, prefix: str = "lms:") -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
        )

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(self.prefix + key)
        except Exception:  # a cache that is down is a miss, never an error page
            log.warning("cache: Redis unreachable, reading %s missed", key, exc_info=True)
            return None
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str, seconds: int) -> None:
        try:
            self.client.set(self.prefix + key, value, ex=seconds)
        except Exception:
            log.warning("cache: Redis unreachable, %s not stored", key, exc_info=True)

    def incr(self, key: str) -> int:
        try:
            return int(self.client.incr(self.prefix + key))
        except Exception:
            log.warning("cache: Redis unreachable, %s not counted", key, exc_info=True)
            return 0


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    prefix = app.config.get("CACHE_PREFIX", "lms:")
    app.extensions[EXTENSION] = RedisCache(url, prefix) if url else MemoryCache()


def cache() -> Cache:
    return current_app.extensions[EXTENSION]
