"""The load benchmark: the app under gunicorn, beside a minimal Flask view, on one dataset.

Builds the federal demo organisation (or uses the database as it is with --skip-build), starts
the app and a baseline Flask app under the same gunicorn settings, drives them with
concurrent signed-in clients and prints one table of throughput and response times against
the targets::

    python benchmarks/run.py                                    # SQLite, 50,000 people
    python benchmarks/run.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    python benchmarks/run.py --skip-build --only module quiz --duration 5

The database given with --database-url is emptied first (every table dropped), and so is the
Redis database of --redis-url: never point them at data that matters. The load comes from
this machine too (processes with a few threads each; see load.py), so on a small machine
the figures are a floor, and the baseline pays the same price. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402
from load import Budget, Http, HttpError, Record, Scenario, timed  # noqa: E402

# --- The dataset's accounts (``lms demo --scale federal``), all with password ``demo`` --------

PASSWORD = "demo"  # noqa: S105  (the demo accounts' published password)
ADMIN = "admin@demo.local"
EMPLOYEE = "employee@demo.local"
HR_FALLBACK = "hr@demo.local"
MANAGER_FALLBACK = "manager@demo.local"
HR_LIKE = "fed.hr.%@demo.local"  # fed.hr.RR: HR of region RR, 01..85 (about people/85 people)
MANAGER_LIKE = "fed.manager.%@demo.local"  # fed.manager.RR: manager of a 50-person team in RR
LEARNER = "fed.learner.{:04d}@demo.local"  # people with no progress at all: quiz takers
LEARNER_LIKE = "fed.learner.%@demo.local"
LEARNERS = 2000
PERSON_LIKE = "fed.person.%@demo.local"  # everyone else, with a learning history
# What the import benchmark adds, and takes out again afterwards.
IMPORT_EMAIL = "import.{stamp}.{number:06d}@bench.test"
IMPORT_LIKE = "import.%@bench.test"
IMPORT_REGION = "Регион импорта {:02d}"
IMPORT_REGION_LIKE = "Регион импорта %"
ATTEMPTS_PER_QUIZ = 3

SECRET_KEY = "load-benchmark-secret-key-not-for-production"  # noqa: S105
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
CACHE_KEYS = "lms:*"  # the app's cache entries in Redis (lms/cache.py, CACHE_PREFIX)
XLSX_TARGET_ROWS = 100_000
CSV_TARGET_ROWS = 1_000_000
SCENARIOS = (
    "baseline",
    "module",
    "quiz",
    "team",
    "hr",
    "hr-all",
    "admin",
    "export-csv",
    "export-xlsx",
    "shared",
    "import",
)


# --- Results ---------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    requests: int | None = None
    errors: int | None = None
    rate: float | None = None  # requests per second
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def row_from(name: str, result: load.LoadResult, label: str, target: str = "") -> Row:
    series = result.series.get(label, load.Series())
    row = Row(
        scenario=name,
        requests=series.requests,
        errors=series.errors,
        rate=result.rate(label),
        p50=series.percentile(50),
        p95=series.percentile(95),
        p99=series.percentile(99),
        target=target,
    )
    problems = list(result.setup_errors)
    for other, found in result.series.items():
        problems.extend(f"[{other}] {message}" for message in found.messages)
    if problems:
        row.details["errors"] = problems[:10]
    row.details["clients"] = result.clients
    row.details["seconds"] = round(result.elapsed, 2)
    return row


# --- Processes: the servers, the CLI ----------------------------------------------------------

STARTED: list[subprocess.Popen[bytes]] = []


def stop_all() -> None:
    """Stop every server this run started (each in a process group of its own)."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is not None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


atexit.register(stop_all)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> list[int]:
        """The gunicorn workers' process ids (children of the master)."""
        found = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(pid) for pid in (task / "children").read_text().split()]
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.workers():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")


def start_server(
    name: str, spec: str, env: dict[str, str], args: argparse.Namespace, workdir: Path, chdir: Path
) -> Server:
    port = load.free_port()
    log = workdir / f"{name}.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--bind", f"127.0.0.1:{port}",
        "--timeout", str(args.timeout),
        "--chdir", str(chdir),
        spec,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    STARTED.append(process)
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            reply = Http(port, timeout=5).request("GET", "/healthz")
            if reply.status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise SystemExit(f"{name} server did not become ready on port {port}:\n{tail}")


