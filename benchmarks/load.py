"""The load generator of ``run.py``: an HTTP client that keeps cookies, and a closed loop of
concurrent clients (processes, each with a few threads) that records response times.

Each client runs ``setup`` once (signing in, say) before the clock starts, then repeats
``step`` until the time is up or a shared budget of operations is spent. A step records what
it timed with ``record(label, milliseconds, ok, detail)``; the run returns, per label, the
times of the successful ones, the number of failures and the first few failure messages.
Python threads in one process share a core; processes let the clients use both, so that
the load generator is not the bottleneck of a two-core machine (it still takes its share of
the CPU, which the report says).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import multiprocessing
import os
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
KEPT_ERRORS = 5


class HttpError(Exception):
    """A page answered something else than expected."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path

    def describe(self, method: str, path: str) -> str:
        snippet = " ".join(self.text[:300].split())
        return f"{method} {path} answered {self.status}: {snippet}"


class Http:
    """One browser: a keep-alive connection (reopened when the server closes it) and cookies.

    Cookies are sent back whatever their ``Secure`` flag says: the benchmark talks plain HTTP
    to 127.0.0.1, where a production app marks its cookies ``Secure``.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None
        self.csrf: str | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(
        self,
        method: str,
        path: str,
        fields: Iterable[tuple[str, str]] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = urlencode(fields, doseq=True).encode() if fields is not None else None
        sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for retry in (True, False):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: nothing was processed.
                self.close()
                if reused and retry:
                    continue
                raise
            except Exception:
                self.close()
                raise
            if response.will_close:
                self.close()
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            if b'name="csrf_token"' in data:
                match = CSRF_PATTERN.search(reply.text)
                if match:
                    self.csrf = match.group(1)
            return reply
        raise AssertionError("unreachable")

    def stream(self, path: str, chunk: int = 1 << 16) -> tuple[int, int, bytes]:
        """GET ``path`` reading the body to its last byte: status, bytes read, its first bytes."""
        self.close()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Cookie": "; ".join(f"{n}={v}" for n, v in self.cookies.items())}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        size, head = 0, b""
        while True:
            data = response.read(chunk)
            if not data:
                break
            if len(head) < 4096:
                head += data[: 4096 - len(head)]
            size += len(data)
        connection.close()
        return response.status, size, head

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            gone = not value or "max-age=0" in attributes.lower().replace(" ", "")
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    # --- pages -------------------------------------------------------------------------------

    def get(self, path: str, expect: int = 200) -> Reply:
        reply = self.request("GET", path)
        if reply.status != expect:
            raise HttpError(reply.describe("GET", path))
        return reply

    def token(self, path: str = "/login") -> str:
        if self.csrf is None:
            self.request("GET", path)
        if self.csrf is None:
            raise HttpError(f"no CSRF token on {path}")
        return self.csrf

    def login(self, email: str, password: str) -> None:
        self.cookies.clear()
        self.csrf = None
        page = self.request("GET", "/login")
        match = CSRF_PATTERN.search(page.text)
        if page.status != 200 or not match:
            raise HttpError(page.describe("GET", "/login"))
        fields = {"email": email, "password": password, "csrf_token": match.group(1)}
        reply = self.request("POST", "/login", fields)
        if reply.status == 429:
            raise HttpError(
                f"signing in as {email}: 429, the login rate limit. The benchmark signs in "
                "hundreds of people from 127.0.0.1: raise the limit for its servers."
            )
        if reply.status != 302:
            raise HttpError(f"signing in as {email}: " + reply.describe("POST", "/login"))
        self.csrf = None  # the session was renewed: its token too


# --- Results ---------------------------------------------------------------------------------


@dataclass
class Series:
    """What was timed under one label."""

    times: list[float] = field(default_factory=list)  # milliseconds, successful ones
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    def add(self, other: Series) -> None:
        self.times.extend(other.times)
        self.errors += other.errors
        for message in other.messages:
            if len(self.messages) < KEPT_ERRORS and message not in self.messages:
                self.messages.append(message)

    @property
    def ok(self) -> int:
        return len(self.times)

    @property
    def requests(self) -> int:
        return self.ok + self.errors

    def percentile(self, share: float) -> float | None:
        """Nearest-rank percentile of the successful times."""
        if not self.times:
            return None
        ordered = sorted(self.times)
        rank = max(1, math.ceil(share / 100 * len(ordered)))
        return ordered[rank - 1]


@dataclass
class LoadResult:
    series: dict[str, Series]
    elapsed: float  # seconds from the first step to the end of the last one
    setup_errors: list[str]
    clients: int

    def rate(self, label: str) -> float:
        series = self.series.get(label)
        if series is None or self.elapsed <= 0:
            return 0.0
        return series.ok / self.elapsed


class Recorder:
    def __init__(self) -> None:
        self.series: dict[str, Series] = {}

    def __call__(self, label: str, milliseconds: float | None, ok: bool, detail: str = "") -> None:
        series = self.series.setdefault(label, Series())
        if ok and milliseconds is not None:
            series.times.append(milliseconds)
        else:
            series.errors += 1
            if detail and len(series.messages) < KEPT_ERRORS and detail not in series.messages:
                series.messages.append(detail)


Record = Callable[[str, float | None, bool, str], None]


class Budget:
    """A number of operations shared by every client of every process (``None``: no limit)."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.value = multiprocessing.Value("q", 0)

    def take(self) -> bool:
        if self.total is None:
            return True
        with self.value.get_lock():
            if self.value.value >= self.total:
                return False
            self.value.value += 1
            return True

    def give_back(self) -> None:
        if self.total is not None:
            with self.value.get_lock():
                self.value.value -= 1


