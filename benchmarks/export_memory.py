"""Does memory stay flat while HR exports a million completion records?

Builds a database with enough people for N records (people x published modules), then
streams the CSV and XLSX exports through the Flask test client, reading the response chunk
by chunk as a server would, and reports the rows per second and how much the process's
resident memory grew while it did. Each export runs in a fresh process, so the peak it
reports is its own::

    python benchmarks/export_memory.py --rows 100000 --rows 1000000
    python benchmarks/export_memory.py --rows 100000 --database-url postgresql+psycopg://...

A PostgreSQL database given with --database-url is emptied and filled (all its tables are
dropped first): never point it at a database whose data matters. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "benchmark"  # noqa: S105  (a throwaway database)
ADMIN = "bench-admin@example.test"
PEOPLE_PER_TEAM = 25
TEAMS_PER_CENTRE = 8
CENTRES_PER_REGION = 12
BATCH = 20_000
URLS = {"csv": "/hr/exports/completions.csv", "xlsx": "/hr/exports/completions.xlsx"}


def app_for(database_url: str, **extra: Any):  # noqa: ANN201
    from lms import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "benchmark",
            "WTF_CSRF_ENABLED": False,
            "LMS_ENV": "development",
            **extra,
        }
    )


# --- Building the database ------------------------------------------------------------------


def build(database_url: str, rows: int) -> None:
    """People enough for ``rows`` records, with a realistic spread of progress."""
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from lms.content import get_course
    from lms.extensions import db
    from lms.models import (
        AttemptState,
        Centre,
        CourseModule,
        ModuleCompletion,
        ModuleStart,
        QuizAttempt,
        Region,
        Role,
        SectionRead,
        Team,
        User,
    )
    from lms.services.publishing import publish_course

    app = app_for(database_url)
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        db.create_all()
        course = get_course()
        publish_course(course)
        db.session.commit()
        modules = list(db.session.scalars(select(CourseModule).order_by(CourseModule.position)))
        people = math.ceil(rows / len(modules))
        teams = math.ceil(people / PEOPLE_PER_TEAM)
        centres = math.ceil(teams / TEAMS_PER_CENTRE)
        regions = math.ceil(centres / CENTRES_PER_REGION)
        now = datetime.now(UTC)

        def insert_all(model: Any, values: list[dict[str, Any]]) -> None:
            for start in range(0, len(values), BATCH):
                db.session.execute(insert(model), values[start : start + BATCH])

        insert_all(Region, [{"id": n + 1, "name": f"Region {n + 1}"} for n in range(regions)])
        insert_all(
            Centre,
            [{"id": n + 1, "region_id": n // CENTRES_PER_REGION + 1, "name": f"Centre {n + 1}"}
             for n in range(centres)],
        )  # fmt: skip
        insert_all(
            Team,
            [{"id": n + 1, "centre_id": n // TEAMS_PER_CENTRE + 1, "name": f"Team {n + 1}"}
             for n in range(teams)],
        )  # fmt: skip
        quick = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        admin = User(email=ADMIN, full_name="Benchmark admin", password_hash=quick, locale="en")
        admin.grant(Role.ADMIN)
        db.session.add(admin)
        db.session.flush()
        rng = random.Random(rows)  # noqa: S311  (made-up progress, the same every run)
        users, reads, attempts, completions = [], [], [], []
        for n in range(people):
            user_id = n + 2  # the admin is 1
            users.append({
                "id": user_id, "email": f"person{n}@example.test",
                "full_name": f"Сотрудник Фамилия-{n:07d}", "employee_number": f"E{n:07d}",
                "team_id": n // PEOPLE_PER_TEAM + 1, "active": True,
                "created_at": now, "password_hash": None,
            })  # fmt: skip
            done = rng.randint(0, len(modules))
            when = now - timedelta(days=rng.randint(30, 400))
            for position, module in enumerate(modules):
                if position > done:
                    break
                version = module.current_version_id
                when += timedelta(hours=rng.randint(1, 72))
                reads.append({"user_id": user_id, "module_id": module.id, "section_id": "s1",
                              "content_version_id": version, "read_at": when})  # fmt: skip
                if position == done:
                    break  # the module in progress: a section read, nothing more
                tries = rng.choice((1, 1, 1, 2))
                for number in range(1, tries + 1):
                    score = rng.randint(40, 79) if number < tries else rng.randint(80, 100)
                    attempts.append({
                        "user_id": user_id, "module_id": module.id,
                        "content_version_id": version, "number": number,
                        "state": AttemptState.SUBMITTED, "layout": [], "pass_mark": 80,
                        "answers": {}, "started_at": when, "submitted_at": when, "score": score,
                        "passed": score >= 80, "timed_out": False,
                    })  # fmt: skip
                completions.append({"user_id": user_id, "module_id": module.id,
                                    "content_version_id": version, "completed_at": when,
                                    "score": score, "attempts": tries})  # fmt: skip
        # What the database layer notes for each click (``module_starts``), in bulk here.
        starts: dict[tuple[int, int], tuple[datetime, datetime]] = {}
        for user_id, module_id, at in [
            *((r["user_id"], r["module_id"], r["read_at"]) for r in reads),
            *((a["user_id"], a["module_id"], a["started_at"]) for a in attempts),
        ]:
            first, last = starts.get((user_id, module_id), (at, at))
            starts[user_id, module_id] = (min(first, at), max(last, at))
        insert_all(User, users)
        insert_all(SectionRead, reads)
        insert_all(QuizAttempt, attempts)
        insert_all(
            ModuleStart,
            [{"user_id": u, "module_id": m, "started_at": f, "last_activity_at": la}
             for (u, m), (f, la) in starts.items()],
        )  # fmt: skip
        insert_all(ModuleCompletion, completions)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()
    seconds = time.perf_counter() - started
    print(
        f"built {people:,} people in {teams:,} teams ({people * len(modules):,} records; "
        f"{len(reads):,} sections read, {len(attempts):,} attempts, "
        f"{len(completions):,} completions) in {seconds:.0f} s",
        flush=True,
    )


# --- Measuring one export ---------------------------------------------------------------------


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler(threading.Thread):
    """Samples resident memory every few milliseconds while an export runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = resident_bytes()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, resident_bytes())