def lms(env: dict[str, str], *arguments: str) -> tuple[float, str]:
    """Run ``lms ARGUMENTS``; its time in seconds and its output (stops the run if it fails)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "from lms.cli import main; main()", *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lms {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout + done.stderr


# --- The database -----------------------------------------------------------------------------


class Database:
    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.url = url
        self.engine = create_engine(url)

    @property
    def kind(self) -> str:
        return self.engine.dialect.name

    def scalar(self, sql: str, **params: Any) -> Any:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def empty(self) -> None:
        from sqlalchemy import text

        if self.kind == "sqlite":
            path = self.engine.url.database
            self.engine.dispose()
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()
            return
        with self.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        self.engine.dispose()

    def user_ids(self, like: str) -> list[int]:
        rows = self.rows("SELECT id FROM users WHERE email LIKE :like", like=like)
        return [row[0] for row in rows]

    def exists(self, email: str) -> bool:
        return bool(self.scalar("SELECT count(*) FROM users WHERE email = :e", e=email))

    def published_slugs(self) -> list[str]:
        rows = self.rows(
            "SELECT slug FROM course_modules WHERE current_version_id IS NOT NULL ORDER BY position"
        )
        return [row[0] for row in rows]

    def active_people_in_teams(self) -> int:
        return int(
            self.scalar("SELECT count(*) FROM users WHERE active AND team_id IS NOT NULL") or 0
        )


def build(db: Database, env: dict[str, str], people: int) -> dict[str, float]:
    """Empty the database and fill it: migrations, the course, the (federal) demo."""
    timings: dict[str, float] = {}
    db.empty()
    timings["db upgrade"], _ = lms(env, "db", "upgrade")
    timings["content publish"], _ = lms(env, "content", "publish")
    _, help_text = lms(env, "demo", "--help")
    if "--scale" in help_text:
        timings["demo --scale federal"], output = lms(
            env, "demo", "--scale", "federal", "--people", str(people)
        )
    else:
        print("  `lms demo --scale` is not there yet: the plain demo, with benchmark learners")
        timings["demo"], output = lms(env, "demo")
    print("  " + "\n  ".join(line for line in output.strip().splitlines()[-5:]))
    return timings


def ensure_learners(db: Database, env: dict[str, str], count: int) -> None:
    """Without the federal demo: create the quiz takers it would have (no team, no progress)."""
    if len(db.user_ids(LEARNER_LIKE)) >= count:
        return
    code = f"""
from lms import create_app
from lms.extensions import db
from lms.models import Role, User
from werkzeug.security import generate_password_hash
app = create_app()
with app.app_context():
    known = set(db.session.scalars(db.select(User.email)))
    hashed = generate_password_hash({PASSWORD!r})
    for number in range(1, {count} + 1):
        email = {LEARNER!r}.format(number)
        if email not in known:
            user = User(email=email, full_name=f"Learner {{number}}", password_hash=hashed)
            user.grant(Role.EMPLOYEE)
            db.session.add(user)
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)  # noqa: S603


# --- Redis ------------------------------------------------------------------------------------


def redis_command(url: str, *words: str) -> str | None:
    """Send one command (after SELECT of the URL's database); the first reply line, or None."""
    parts = urlsplit(url)
    number = (parts.path or "/0").lstrip("/") or "0"
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            for command in (("SELECT", number), words):
                s.sendall(
                    f"*{len(command)}\r\n".encode()
                    + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in command)
                )
                reply = s.recv(4096).decode(errors="replace").splitlines()[0]
            return reply
    except (OSError, IndexError):
        return None


# --- Scenarios --------------------------------------------------------------------------------


class Pages(Scenario):
    """Each client signs in as ``accounts[client]`` (or stays anonymous) and loads ``paths``
    in turn."""

    def __init__(self, port: int, accounts: list[str] | None, paths: list[str]) -> None:
        self.port, self.accounts, self.paths = port, accounts, paths

    def setup(self, client: int) -> Any:
        http = Http(self.port)
        if self.accounts:
            http.login(self.accounts[client % len(self.accounts)], PASSWORD)
        first = self.paths[client % len(self.paths)]
        http.get(first)  # it works, and warms up
        return {"http": http, "next": client}

    def step(self, state: Any, record: Record, budget: Budget) -> bool:
        path = self.paths[state["next"] % len(self.paths)]
        state["next"] += 1
        reply, ms, error = timed(state["http"], "GET", path)
        if reply is None:
            record("page", ms, False, error)
        elif reply.status != 200:
            record("page", ms, False, reply.describe("GET", path))
        else:
            record("page", ms, True, "")
        return True


ATTEMPT_PATH = re.compile(r"^/modules/([^/]+)/quiz/attempts/(\d+)$")
CHOICE = re.compile(r'<input type="(?:radio|checkbox)" name="([^"]+)" value="([^"]*)"')
SELECT = re.compile(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.DOTALL)
OPTION = re.compile(r'<option value="([^"]+)"')


def answers(html: str) -> dict[str, str]:
    """Something for every question: the first option of each."""
    chosen: dict[str, str] = {}
    for name, value in CHOICE.findall(html):
        chosen.setdefault(name, value)
    for name, options in SELECT.findall(html):
        first = OPTION.search(options)
        if first:
            chosen[name] = first.group(1)
    return chosen


