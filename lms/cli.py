"""The ``lms`` command: Flask's CLI for this app plus the project's own commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import run_simple

from lms.content import ContentError, check_course, get_course
from lms.extensions import db


def _create_app():  # FlaskGroup calls this without arguments
    from lms import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Client-Centricity Academy")


@click.command("backup")
@click.argument(
    "file", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@with_appcontext
def backup_command(file: Path | None, force: bool) -> None:
    """Write the whole database to FILE, an archive that restores into SQLite or PostgreSQL.

    FILE is gzip-compressed JSON lines; by default lms-backup-DATE-TIME.jsonl.gz in the
    current directory, and - writes to standard output. The rows are read in one
    transaction, so the archive is consistent while the app runs.
    """
    from lms.services.backup import BackupError, default_name, write_backup

    target = file or Path(default_name())
    to_stdout = str(target) == "-"
    shown = "standard output" if to_stdout else str(target)
    click.echo(f"Backing up {_database()} to {shown}…", err=True)
    try:
        summary = write_backup(
            sys.stdout.buffer if to_stdout else target,
            overwrite=force,
            progress=_progress,
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    size = "" if to_stdout else f", {_megabytes(target.stat().st_size)}"
    click.echo(
        f"Backed up {summary.rows:,} rows of {len(summary.tables)} tables (migration "
        f"{summary.revision}) to {shown}{size} in {summary.seconds:.1f} s",
        err=True,
    )


@click.command("restore")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option("--replace", is_flag=True, help="Empty every table first, in the same transaction.")
@with_appcontext
def restore_command(file: Path, replace: bool) -> None:
    """Load FILE, written by lms backup, into the database, in one transaction.

    The database must be empty (or is emptied with --replace) and at the backup's migration;
    one with no tables at all is migrated first. Any problem rolls everything back.
    """
    from lms.services.backup import BackupError, restore_backup

    from_stdin = str(file) == "-"
    shown = "standard input" if from_stdin else str(file)
    click.echo(f"Restoring {shown} into {_database()}…", err=True)
    source: Path | BinaryIO = sys.stdin.buffer if from_stdin else file
    try:
        summary = restore_backup(source, replace=replace, progress=_progress)
    except BackupError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}; nothing was restored") from error
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    migrated = ", migrations applied first" if summary.migrated else ""
    click.echo(
        f"Restored {summary.rows:,} rows of {len(summary.tables)} tables (backup of "
        f"{summary.created_at}, {summary.dialect}, migration {summary.revision}{migrated}) "
        f"in {summary.seconds:.1f} s",
        err=True,
    )


# On the lms command itself: `lms backup` and `lms restore` (FlaskGroup looks here before
# the app's own commands).
main.add_command(backup_command)
main.add_command(restore_command)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _database() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def _progress(table: str, done: int, total: int) -> None:
    if done == total:
        click.echo(f"  {table:<24} {total:>12,}", err=True)
    else:
        click.echo(f"  {table:<24} {done:>12,} of {total:,}…", err=True)


@click.group("content")
def content_group() -> None:
    """Check and publish the course in content/."""


@content_group.command("check")
@with_appcontext
def content_check() -> None:
    """Validate every module and the competency framework; name file and line of each problem."""
    problems = check_course(current_app.config["CONTENT_DIR"], current_app.config["QUIZ_DIR"])
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in the content")
    click.echo("content OK")


@content_group.command("publish")
@with_appcontext
def content_publish() -> None:
    """Record the content on disk as the current version of each module."""
    _publish()


def _publish() -> None:
    from lms.services.publishing import publish

    try:
        course = get_course()
    except ContentError as error:
        raise click.ClickException(f"the content has problems:\n{error}") from error
    publication = publish(None, course)  # audited, as publishing from /admin/content
    db.session.commit()
    for module in course.modules:
        state = "new version" if module.slug in publication.changed else "unchanged"
        click.echo(f"  {module.slug}: {module.content_hash[:12]} ({state})")


@click.group("quiz")
def quiz_group() -> None:
    """Manage quiz attempts."""


@quiz_group.command("allow-attempt")
@click.argument("email")
@click.argument("module_slug")
@click.option("--reason", default="", help="Why the extra attempt is allowed (kept on record).")
@with_appcontext
def quiz_allow_attempt(email: str, module_slug: str, reason: str) -> None:
    """Allow one more attempt to EMAIL, who used every attempt at MODULE_SLUG's quiz."""
    from lms.services import quizzes
    from lms.services.accounts import find_user_by_email

    user = find_user_by_email(email)
    course = get_course()
    module = course.module(module_slug)
    if user is None:
        raise click.ClickException(f"no account with the e-mail {email}")
    if module is None or module_slug not in course.quizzes:
        raise click.ClickException(f"no module with a quiz called {module_slug}")
    try:
        quizzes.allow_extra_attempt(user, course, module, reason=reason)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"  {email} may take the {module_slug} quiz once more")