def measure(database_url: str, kind: str, trace: bool = False) -> dict[str, Any]:
    """Stream one export as a server would and measure it (in this process, on its own)."""
    import tracemalloc

    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import AuditEvent

    app = app_for(database_url)
    client = app.test_client()
    response = client.post("/login", data={"email": ADMIN, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in: {response.status_code}")

    def export(**params: Any) -> tuple[list[tuple[int, int]], float]:
        """(bytes sent so far, resident memory) after each chunk, and the seconds taken."""
        response = client.get(URLS[kind], query_string=params)
        if response.status_code != 200 or not response.is_streamed:
            raise SystemExit(f"the export did not stream: {response.status_code}")
        started, size, trail = time.perf_counter(), 0, []
        for chunk in response.response:  # chunk by chunk, as a WSGI server sends it
            size += len(chunk)
            trail.append((size, resident_bytes()))
        response.close()
        return trail, time.perf_counter() - started

    export(team="1")  # warm up: imports, templates, the first queries
    baseline_rss = resident_bytes()
    sampler = PeakSampler()
    sampler.start()
    if trace:
        tracemalloc.start()
    trail, seconds = export()
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
    sampler.done.set()
    sampler.join()
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        rows = event.details["rows"] if event is not None else 0
    size = trail[-1][0]

    def growth_at(share: float) -> int:
        """Resident memory once ``share`` of the file was sent, above the start."""
        return next(rss for sent, rss in trail if sent >= share * size) - baseline_rss

    return {
        "format": kind,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "baseline_rss": baseline_rss,
        "growth_10": growth_at(0.1),
        "growth_50": growth_at(0.5),
        "growth_end": trail[-1][1] - baseline_rss,
        "peak_growth": sampler.peak - baseline_rss,
        "python_peak": traced_peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="records (repeatable)")
    parser.add_argument("--format", choices=sorted(URLS), action="append")
    parser.add_argument("--database-url", help="PostgreSQL to use instead of a temporary SQLite")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python's heap (slower)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process's part
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure, args.tracemalloc)))
        return
    sizes = args.rows or [100_000, 1_000_000]
    kinds = args.format or ["csv", "xlsx"]
    mb = 1024 * 1024
    print(
        "Resident memory (RSS) of the exporting process: before the export, and how much more"
        " once 10 %, 50 % and all of the file was sent; the peak sampled every 10 ms."
    )
    print(f"{'format':6} {'rows':>10} {'MB out':>7} {'seconds':>7} {'rows/s':>7} "
          f"{'RSS before':>10} {'+10 %':>6} {'+50 %':>6} {'+end':>6} {'+peak':>6}"
          + (f" {'py heap':>8}" if args.tracemalloc else ""))  # fmt: skip
    for rows in sizes:
        directory = tempfile.mkdtemp(prefix="lms-bench-")
        url = args.database_url or f"sqlite:///{directory}/bench.sqlite3"
        try:
            build(url, rows)
            for kind in kinds:
                command = [sys.executable, __file__, "--measure", kind, "--database-url", url]
                if args.tracemalloc:
                    command.append("--tracemalloc")
                output = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
                result = json.loads(output.stdout.strip().splitlines()[-1])
                line = (
                    f"{kind:6} {result['rows']:>10,} {result['bytes'] / mb:>7.1f} "
                    f"{result['seconds']:>7.1f} {result['rows'] / result['seconds']:>7,.0f} "
                    f"{result['baseline_rss'] / mb:>8.1f}MB"
                )
                for key in ("growth_10", "growth_50", "growth_end", "peak_growth"):
                    line += f" {result[key] / mb:>4.1f}MB"
                if result["python_peak"] is not None:
                    line += f" {result['python_peak'] / mb:>6.1f}MB"
                print(line, flush=True)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