class QuizSubmits(Scenario):
    """Learners with no progress take every quiz, each up to its attempts limit: start, open
    the attempt, answer, submit. What is measured is the submit (the POST that grades)."""

    def __init__(self, port: int, learners: list[str], slugs: list[str], clients: int) -> None:
        self.port, self.learners, self.slugs, self.clients = port, learners, slugs, clients
        self.prelogin = 0

    def setup(self, client: int) -> Any:
        mine = deque(self.learners[client :: self.clients])
        ready: deque[Http] = deque()
        for _ in range(min(self.prelogin, len(mine))):
            http = Http(self.port)
            http.login(mine.popleft(), PASSWORD)
            ready.append(http)
        return {"waiting": mine, "ready": ready, "http": None, "module": 0, "done": 0}

    def _next_learner(self, state: Any, record: Record) -> bool:
        state["module"], state["done"] = 0, 0
        if state["ready"]:
            state["http"] = state["ready"].popleft()
            return True
        if not state["waiting"]:
            state["http"] = None
            return False
        http = Http(self.port)
        started = time.perf_counter()
        try:
            http.login(state["waiting"].popleft(), PASSWORD)
        except (HttpError, OSError) as error:
            record("login", (time.perf_counter() - started) * 1000, False, str(error))
            state["http"] = None
            return True
        record("login", (time.perf_counter() - started) * 1000, True, "")
        state["http"] = http
        return True

    def step(self, state: Any, record: Record, budget: Budget) -> bool:
        while state["http"] is None or state["module"] >= len(self.slugs):
            if state["http"] is not None:
                state["http"].close()
            if not self._next_learner(state, record):
                return False
        http: Http = state["http"]
        slug = self.slugs[state["module"]]
        if not budget.take():
            return False
        start = f"/modules/{slug}/quiz/start"
        try:
            token = http.token("/modules")
        except (HttpError, OSError) as error:
            budget.give_back()
            record("quiz start", None, False, str(error))
            return True
        reply, ms, error = timed(http, "POST", start, {"csrf_token": token})
        attempt = ATTEMPT_PATH.match(reply.location) if reply is not None else None
        if reply is not None and reply.status == 302 and attempt is None:
            budget.give_back()  # the quiz is closed for this person (passed, or no attempts)
            record("quiz start", ms, True, "")
            state["module"] += 1
            state["done"] = 0
            return True
        if reply is None or attempt is None:
            budget.give_back()
            record("quiz start", ms, False, error or reply.describe("POST", start))
            return True
        record("quiz start", ms, True, "")
        path = reply.location
        reply, ms, error = timed(http, "GET", path)
        if reply is None or reply.status != 200:
            budget.give_back()
            record("quiz page", ms, False, error or reply.describe("GET", path))
            return True
        record("quiz page", ms, True, "")
        fields = {**answers(reply.text), "action": "submit", "csrf_token": http.token()}
        reply, ms, error = timed(http, "POST", path, fields)
        if reply is not None and reply.status == 302 and reply.location == path:
            record("quiz submit", ms, True, "")
        else:
            record("quiz submit", ms, False, error or reply.describe("POST", path))
        state["done"] += 1
        if state["done"] >= ATTEMPTS_PER_QUIZ:
            state["module"] += 1
            state["done"] = 0
        return True


class CpuMeter:
    """CPU seconds of a server's workers and of this process's finished children (the load
    generator) between ``start`` and ``stop``."""

    def __init__(self, server: Server | None) -> None:
        self.server = server
        self.wall = self.app = self.ours = 0.0

    @staticmethod
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self.wall = time.perf_counter()
        self.app = self.server.cpu_seconds() if self.server else 0.0
        self.ours = self.children()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self.wall
        self.app = (self.server.cpu_seconds() if self.server else 0.0) - self.app

    def figures(self) -> dict[str, float]:
        ours = self.children() - self.ours  # the load processes are reaped after ``stop``
        return {
            "app workers cpu s": round(self.app, 1),
            "load generator cpu s": round(ours, 1),
            "measured wall s": round(self.wall, 1),
        }


class RssSampler:
    """Samples the resident memory of a server's workers every ``every`` seconds."""

    def __init__(self, server: Server, every: float = 0.05) -> None:
        self.server, self.every = server, every
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.running = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss(pid: int) -> int | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def _sample(self) -> None:
        for pid in self.server.workers():
            value = self.rss(pid)
            if value is None:
                continue
            self.before.setdefault(pid, value)
            self.peak[pid] = max(self.peak.get(pid, 0), value)

    def _run(self) -> None:
        while self.running:
            self._sample()
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._sample()
        self.running = True
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self._sample()

    @property
    def growth(self) -> int:
        """The largest growth of one worker over its memory before the download."""
        return max((self.peak[pid] - self.before[pid] for pid in self.peak), default=0)


