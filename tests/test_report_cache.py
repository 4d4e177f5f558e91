"""The shared cache of dashboards: kept for a while, per viewer, never with someone else's CSRF
token, started afresh by the viewer's own reminder, shared by app servers through Redis, and
harmless when Redis is down."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from lms.cache import MemoryCache, RedisCache
from lms.extensions import db
from lms.models import ModuleCompletion, Role
from lms.models.content import CourseModule
from tests.conftest import CSRF_PATTERN, PASSWORD, IsolatedClient

REDIS = "redis://127.0.0.1:6379/15"  # only the cache tests use it
STATS = re.compile(r"<strong>(\d+) %</strong>")


def redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise  # CI starts Redis (.ci/run): there the test must run
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "REPORT_CACHE_SECONDS": 60}


@pytest.fixture
def team_world(published: None, make: Any) -> Any:
    team = make.team("Desk", centre="Main", region="West")
    manager = make.user("boss@example.test", roles=(Role.MANAGER,), manages=(team,), locale="en")
    people = [make.user(f"p{n}@example.test", team=team, locale="en") for n in range(4)]
    hr = make.user("hr@example.test", roles=(Role.HR,), hr_region=team.centre.region, locale="en")
    return manager, people, hr


def complete_first_module(user_id: int) -> None:
    module = db.session.scalars(db.select(CourseModule).order_by(CourseModule.position)).first()
    assert module is not None
    assert module.current_version_id is not None
    db.session.add(
        ModuleCompletion(
            user_id=user_id,
            module_id=module.id,
            content_version_id=module.current_version_id,
            completed_at=datetime.now(UTC),
            score=90,
            attempts=1,
        )
    )
    db.session.commit()


def signed_in(app: Flask, email: str) -> IsolatedClient:
    client = app.test_client()
    token = CSRF_PATTERN.search(client.get("/login").get_data(as_text=True))
    assert token is not None
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302
    return client  # type: ignore[return-value]


def share_complete(html: str) -> str:
    found = STATS.search(html)
    assert found is not None
    return found.group(1)


def test_a_dashboard_is_kept_for_a_while_and_says_as_of_when(app, team_world):
    manager, people, _hr = team_world
    client = signed_in(app, manager.email)
    first = client.get("/team").get_data(as_text=True)
    assert share_complete(first) == "0"
    assert "Figures as of" in first

    complete_first_module(people[0].id)
    assert share_complete(client.get("/team").get_data(as_text=True)) == "0"  # from the cache

    app.config["REPORT_CACHE_SECONDS"] = 0  # as when the entry has expired
    assert share_complete(client.get("/team").get_data(as_text=True)) != "0"


def test_the_cached_page_carries_each_requests_own_csrf_token(app, team_world):
    manager, people, _hr = team_world
    one = signed_in(app, manager.email)
    one.get("/team")
    two = signed_in(app, manager.email)  # another browser of the same person
    html = two.get("/team").get_data(as_text=True)
    assert "\x00" not in html
    tokens = set(CSRF_PATTERN.findall(html))
    [token] = tokens
    # The token in the cached page is this browser's: the reminder form works from it.
    response = two.post(
        f"/team/people/{people[0].id}/remind", data={"csrf_token": token, "next": "/team"}
    )
    assert response.status_code == 302
    # And the viewer's own reminder shows at once, not a minute later.
    assert "reminded" in two.get("/team").get_data(as_text=True)


def test_viewers_never_see_each_others_entries(app, team_world, make):
    manager, people, hr = team_world
    other = make.user("other@example.test", roles=(Role.MANAGER,), locale="en")
    assert people[0].full_name in signed_in(app, manager.email).get("/team").get_data(as_text=True)
    html = signed_in(app, other.email).get("/team").get_data(as_text=True)
    assert people[0].full_name not in html
    assert share_complete(signed_in(app, hr.email).get("/hr").get_data(as_text=True)) == "0"
    # Different filters are different entries.
    client = signed_in(app, manager.email)
    assert client.get("/team?module=star-index").status_code == 200


def test_a_manager_moved_off_a_team_stops_seeing_it_at_once(app, team_world):
    manager, people, _hr = team_world
    client = signed_in(app, manager.email)
    assert people[0].full_name in client.get("/team").get_data(as_text=True)
    user = db.session.get(type(manager), manager.id)
    assert user is not None
    user.managed_teams.clear()
    db.session.commit()
    assert people[0].full_name not in client.get("/team").get_data(as_text=True)


def test_two_app_servers_share_one_redis_cache(app, app_config, team_world, servers):
    redis_or_skip()
    manager, people, _hr = team_world
    config = {**app_config, "REDIS_URL": REDIS, "CACHE_PREFIX": f"test-{uuid.uuid4().hex}:"}
    first, second = servers(config), servers(config)
    assert isinstance(first.extensions["lms.cache"], RedisCache)

    assert (
        share_complete(signed_in(first, manager.email).get("/team").get_data(as_text=True)) == "0"
    )
    complete_first_module(people[0].id)
    # The second server finds what the first one counted (the same session cookie works too:
    # sessions are signed cookies, so any server with the same SECRET_KEY reads them).
    client = signed_in(first, manager.email)
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = second.test_client()
    other.set_cookie("session", cookie.value)
    html = other.get("/team").get_data(as_text=True)
    assert share_complete(html) == "0"
    first.extensions["lms.cache"].client.flushdb()


def test_pages_still_work_when_redis_is_down(app, app_config, team_world, servers):
    manager, people, _hr = team_world
    broken = servers({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = signed_in(broken, manager.email)
    assert share_complete(client.get("/team").get_data(as_text=True)) == "0"
    complete_first_module(people[0].id)
    assert share_complete(client.get("/team").get_data(as_text=True)) != "0"  # nothing kept


def test_memory_cache_expires_and_evicts_the_oldest(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("lms.cache.time.monotonic", lambda: now[0])
    cache = MemoryCache(limit=2)
    cache.set("a", "1", 10)
    cache.set("b", "2", 10)
    cache.set("c", "3", 10)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "2", "3")
    now[0] += 11
    assert cache.get("b") is None
    assert cache.incr("n") == 1
    assert cache.incr("n") == 2
    # A counter is never evicted by entries, whatever their number.
    for number in range(5):
        cache.set(f"entry{number}", "x", 10)
    assert cache.incr("n") == 3
    assert cache.get("n") == "3"