@click.group("users")
def users_group() -> None:
    """Manage people."""


@users_group.command("temporary-password")
@click.argument("email")
@with_appcontext
def users_temporary_password(email: str) -> None:
    """Give EMAIL a new temporary password and print it, to pass on in person.

    They are signed out everywhere and must choose their own password at the next sign-in.
    """
    from lms.services import accounts

    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with the e-mail {email}")
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated: reactivate them first")
    password = accounts.set_temporary_password(user, actor=None)
    db.session.commit()
    click.echo(f"Temporary password for {user.email}: {password}")
    click.echo("They choose their own at the next sign-in; every session of theirs has ended.")


@users_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and count the changes; save nothing.")
@with_appcontext
def users_import(file: Path, dry_run: bool) -> None:
    """Create or update the people listed in FILE (CSV; see DESIGN.md for the columns).

    Every row is checked first; if any has a problem, the problems are listed by row and
    column and nothing is saved.
    """
    from lms.services.user_import import ImportRefused, import_people

    try:
        result = import_people(file.read_bytes(), filename=file.name, importer=None, source="cli")
    except ImportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(refused.problems)} problem(s) in {file.name}; nothing was imported"
        ) from refused
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    state = "dry run, nothing saved" if dry_run else "saved"
    click.echo(
        f"  {result.rows} rows: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged ({state})"
    )


@click.command("demo")
@click.option(
    "--scale",
    type=click.Choice(["small", "federal"]),
    default="small",
    show_default=True,
    help="small: the demo organisation; federal: add 85 regions and 50,000 people with "
    "a year and a half of learning history, for load tests.",
)
@click.option("--people", type=click.IntRange(100, 500_000), default=50_000, show_default=True)
@with_appcontext
def demo_command(scale: str, people: int) -> None:
    """Create the demo organisation and accounts (safe to run again)."""
    if scale == "federal":
        _ensure_published()
    _demo()
    if scale == "federal":
        _federal(people)


def _ensure_published() -> None:
    from lms.models import CourseModule

    if (
        db.session.scalar(
            select(CourseModule.id).where(CourseModule.current_version_id.is_not(None))
        )
        is None
    ):
        click.echo("Publishing the course…")
        _publish()


def _federal(people: int) -> None:
    from lms.services.federal import build_federal

    started = time.monotonic()

    def progress(stage: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / done * (total - done)
        click.echo(
            f"  {stage} {done}/{total} ({done * 100 // total} %), {elapsed:.0f} s, about {left:.0f} s left"
        )

    click.echo(f"Building the federal organisation ({people:,} people)…")
    summary = build_federal(people, progress=progress)
    if not summary.built:
        click.echo("  the federal organisation is there already: nothing changed")
        return
    click.echo(f"  done in {summary.seconds:.0f} s:")
    for name, count in sorted(summary.rows.items()):
        click.echo(f"    {name:<22} {count:>10,}")


def _demo() -> None:
    from lms.services.demo import create_demo_organisation

    summary = create_demo_organisation()
    db.session.commit()
    click.echo(
        f"  demo organisation: {summary.people_created} new of {summary.people_total} people"
    )


@click.command("quickstart")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare everything but do not start the server.")
@with_appcontext
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """Create the database, publish the course, add the demo organisation and serve the app."""
    from lms.services.demo import DEMO_LOGINS, DEMO_PASSWORD

    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    click.echo("Applying database migrations…")
    upgrade(directory=current_app.config["MIGRATIONS_DIR"])
    click.echo("Publishing the course…")
    _publish()
    click.echo("Creating the demo organisation…")
    _demo()
    address = f"http://{host}:{port}"
    click.echo("")
    click.echo(f"Client-Centricity Academy is ready at {address}")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}, demo only):")
    for login in DEMO_LOGINS:
        click.echo(f"  {login}")
    if no_serve:
        return
    # app.run() refuses to start inside the Flask CLI; serve the same app directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