# --- The run ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="lms-bench-"))
        url = args.database_url or f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        self.db = Database(url)
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "LMS_ENV": "production",
            "PYTHONPATH": str(ROOT),
        }
        self.redis: str | None = None
        if args.redis_url != "none":
            if redis_command(args.redis_url, "PING") == "+PONG":
                self.redis = args.redis_url
                self.env["REDIS_URL"] = self.redis
            else:
                print(f"  Redis at {args.redis_url} does not answer: the app runs without it")
        for setting in args.server_env:
            name, _, value = setting.partition("=")
            self.env[name] = value
        self.rows: list[Row] = []
        self.info: dict[str, Any] = {}
        self.app: Server | None = None
        self.baseline_rate: float | None = None
        if args.loadgen == "auto":
            self.use_wrk = load.wrk_available()
        else:
            self.use_wrk = args.loadgen == "wrk"
            if self.use_wrk and not load.wrk_available():
                raise SystemExit(
                    "wrk is not installed (apt-get install wrk), or use --loadgen python"
                )

    @property
    def server(self) -> Server:
        if self.app is None:
            raise RuntimeError("the app server is not running")
        return self.app

    def wanted(self, name: str) -> bool:
        return not self.args.only or name in self.args.only

    # --- helpers

    def load(
        self, scenario: Scenario, clients: int | None = None, budget: int | None = None,
        duration: float | None = None, server: Server | None = None,
    ) -> tuple[load.LoadResult, dict[str, float]]:  # fmt: skip
        """Run ``scenario`` with the Python load generator; the result and the CPU seconds
        the app's workers and the load generator used while it was measured."""
        meter = CpuMeter(server or self.app)
        result = load.run(
            scenario,
            clients or self.args.clients,
            duration if duration is not None else self.args.duration,
            processes=self.args.load_processes,
            budget=budget,
            on_start=meter.start,
            on_end=meter.stop,
        )
        return result, meter.figures()

    def pages(
        self, port: int, accounts: list[str] | None, paths: list[str],
        clients: int | None = None, server: Server | None = None,
    ) -> tuple[load.LoadResult, dict[str, float]]:  # fmt: skip
        """GET ``paths`` in turn, each client signed in as one of ``accounts``: with wrk when
        it is there (it takes less of the CPU the servers need), else with Python clients."""
        clients = clients or self.args.clients
        if not self.use_wrk:
            scenario = Pages(port, accounts, paths)
            if self.args.warmup:  # every worker has served these pages before the clock starts
                self.load(scenario, clients=clients, server=server, duration=self.args.warmup)
            return self.load(scenario, clients=clients, server=server)
        sessions: dict[str, str] = {}
        cookies = []
        for number in range(clients):
            account = accounts[number % len(accounts)] if accounts else ""
            if account not in sessions:
                http = Http(port)
                if account:
                    http.login(account, PASSWORD)
                http.get(paths[number % len(paths)])  # it works, and warms up
                sessions[account] = "; ".join(f"{n}={v}" for n, v in http.cookies.items())
            if sessions[account]:
                cookies.append(sessions[account])
        if self.args.warmup:  # every worker has served these pages before the clock starts
            load.run_wrk(port, paths, cookies, clients, self.args.warmup, str(self.workdir))
        meter = CpuMeter(server or self.app)
        meter.start()
        result = load.run_wrk(
            port, paths, cookies, clients, self.args.duration, str(self.workdir), self.args.timeout
        )
        meter.stop()
        return result, meter.figures()

    def add(self, row: Row) -> None:
        self.rows.append(row)
        shown = f"{row.rate:.0f} req/s" if row.rate is not None else ""
        p95 = f"p95 {row.p95:.0f} ms" if row.p95 is not None else ""
        print(f"  {row.scenario}: {shown} {p95} {'; '.join(row.notes)}".rstrip())
        for message in row.details.get("errors", [])[:3]:
            print(f"    ! {message[:300]}")

    def accounts(self, like: str, fallback: str) -> list[str]:
        """One account per client, from those of the dataset (each region's, in turn)."""
        found = [row[0] for row in self.db.rows(
            "SELECT email FROM users WHERE email LIKE :like ORDER BY email", like=like
        )]  # fmt: skip
        return [
            (found or [fallback])[n % len(found or [fallback])] for n in range(self.args.clients)
        ]

    # --- scenarios

    def baseline(self, page_bytes: int) -> None:
        env = {**self.env, "BASELINE_BYTES": str(page_bytes)}
        server = start_server("baseline", "baseline_app:app", env, self.args, self.workdir, HERE)
        try:
            result, cpu = self.pages(server.port, None, ["/"], server=server)
        finally:
            stop_server(server)
        row = row_from("baseline: minimal Flask view", result, "page")
        row.notes.append(f"{page_bytes // 1024} KB page")
        row.details.update(cpu)
        self.baseline_rate = row.rate
        self.add(row)

    def module_page(self, slugs: list[str]) -> None:
        viewers = self.viewers()
        probe = Http(self.server.port)
        probe.login(viewers[0], PASSWORD)
        size = len(probe.get(f"/modules/{slugs[0]}").body)
        self.baseline(size)
        paths = [f"/modules/{slug}" for slug in slugs]
        result, cpu = self.pages(self.server.port, viewers, paths)
        row = row_from("module page GET /modules/<slug>", result, "page")
        row.details.update(cpu)
        share = (row.rate or 0) / self.baseline_rate if self.baseline_rate else None
        row.target = ">= 50% of baseline req/s; p95 < 30 ms"
        row.met = bool(
            share is not None and share >= 0.5 and _below(row.p95, 30) and not row.errors
        )
        if share is not None:
            row.notes.append(f"{share:.0%} of baseline")
            row.details["share of baseline"] = round(share, 3)
        self.add(row)

    def viewers(self) -> list[str]:
        """Who reads module pages: people of the federal organisation, spread over it, who
        have a learning history (the quiz takers have none); the demo employee without it."""
        found = [row[0] for row in self.db.rows(
            "SELECT email FROM users WHERE email LIKE :like ORDER BY id", like=PERSON_LIKE
        )]  # fmt: skip
        if not found:
            return [EMPLOYEE]
        step = max(1, len(found) // self.args.clients)
        return found[::step][: self.args.clients]

    def quiz(self, slugs: list[str]) -> None:
        learners = [row[0] for row in self.db.rows(
            "SELECT email FROM users WHERE email LIKE :like ORDER BY email", like=LEARNER_LIKE
        )]  # fmt: skip
        wanted = self.args.quiz_submits
        capacity = len(learners) * len(slugs) * ATTEMPTS_PER_QUIZ
        if capacity < wanted:
            print(f"  only {len(learners)} learners: at most {capacity} submits")
        ids = self.db.user_ids(LEARNER_LIKE)
        before = self.quiz_counts(ids)
        scenario = QuizSubmits(self.server.port, learners, slugs, self.args.clients)
        # Sign in (before the clock) about as many learners as the submits need.
        per_learner = len(slugs) * ATTEMPTS_PER_QUIZ
        scenario.prelogin = -(-min(wanted, capacity) // per_learner // self.args.clients) + 1
        result, cpu = self.load(scenario, budget=wanted, duration=self.args.quiz_time_limit)
        after = self.quiz_counts(ids)
        row = row_from("quiz submit POST (grading)", result, "quiz submit")
        row.details.update(cpu)
        seen = len(result.series.get("quiz submit", load.Series()).times)
        stored = after["submitted"] - before["submitted"]
        row.details.update(
            {
                "submits wanted": wanted,
                "submits answered 302": seen,
                "submitted attempts stored": stored,
                "duplicate (user, module, number)": after["duplicates"],
                "duplicate module completions": after["completion duplicates"],
                "left in progress": after["in progress"] - before["in progress"],
            }
        )
        for label in ("quiz start", "quiz page", "login"):
            series = result.series.get(label)
            if series is not None:
                row.details[f"{label} p95 ms"] = _round(series.percentile(95))
                row.details[f"{label} count"] = series.requests
        lost = seen - stored
        intact = (
            lost == 0
            and after["duplicates"] == 0
            and after["completion duplicates"] == 0
            and after["in progress"] == before["in progress"]
        )
        row.notes.append(
            f"{seen} submits, {stored} stored, lost {max(lost, 0)}, extra {max(-lost, 0)}, "
            f"duplicates {after['duplicates']}, left open {after['in progress'] - before['in progress']}"
        )
        row.target = f"p95 < 60 ms; none lost or duplicated of {wanted:,}"
        row.met = _below(row.p95, 60) and intact and seen == wanted and not row.errors
        self.add(row)

    def quiz_counts(self, ids: list[int]) -> dict[str, int]:
        if not ids:
            return {"submitted": 0, "in progress": 0, "duplicates": 0, "completion duplicates": 0}
        low, high = min(ids), max(ids)
        scope = "user_id BETWEEN :low AND :high AND user_id IN (SELECT id FROM users WHERE email LIKE :like)"
        params = {"low": low, "high": high, "like": LEARNER_LIKE}
        counts = {
            state: int(self.db.scalar(
                f"SELECT count(*) FROM quiz_attempts WHERE {scope} AND state = :state",  # noqa: S608
                state=state, **params,
            ) or 0)
            for state in ("submitted", "in_progress")
        }  # fmt: skip
        duplicates = self.db.scalar(
            "SELECT count(*) FROM (SELECT user_id FROM quiz_attempts WHERE "  # noqa: S608
            f"{scope} GROUP BY user_id, module_id, number HAVING count(*) > 1) AS d",
            **params,
        )
        completions = self.db.scalar(
            "SELECT count(*) FROM (SELECT user_id FROM module_completions WHERE "  # noqa: S608
            f"{scope} GROUP BY user_id, module_id HAVING count(*) > 1) AS d",
            **params,
        )
        return {
            "submitted": counts["submitted"],
            "in progress": counts["in_progress"],
            "duplicates": int(duplicates or 0),
            "completion duplicates": int(completions or 0),
        }

    def dashboard(
        self,
        name: str,
        accounts: list[str],
        path: str,
        target_ms: float | None,
        clients: int | None = None,
    ) -> None:
        """A page under load; ``target_ms`` None: measured, with no target to meet."""
        result, cpu = self.pages(self.server.port, accounts, [path], clients=clients)
        row = row_from(name, result, "page")
        row.details.update(cpu)
        if target_ms is not None:
            row.target = f"p95 < {target_ms:,.0f} ms"
            row.met = _below(row.p95, target_ms) and not row.errors and bool(row.requests)
        if clients:
            row.notes.append(f"{clients} client{'s' if clients > 1 else ''}")
        self.add(row)

    def export(self, name: str, path: str, target_s: float, memory_mb: float | None,
               target_rows: int, action: str) -> None:  # fmt: skip
        # Fresh workers, each warmed up with a few small pages: what the export itself takes
        # is not hidden in memory that earlier (bigger) pages left behind.
        stop_server(self.server)
        self.app = start_server("app", "wsgi:app", self.env, self.args, self.workdir, ROOT)
        http = Http(self.server.port, timeout=self.args.timeout + 60)
        http.login(ADMIN, PASSWORD)
        warm = [Http(self.server.port) for _ in range(4)]
        for other in warm:
            other.cookies = dict(http.cookies)
        threads = [
            threading.Thread(target=lambda h=other: [h.get("/me") for _ in range(10)])
            for other in warm
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with RssSampler(self.server) as memory:
            started = time.perf_counter()
            status, size, head = http.stream(path)
            elapsed = time.perf_counter() - started
        row = Row(scenario=name, requests=1, errors=0 if status == 200 else 1)
        if status != 200:
            row.details["errors"] = [f"GET {path} answered {status}: {head[:300]!r}"]
        rows = self.exported_rows(action)
        growth = memory.growth / 2**20
        row.details["peak worker RSS MB"] = round(max(memory.peak.values(), default=0) / 2**20, 1)
        row.p50 = row.p95 = row.p99 = elapsed * 1000
        per_second = rows / elapsed if rows and elapsed else 0
        row.details.update(
            {"rows": rows, "bytes": size, "seconds": round(elapsed, 2),
             "rows per second": round(per_second), "peak worker RSS growth MB": round(growth, 1)}
        )  # fmt: skip
        row.notes.append(
            f"{rows:,} rows in {elapsed:.1f} s ({per_second:,.0f} rows/s), RSS +{growth:.0f} MB"
        )
        memory_ok = memory_mb is None or growth < memory_mb
        row.target = f"< {target_s:g} s for {target_rows:,} rows" + (
            f", RSS growth < {memory_mb:g} MB" if memory_mb is not None else ", flat memory"
        )
        # The target is for ``target_rows``: another number of rows is judged at the same rate.
        projected = elapsed * target_rows / rows if rows else float("inf")
        if rows != target_rows:
            row.notes.append(f"at this rate {target_rows:,} rows take {projected:.1f} s")
            row.details["seconds scaled to target rows"] = round(projected, 1)
        time_ok = projected < target_s
        if memory_mb is None:  # "flat": well under what the rows themselves would take
            memory_ok = growth < 50
        row.met = status == 200 and time_ok and memory_ok
        self.add(row)

    def exported_rows(self, action: str) -> int:
        """The rows of the last export, as its audit entry records them."""
        found = self.db.rows(
            "SELECT details FROM audit_events WHERE action = :a ORDER BY id DESC LIMIT 1", a=action
        )
        if not found:
            return 0
        details = found[0][0]
        if isinstance(details, str):
            details = json.loads(details)
        return int((details or {}).get("rows") or 0)

    def xlsx_filter(self, slugs: list[str]) -> tuple[str, int]:
        """The filter whose export is nearest to 100,000 rows: one module, or everything."""
        people = self.db.active_people_in_teams()
        if self.args.xlsx_query is not None:
            return self.args.xlsx_query, 0
        options = [(urlencode({"module": slugs[0]}), people), ("", people * len(slugs))]
        return min(options, key=lambda option: abs(math.log(max(option[1], 1) / XLSX_TARGET_ROWS)))

    def shared(self) -> None:
        """Two app servers, one database and Redis: do sessions, rate limits and caches
        work across them?"""
        other = start_server("app-b", "wsgi:app", self.env, self.args, self.workdir, ROOT)
        try:
            results = {
                "sessions shared": check_sessions_shared(self.server.port, other.port),
                "rate limits shared": check_rate_limit_shared(self.server.port, other.port),
                "caches shared": check_cache_shared(self, self.server.port, other.port),
            }
        finally:
            stop_server(other)
        row = Row(scenario="two servers (A, B): shared state", target="all shared")
        row.notes.append(", ".join(f"{name}: {answer}" for name, answer in results.items()))
        row.details.update(results)
        row.met = all(answer.startswith("yes") for answer in results.values())
        self.add(row)

    def remove_imported(self) -> None:
        """Take the people of the import benchmark out again, so that the dataset stays the one
        it was built as (for a next run with --skip-build)."""
        from sqlalchemy import text

        # Every query is written here in full (the parameters are bound).
        people = "SELECT id FROM users WHERE email LIKE :like"
        regions = "SELECT id FROM regions WHERE name LIKE :region"
        centres = f"SELECT id FROM centres WHERE region_id IN ({regions})"  # noqa: S608
        teams = f"SELECT id FROM teams WHERE centre_id IN ({centres})"  # noqa: S608
        statements = [
            f"DELETE FROM team_managers WHERE user_id IN ({people}) OR team_id IN ({teams})",  # noqa: S608
            f"DELETE FROM role_assignments WHERE user_id IN ({people}) OR region_id IN ({regions})",  # noqa: S608
            f"DELETE FROM users WHERE id IN ({people})",  # noqa: S608
            f"DELETE FROM teams WHERE id IN ({teams})",  # noqa: S608
            f"DELETE FROM centres WHERE id IN ({centres})",  # noqa: S608
            f"DELETE FROM regions WHERE id IN ({regions})",  # noqa: S608
        ]
        with self.db.engine.begin() as connection:
            if self.db.kind == "postgresql":
                # Checking each deleted account against every foreign key to users takes
                # hours (some referencing columns have no index); these accounts are known
                # to be referenced only by the rows deleted here. Needs a superuser, else
                # the checks run.
                with contextlib.suppress(Exception), connection.begin_nested():
                    connection.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                connection.execute(
                    text(statement), {"like": IMPORT_LIKE, "region": IMPORT_REGION_LIKE}
                )

    def user_import(self) -> None:
        self.remove_imported()
        count = self.args.import_rows
        path = self.workdir / "people.csv"
        stamp = time.strftime("%H%M%S")
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "full_name", "employee_number", "region", "centre", "team", "roles"])  # fmt: skip
            for number in range(count):
                region = number % 20
                centre = number % 400
                writer.writerow(
                    [
                        IMPORT_EMAIL.format(stamp=stamp, number=number),
                        f"Сотрудник Импортов {number}",
                        f"IMP-{stamp}-{number:06d}",
                        IMPORT_REGION.format(region),
                        f"Центр занятости {centre:03d}",
                        f"Команда {number % 1000:03d}",
                        "manager,employee" if number % 50 == 0 else "employee",
                    ]
                )
        try:
            elapsed, output = lms(self.env, "users", "import", str(path))
        finally:
            self.remove_imported()
        row = Row(scenario=f"lms users import ({count:,} rows)", requests=1, errors=0)
        row.p50 = row.p95 = row.p99 = elapsed * 1000
        row.target = "< 60 s"
        row.met = elapsed < 60 and f"{count} created" in output
        row.notes.append(f"{elapsed:.1f} s: {output.strip().splitlines()[-1].strip()}")
        self.add(row)

    # --- the whole run

    def run(self) -> None:
        args = self.args
        self.info = {
            "database": self.db.kind,
            "workers": args.workers,
            "worker class": args.worker_class,
            "clients": args.clients,
            "cpus": os.cpu_count(),
            "load generator": (
                f"wrk ({min(args.clients, os.cpu_count() or 1)} threads) for pages, Python for quiz"
                if self.use_wrk
                else f"Python, {args.load_processes or min(args.clients, 2 * (os.cpu_count() or 1))} processes"
            ),
            "duration s": args.duration,
            "redis": self.redis or "none",
        }
        if self.redis:
            redis_command(self.redis, "FLUSHDB")
        if not args.skip_build:
            print(f"Building the dataset ({args.people:,} people) in {self.db.kind}…")
            started = time.perf_counter()
            steps = build(self.db, self.env, args.people)
            total = time.perf_counter() - started
            self.info["build s"] = {
                **{k: round(v, 1) for k, v in steps.items()},
                "total": round(total, 1),
            }
            print(
                f"  built in {total:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in steps.items())})"
            )
        else:  # the dataset as it is, at the code's schema
            lms(self.env, "db", "upgrade")
        if not self.db.user_ids(LEARNER_LIKE):
            ensure_learners(self.db, self.env, min(LEARNERS, 600))
        self.info["people"] = self.db.active_people_in_teams()
        slugs = self.db.published_slugs()
        if not slugs:
            raise SystemExit("no published module: build the dataset first (without --skip-build)")
        busy = cpu_busy()
        self.info["cpu busy before"] = round(busy, 2)
        if busy > 0.2:
            print(f"  warning: something else keeps the CPUs {busy:.0%} busy: the figures suffer")
        print(f"Starting gunicorn ({args.workers} {args.worker_class} workers)…")
        self.app = start_server("app", "wsgi:app", self.env, args, self.workdir, ROOT)
        hr = self.accounts(HR_LIKE, HR_FALLBACK)
        managers = self.accounts(MANAGER_LIKE, MANAGER_FALLBACK)
        if self.wanted("module") or self.wanted("baseline"):
            self.module_page(slugs)
        if self.wanted("quiz"):
            self.quiz(slugs)
        if self.wanted("team"):
            self.dashboard("manager /team (50-person team)", managers, "/team", 80)
        if self.wanted("hr"):
            self.dashboard("HR /hr (one region)", hr, "/hr", 300)
        if self.wanted("hr-all"):
            self.dashboard("admin /hr (everyone)", [ADMIN], "/hr", 2000)
            self.dashboard("admin /hr (everyone), alone", [ADMIN], "/hr", 2000, clients=1)
        if self.wanted("admin"):
            # The people list at /admin over all 50,000, as one admin uses it: the first page,
            # a search for part of a name ("ива", percent-encoded, 6,000 matches) and a page
            # deep in the list; then the first page under the full load, for its throughput.
            search = "/admin?q=%D0%B8%D0%B2%D0%B0"
            for label, path in (("page 1", "/admin"), ("search", search),
                                ("page 500", "/admin?page=500")):  # fmt: skip
                self.dashboard(f"admin /admin people, {label}", [ADMIN], path, 500, clients=1)
            self.dashboard("admin /admin people, page 1, under load", [ADMIN], "/admin", None)
        if self.wanted("export-csv"):
            self.export("CSV export, all (admin)", "/hr/exports/completions.csv", 15, 50,
                        CSV_TARGET_ROWS, "export.completions_csv")  # fmt: skip
        if self.wanted("export-xlsx"):
            query, _rows = self.xlsx_filter(slugs)
            path = "/hr/exports/completions.xlsx" + (f"?{query}" if query else "")
            self.export(f"XLSX export{' ' + query if query else ', all'}", path, 20, None,
                        XLSX_TARGET_ROWS, "export.completions_xlsx")  # fmt: skip
        if self.wanted("shared"):
            self.shared()
        if self.wanted("import"):
            self.user_import()


def cpu_busy(seconds: float = 2.0) -> float:
    """The share of the CPUs' time something was running during ``seconds`` (/proc/stat)."""

    def times() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # all, idle + iowait

    total, idle = times()
    time.sleep(seconds)
    total2, idle2 = times()
    return 1 - (idle2 - idle) / max(1, total2 - total)


def stop_server(server: Server) -> None:
    if server.process in STARTED:
        STARTED.remove(server.process)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)


