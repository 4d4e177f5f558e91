"""Sign-in limits: failed attempts are counted per account and per address, the pause looks
the same whether the account exists or not, successful sign-ins never count, and app servers
behind one Redis count together."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import CSRF_PATTERN, PASSWORD, Auth
from tests.test_report_cache import redis_or_skip

REDIS = "redis://127.0.0.1:6379/14"  # only these tests use it; emptied before and after

PAUSED = "Too many attempts"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes",
        "LOGIN_FAILURES_PER_ADDRESS": "8 per 15 minutes",
    }


def attempt(app: Flask, email: str, password: str, address: str = "10.0.0.1") -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    found = CSRF_PATTERN.search(client.get("/login").get_data(as_text=True))
    assert found is not None
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": found.group(1)}
    )


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "unknown"])
def test_five_failures_pause_the_account_whether_it_exists_or_not(app, make, exists):
    email = "anna@example.test"
    if exists:
        make.user(email)
    for _ in range(5):
        assert attempt(app, email, "wrong").status_code == 401
    paused = attempt(app, email, PASSWORD if exists else "wrong")
    assert paused.status_code == 429
    assert PAUSED in paused.get_data(as_text=True)
    assert "Retry-After" in paused.headers
    # Letter case does not give a guesser five more tries.
    assert attempt(app, email.upper(), "wrong").status_code == 429


def test_the_pause_is_the_same_page_for_existing_and_unknown_accounts(app, make):
    make.user("real@example.test")
    pages = []
    for number, email in enumerate(("real@example.test", "ghost@example.test")):
        for _ in range(5):
            attempt(app, email, "wrong", address=f"10.0.1.{number}")
        response = attempt(app, email, "wrong", address="10.0.0.3")
        # The same page but for the per-session CSRF tokens of its language switch.
        pages.append((response.status_code, CSRF_PATTERN.sub("", response.get_data(as_text=True))))
    assert pages[0] == pages[1]


def test_successful_sign_ins_never_count(app, make):
    make.user("busy@example.test")
    for _ in range(12):  # a whole centre signing in from one address in the morning
        assert attempt(app, "busy@example.test", PASSWORD).status_code == 302


def test_failures_from_one_address_pause_it_for_every_account(app, make):
    make.user("calm@example.test")
    for n in range(8):
        assert (
            attempt(app, f"guess{n}@example.test", "wrong", address="10.9.9.9").status_code == 401
        )
    assert attempt(app, "calm@example.test", PASSWORD, address="10.9.9.9").status_code == 429
    # The same person from another address is not affected.
    assert attempt(app, "calm@example.test", PASSWORD, address="10.1.1.1").status_code == 302


def test_app_servers_behind_one_redis_count_together(app_config, app, make, servers):
    redis_or_skip()
    import redis

    store = redis.Redis.from_url(REDIS)
    store.flushdb()
    make.user("shared@example.test")
    # RATELIMIT_STORAGE_URI is left as memory://: REDIS_URL replaces it, as in production.
    config = {**app_config, "REDIS_URL": REDIS}
    first = servers(config)
    for _ in range(5):
        assert attempt(first, "shared@example.test", "wrong").status_code == 401
    second = servers(config)  # another server, started after the attempts on the first
    assert second.config["RATELIMIT_STORAGE_URI"] == REDIS
    assert attempt(second, "shared@example.test", PASSWORD).status_code == 429
    store.flushdb()


def test_signing_in_works_while_redis_is_down(app_config, app, make, servers):
    make.user("calm@example.test")
    broken = servers({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert broken.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:1/0"
    assert attempt(broken, "calm@example.test", "wrong").status_code == 401
    assert attempt(broken, "calm@example.test", PASSWORD).status_code == 302
    # Meanwhile this server counts in its own memory: guessing is still paused.
    for _ in range(5):
        attempt(broken, "calm@example.test", "wrong")
    assert attempt(broken, "calm@example.test", PASSWORD).status_code == 429


def test_a_new_app_counts_in_its_own_storage_after_one_whose_redis_was_down(
    app_config, app, make, servers
):
    """One limiter serves every app of the process: an earlier app's dead Redis must not send
    a later app's counts to the fallback, where a timed re-check would drop some of them."""
    from lms.extensions import limiter

    make.user("calm@example.test")
    broken = servers({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    attempt(broken, "calm@example.test", "wrong")
    healthy = servers(app_config)
    assert limiter.limiter.storage is limiter.storage
    for _ in range(5):
        assert attempt(healthy, "calm@example.test", "wrong").status_code == 401
    assert attempt(healthy, "calm@example.test", PASSWORD).status_code == 429


def test_a_form_without_its_token_tries_nothing_and_does_not_count(app, make):
    make.user("target@example.test")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    for _ in range(8):
        response = client.post("/login", data={"email": "target@example.test", "password": "x"})
        assert response.status_code == 400
    assert attempt(app, "target@example.test", PASSWORD, address="10.0.0.2").status_code == 302


def test_guessing_the_current_password_is_limited(app, make):
    """Changing a password asks for the current one: guessing it is limited like signing in."""
    from tests.test_security import NEW_PASSWORD, change

    make.user("anna@example.test")
    client = app.test_client()
    Auth(client).login("anna@example.test")
    assert attempt(app, "anna@example.test", "a guess at the door").status_code == 401
    # The same account's counter: one failed sign-in and four wrong current passwords.
    statuses = [change(client, f"guess {n}", NEW_PASSWORD).status_code for n in range(5)]
    assert statuses == [401] * 4 + [429]
    # The right password is refused too while the limit lasts: a guesser learns nothing.
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 429