class Scenario:
    """What a client does: ``setup`` before the clock starts, then ``step`` again and again.

    ``step`` returns False when this client has nothing more to do.
    """

    def setup(self, client: int) -> Any:
        return None

    def step(self, state: Any, record: Record, budget: Budget) -> bool:
        raise NotImplementedError


def run(
    scenario: Scenario,
    clients: int,
    duration: float | None,
    processes: int | None = None,
    budget: int | None = None,
    setup_timeout: float = 900.0,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> LoadResult:
    """``clients`` clients doing ``scenario`` for ``duration`` seconds (or until ``budget``
    operations are spent, whichever comes first)."""
    processes = max(1, min(clients, processes or min(clients, 2 * (os.cpu_count() or 1))))
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1, timeout=setup_timeout)
    shared = Budget(budget)
    results: multiprocessing.Queue[Any] = context.Queue()
    groups = [list(range(number, clients, processes)) for number in range(processes)]
    workers = [
        context.Process(
            target=_process, args=(scenario, group, duration, barrier, shared, results), daemon=True
        )
        for group in groups
        if group
    ]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    if on_start is not None:
        on_start()
    collected: list[Any] = []
    deadline = time.monotonic() + (duration or 0) + setup_timeout
    while len(collected) < len(workers):
        try:
            collected.append(results.get(timeout=5))
        except queue.Empty:
            if time.monotonic() > deadline or not any(w.is_alive() for w in workers):
                break
    if on_end is not None:
        on_end()
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
    series: dict[str, Series] = {}
    setup_errors: list[str] = []
    starts, ends = [], []
    for process_series, errors, first, last in collected:
        for label, found in process_series.items():
            series.setdefault(label, Series()).add(found)
        setup_errors.extend(errors)
        if first is not None:
            starts.append(first)
            ends.append(last)
    if len(collected) < len(workers):
        setup_errors.append(f"{len(workers) - len(collected)} load process(es) did not report")
    elapsed = (max(ends) - min(starts)) if starts else 0.0
    return LoadResult(series, elapsed, setup_errors, clients)