# --- Checks across two servers ----------------------------------------------------------------


def check_sessions_shared(port_a: int, port_b: int) -> str:
    """Sign in on A, then open /me on B with the same cookie."""
    http = Http(port_a)
    http.login(EMPLOYEE, PASSWORD)
    http.get("/me")
    other = Http(port_b)
    other.cookies = dict(http.cookies)
    reply = other.request("GET", "/me")
    if reply.status == 200:
        return "yes (signed in on A, /me on B answered 200)"
    return f"no (/me on B answered {reply.status} {reply.location})"


def check_rate_limit_shared(port_a: int, port_b: int, tries: int = 40) -> str:
    """Fail to sign in on A until A answers 429, then try once on B: a shared limit answers
    429 there too. (Run late: a limit per address also holds back this machine's logins.)"""
    email = "rate.limit.probe@bench.test"
    for attempt in range(1, tries + 1):
        http = Http(port_a)
        token = http.token("/login")
        reply = http.request(
            "POST", "/login", {"email": email, "password": "wrong", "csrf_token": token}
        )
        if reply.status == 429:
            other = Http(port_b)
            token = other.token("/login")
            fields = {"email": email, "password": "wrong", "csrf_token": token}
            answer = other.request("POST", "/login", fields).status
            if answer == 429:
                return f"yes (429 on A after {attempt - 1} failures, then 429 on B)"
            return f"no (429 on A after {attempt - 1} failures, B answered {answer})"
    return f"no (no 429 on A after {tries} failed logins: no login rate limit?)"


