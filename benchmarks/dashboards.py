"""How long do the team and HR dashboards take as the organisation grows?

Builds the same made-up organisation as ``export_memory.py`` (people in teams of 25, with a
spread of progress), adds a manager of one team and an HR person of one region, signs each
in through the test client and times their dashboards, counted afresh and from the cache::

    python benchmarks/dashboards.py --people 2000 --people 20000
    python benchmarks/dashboards.py --people 20000 --database-url postgresql+psycopg://...

A PostgreSQL database given with --database-url is emptied and filled: never point it at a
database whose data matters. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_memory import ADMIN, PASSWORD, app_for, build  # noqa: E402

MANAGER = "bench-manager@example.test"
HR = "bench-hr@example.test"


def add_viewers(database_url: str) -> None:
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from lms.extensions import db
    from lms.models import Region, Role, Team, User

    app = app_for(database_url)
    with app.app_context():
        quick = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        # The organisation was inserted with explicit ids, which PostgreSQL's sequence
        # does not know about: these two take the next ones explicitly too.
        last = db.session.scalar(select(func.max(User.id))) or 0
        manager = User(id=last + 1, email=MANAGER, full_name="Bench manager", password_hash=quick)
        manager.grant(Role.MANAGER)
        hr = User(id=last + 2, email=HR, full_name="Bench HR", password_hash=quick)
        db.session.add_all([manager, hr])
        team = db.session.get(Team, 1)
        if team is None:
            raise SystemExit("the organisation was not built")
        manager.managed_teams.append(team)
        hr.grant(Role.HR, db.session.get(Region, 1))
        db.session.commit()
        db.engine.dispose()


def time_page(
    database_url: str, email: str, path: str, repeat: int, cache_seconds: int
) -> tuple[float, float, int]:
    app = app_for(database_url, REPORT_CACHE_SECONDS=cache_seconds)
    client = app.test_client()
    with app.app_context():
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        if response.status_code != 302 or client.get(path).status_code != 200:  # and warm up
            raise SystemExit(f"{email} cannot open {path}")
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        size = len(response.data)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, action="append", default=None)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for people in args.people or [2000]:
        with tempfile.TemporaryDirectory() as directory:
            url = args.database_url or f"sqlite:///{directory}/bench.sqlite3"
            build(url, people * 7)
            add_viewers(url)
            print(f"{people:,} people ({url.split(':')[0]})")
            for who, email, path in (
                ("manager, one team of 25", MANAGER, "/team"),
                ("HR, one region", HR, "/hr"),
                ("admin, everything", ADMIN, "/hr"),
                ("admin, everything, page 2", ADMIN, "/hr?page=2"),
            ):
                for kind, seconds in (("counted", 0), ("cached", 60)):
                    median, p95, size = time_page(url, email, path, args.repeat, seconds)
                    print(f"  {who:<28} {path:<12} {kind:<8} median {median:7.1f} ms  "
                          f"p95 {p95:7.1f} ms  {size / 1024:5.0f} KiB")  # fmt: skip


if __name__ == "__main__":
    main()