def _process(
    scenario: Scenario,
    group: list[int],
    duration: float | None,
    barrier: Any,
    budget: Budget,
    results: Any,
) -> None:
    lock = threading.Lock()
    recorders: list[Recorder] = []
    errors: list[str] = []
    spans: list[tuple[float, float]] = []

    def client(number: int) -> None:
        recorder = Recorder()
        state, failed = None, None
        try:
            state = scenario.setup(number)
        except Exception as error:  # noqa: BLE001  (reported, the run goes on)
            failed = f"client {number} setup: {type(error).__name__}: {error}"
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            failed = failed or f"client {number}: the start was abandoned"
        if failed:
            with lock:
                errors.append(failed)
            return
        started = time.monotonic()
        stop = started + duration if duration else math.inf
        while time.monotonic() < stop:
            try:
                if not scenario.step(state, recorder, budget):
                    break
            except Exception as error:  # noqa: BLE001
                recorder("step", None, False, f"{type(error).__name__}: {error}")
                time.sleep(0.05)
        ended = time.monotonic()
        with lock:
            recorders.append(recorder)
            spans.append((started, ended))

    threads = [threading.Thread(target=client, args=(number,)) for number in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged: dict[str, Series] = {}
    for recorder in recorders:
        for label, series in recorder.series.items():
            merged.setdefault(label, Series()).add(series)
    first = min((s for s, _ in spans), default=None)
    last = max((e for _, e in spans), default=None)
    results.put((merged, errors, first, last))


def timed(
    http: Http, method: str, path: str, fields: Any = None
) -> tuple[Reply | None, float, str]:
    """One request: the reply (None if it failed on the way), its time in ms, an error text."""
    started = time.perf_counter()
    try:
        reply = http.request(method, path, fields)
    except (OSError, http_client_errors()) as error:
        return None, (time.perf_counter() - started) * 1000, f"{type(error).__name__}: {error}"
    return reply, (time.perf_counter() - started) * 1000, ""


def http_client_errors() -> type[Exception]:
    return http.client.HTTPException


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- wrk --------------------------------------------------------------------------------------


class Summary(Series):
    """What wrk reports: counts and percentiles, not every time."""

    def __init__(self, ok: int, errors: int, percentiles: dict[float, float], messages: list[str]):
        super().__init__(errors=errors, messages=messages)
        self._ok, self.percentiles = ok, percentiles

    @property
    def ok(self) -> int:
        return self._ok

    def percentile(self, share: float) -> float | None:
        return self.percentiles.get(share)


WRK_SCRIPT = r"""
local paths = {%(paths)s}
local cookies = {%(cookies)s}
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("counter", #threads * 7919)
end
function init(args)
  bad = 0
  first = ""
end
function request()
  counter = counter + 1
  local headers = {}
  if #cookies > 0 then headers["Cookie"] = cookies[counter %% #cookies + 1] end
  return wrk.format("GET", paths[counter %% #paths + 1], headers)
end
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first == "" then first = status .. " " .. string.sub(body or "", 1, 300) end
  end
end
function done(summary, latency, requests)
  local bad_total, message = 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    if message == "" then message = thread:get("first") end
  end
  local e = summary.errors
  io.write(string.format("WRK-RESULT %%d %%d %%d %%d %%d %%d %%d %%d\n", summary.requests, bad_total,
    summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  io.write("WRK-FIRST " .. string.gsub(message, "%%s+", " ") .. "\n")
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    port: int,
    paths: list[str],
    cookies: list[str],
    clients: int,
    duration: float,
    workdir: str,
    timeout: float = 60.0,
) -> LoadResult:
    """``clients`` connections of wrk loading ``paths`` in turn, each request with the next of
    ``cookies`` (one per signed-in client)."""
    script = os.path.join(workdir, "wrk.lua")
    with open(script, "w") as handle:
        handle.write(
            WRK_SCRIPT
            % {
                "paths": ", ".join(json.dumps(path) for path in paths),
                "cookies": ", ".join(json.dumps(cookie) for cookie in cookies),
            }
        )
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{max(1, round(duration))}s",
        "--timeout", f"{round(timeout)}s", "-s", script, f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"^WRK-RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    requests, bad, micros, socket_errors, p50, p95, p99, _top = (int(v) for v in found[1].split())
    first = re.search(r"^WRK-FIRST ?(.*)$", done.stdout, re.MULTILINE)
    messages = [first[1][:300]] if first and first[1] else []
    if socket_errors:
        messages.append(f"{socket_errors} socket errors (connect, read, write or timeout)")
    errors = bad + socket_errors
    series = Summary(
        ok=max(0, requests - bad),
        errors=errors,
        percentiles={50: p50 / 1000, 95: p95 / 1000, 99: p99 / 1000} if requests else {},
        messages=messages,
    )
    return LoadResult({"page": series}, micros / 1e6, [], clients)