def check_cache_shared(bench: Bench, port_a: int, port_b: int) -> str:
    """Admin opens a dashboard on A (a fresh address, so nothing is cached for it yet): A
    computes it and stores it in Redis. The same page on B must come from that entry: B adds
    no entry, answers with the same page, and sooner than A took to compute it."""
    if not bench.redis:
        return "no (no Redis)"

    def entries() -> int:
        reply = redis_command(
            bench.redis, "EVAL", "return #redis.call('keys', ARGV[1])", "0", CACHE_KEYS
        )
        return int(reply[1:]) if reply and reply.startswith(":") else -1

    def page(http: Http) -> tuple[str, float]:
        started = time.perf_counter()
        html = http.get(path).text
        return load.CSRF_PATTERN.sub("", html), (time.perf_counter() - started) * 1000

    path = f"/hr?bench={time.time_ns()}"  # any argument is part of the cache key
    http = Http(port_a)
    http.login(ADMIN, PASSWORD)
    before = entries()
    on_a, a_ms = page(http)
    after_a = entries()
    other = Http(port_b)
    other.cookies = dict(http.cookies)
    on_b, b_ms = page(other)
    after_b = entries()
    if after_a > before and after_b == after_a and on_a == on_b:
        return (
            f"yes (admin /hr computed on A in {a_ms:.0f} ms and stored in Redis; "
            f"B served the same page from it in {b_ms:.0f} ms)"
        )
    return (
        f"no (cache entries {before} -> {after_a} after A -> {after_b} after B; "
        f"same page: {on_a == on_b}; A {a_ms:.0f} ms, B {b_ms:.0f} ms)"
    )


# --- Output -----------------------------------------------------------------------------------


def _below(value: float | None, limit: float) -> bool:
    return value is not None and value < limit


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def table(rows: list[Row]) -> str:
    header = ["scenario", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "target", "met?", "notes"]  # fmt: skip

    def number(value: float | None, digits: int = 0) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [
        [
            row.scenario,
            number(row.requests),
            number(row.errors),
            number(row.rate, 1) if row.rate is not None else "-",
            number(row.p50, 1),
            number(row.p95, 1),
            number(row.p99, 1),
            row.target,
            {True: "yes", False: "NO", None: "-"}[row.met],
            "; ".join(row.notes),
        ]
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header) - 1)]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(
            [*(cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])), cells[-1]]
        ) + " |"  # fmt: skip

    separator = "|" + "|".join("-" * (w + 2) for w in [*widths, 5]) + "|"
    return "\n".join([render(header), separator, *(render(line) for line in lines)])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL or SQLite URL (emptied!); default: a temporary SQLite file",
    )
    parser.add_argument("--people", type=int, default=50_000, help="people in the federal demo")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (the same for the baseline)"
    )
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--timeout", type=int, default=120, help="gunicorn worker timeout, s")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario")
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of load before each measure"
    )
    parser.add_argument(
        "--load-processes", type=int, default=None, help="processes of the load generator"
    )
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="page loads with wrk (auto: when installed) or Python clients")  # fmt: skip
    parser.add_argument("--skip-build", action="store_true", help="use the database as it is")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=None, metavar="NAME",
                        help="run only these: " + ", ".join(SCENARIOS))  # fmt: skip
    parser.add_argument("--quiz-submits", type=int, default=10_000)
    parser.add_argument(
        "--quiz-time-limit", type=float, default=900, help="stop the quiz run after, s"
    )
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument(
        "--xlsx-query", default=None, help="filters of the XLSX export, e.g. module=myths"
    )
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS, help="emptied first; 'none' for no Redis"
    )
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the app servers")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    for number in (signal.SIGTERM, signal.SIGHUP):  # stopped from outside: servers go too
        signal.signal(number, lambda signum, _frame: sys.exit(128 + signum))
    bench = Bench(args)
    try:
        bench.run()
    finally:
        stop_all()
        if bench.app is not None:
            log = bench.app.log.read_text(errors="replace")
            errors = [line for line in log.splitlines() if "Traceback" in line or "[ERROR]" in line]
            if errors:
                print(f"\nThe app server logged {len(errors)} error line(s); see {bench.app.log}")
    print()
    info = bench.info
    print(
        f"Database: {info.get('database')}, {info.get('people', 0):,} active people in teams; "
        f"gunicorn {info.get('workers')} {info.get('worker class')} workers; "
        f"{info.get('clients')} clients; load generator on the same machine: "
        f"{info.get('load generator')}; {info.get('cpus')} CPUs; Redis: {info.get('redis')}"
    )
    if "build s" in info:
        print(f"Dataset built in {info['build s']['total']:.0f} s")
    if bench.baseline_rate:
        print(f"Baseline: {bench.baseline_rate:,.0f} req/s")
    print()
    print(table(bench.rows))
    if args.json:
        payload = {"info": info, "rows": [asdict(row) for row in bench.rows]}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        print(f"\nwritten to {args.json}")
    if any(row.errors for row in bench.rows):
        print(f"Server logs kept in {bench.workdir}")
    else:
        shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
