"""Importing people from a CSV file: all of it or nothing.

Three steps, each usable on its own: ``parse`` reads the bytes (UTF-8 with or without a BOM,
or Windows-1251; ``,`` or ``;``) into rows, ``validate`` checks every row against the rules
and the importer's scope, and ``apply`` creates or updates the people, regions, centres and
teams. ``parse`` and ``validate`` raise ``ImportRefused`` with every problem found, naming
the row (the file's line, the header being line 1) and the column; nothing has been written
then. ``import_people`` runs the three and writes the audit entry. Like every service it
flushes and never commits: the caller commits, or rolls back for a dry run.

Importing the same file twice changes nothing the second time. Roles are only ever granted,
never taken away; deactivated accounts are updated but stay deactivated; new accounts have
no password until an administrator sets one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Centre, Region, Role, Team, User
from lms.permissions import can_administer_person, hr_region_id
from lms.services import audit
from lms.services.accounts import normalise_email

COLUMNS = (
    "email",
    "full_name",
    "employee_number",
    "region",
    "centre",
    "team",
    "roles",
    "manager_email",
)
OPTIONAL_COLUMNS = frozenset({"manager_email"})
REQUIRED_COLUMNS = tuple(column for column in COLUMNS if column not in OPTIONAL_COLUMNS)
MAX_LENGTHS = {
    "email": 254,
    "full_name": 200,
    "employee_number": 64,
    "region": 200,
    "centre": 200,
    "team": 200,
}
# HR staff hand out these; only administrators (and the command line) give hr and admin.
ROLES_HR_MAY_GRANT = frozenset({Role.EMPLOYEE, Role.MANAGER})
# Values per IN (...) query: well under the parameter limits of SQLite and PostgreSQL.
_CHUNK = 500

_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# A word (letters only) with a Latin letter and a Cyrillic one, in either order.
_MIXED_SCRIPTS = re.compile(
    r"[^\W\d_]*(?:[a-zA-Z][^\W\d_]*[\u0400-\u04ff]|[\u0400-\u04ff][^\W\d_]*[a-zA-Z])[^\W\d_]*"
)


@dataclass(frozen=True)
class ImportProblem:
    """Why a file cannot be imported: where (``row`` is the line of the file, the header
    being 1; ``None`` for the file as a whole) and what, in the person's language."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row is not None else "file",
                self.column,
            )
            if part
        )
        return f"{where}: {self.message}"


class ImportRefused(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.row or 0)
        super().__init__(f"{len(self.problems)} problem(s) in the file")


@dataclass(frozen=True)
class PersonRow:
    """One line of the file as written, every value stripped ("" when empty)."""

    line: int
    email: str
    full_name: str
    employee_number: str
    region: str
    centre: str
    team: str
    roles: str
    manager_email: str = ""


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int
    # Roles beyond employee given by the file: (person, roles before, roles after).
    role_changes: tuple[tuple[User, tuple[str, ...], tuple[str, ...]], ...] = field(
        default=(), compare=False
    )


class _Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# --- parsing ---------------------------------------------------------------------------------


def parse(data: bytes) -> list[PersonRow]:
    """The people listed in a CSV file, or ``ImportRefused`` if it cannot be read as one."""
    text = _decode(data)
    if not text.strip():
        raise ImportRefused([ImportProblem(None, None, _("The file is empty."))])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    problems: list[ImportProblem] = []
    rows: list[PersonRow] = []
    try:
        header = next(reader, [])
        columns = _columns(header)
        line = reader.line_num + 1
        for record in reader:
            values = [value.strip() for value in record]
            if any(values):
                rows.append(_person_row(line, columns, values, problems))
            line = reader.line_num + 1
    except csv.Error as error:
        problem = _("The file cannot be read as CSV: %(reason)s", reason=str(error))
        raise ImportRefused([ImportProblem(reader.line_num, None, problem)]) from error
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused([ImportProblem(None, None, _("The file lists no people."))])
    return rows


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        # UTF-16 "Unicode text", a workbook, or anything else that is not a text file.
        message = _("This is not a CSV text file. Save the spreadsheet as CSV and upload that.")
        raise ImportRefused([ImportProblem(None, None, message)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        message = _("The file is neither UTF-8 nor Windows-1251 text.")
        raise ImportRefused([ImportProblem(None, None, message)]) from None
    # Nearly any bytes read as Windows-1251. A file in another encoding (Latin-1: "Müller")
    # then reads as words that mix Latin and Cyrillic letters ("Mьller"), which no name has.
    mixed = _MIXED_SCRIPTS.search(text)
    if mixed is not None:
        message = _(
            "The file is not in UTF-8, and read as Windows-1251 it mixes Latin and Cyrillic "
            "letters in one word (“%(word)s”), so it is probably in another encoding. Save it "
            "as CSV UTF-8 and upload it again.",
            word=mixed.group(),
        )
        line = text.count("\n", 0, mixed.start()) + 1
        raise ImportRefused([ImportProblem(line, None, message)])
    return text


def _delimiter(text: str) -> str:
    """``;`` (what Excel writes in Russian locales) or ``,``, whichever the header uses more."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _columns(header: Sequence[str]) -> list[str]:
    names = [name.strip().lower() for name in header]
    while names and not names[-1]:  # spreadsheets sometimes add empty columns at the end
        names.pop()
    problems = []
    if not names:
        message = _(
            "The first line must name the columns: %(columns)s.", columns=", ".join(COLUMNS)
        )
        raise ImportRefused([ImportProblem(1, None, message)])
    if "" in names:
        number = names.index("") + 1
        problems.append(_("Column %(number)d has no name.", number=number))
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        problems.append(
            _(
                "Unknown columns: %(unknown)s. The columns are: %(columns)s.",
                unknown=", ".join(unknown),
                columns=", ".join(COLUMNS),
            )
        )
    duplicated = sorted({name for name in names if name and names.count(name) > 1})
    if duplicated:
        problems.append(_("Columns named twice: %(columns)s.", columns=", ".join(duplicated)))
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        problems.append(_("Missing columns: %(columns)s.", columns=", ".join(missing)))
    if problems:
        raise ImportRefused(ImportProblem(1, None, message) for message in problems)
    return names


def _person_row(
    line: int, columns: list[str], values: list[str], problems: list[ImportProblem]
) -> PersonRow:
    if any(values[len(columns) :]):
        problems.append(
            ImportProblem(
                line,
                None,
                _(
                    "This row has more values than the header has columns (%(count)d). "
                    "Is a value with a comma or semicolon missing its quotes?",
                    count=len(columns),
                ),
            )
        )
    by_column = dict(zip(columns, values, strict=False))
    return PersonRow(line=line, **{column: by_column.get(column, "") for column in COLUMNS})


# --- validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What an importer may do: the region they are limited to and the roles they may give."""

    importer: User | None
    region: Region | None
    may_grant: frozenset[Role]

    @classmethod
    def of(cls, importer: User | None) -> _Scope:
        """The command line (``None``) and administrators may do everything."""
        if importer is None or importer.has_role(Role.ADMIN):
            return cls(importer=importer, region=None, may_grant=frozenset(Role))
        if not importer.has_role(Role.HR):
            message = _("Only HR staff and administrators may import people.")
            raise ImportRefused([ImportProblem(None, None, message)])
        region_id = hr_region_id(importer)
        region = db.session.get(Region, region_id) if region_id is not None else None
        return cls(importer=importer, region=region, may_grant=ROLES_HR_MAY_GRANT)

    def may_change(self, person: User) -> bool:
        """HR change the accounts they administer on the people pages, no others: people in a
        team of their region, never an administrator's account nor one whose powers reach
        beyond their scope (``can_administer_person``)."""
        return self.importer is None or can_administer_person(self.importer, person)


@dataclass
class _Planned:
    """A row that passed every check, with its values in the form ``apply`` needs."""

    row: PersonRow
    email: str
    roles: frozenset[Role]
    manager_email: str | None
    person: User | None  # the existing account, if any


@dataclass
class ImportPlan:
    """Everything ``apply`` needs: the checked rows and what the database already holds."""

    rows: list[_Planned]
    organisation: _Organisation
    people: dict[str, User]  # existing accounts by normalised e-mail


class _ProblemList:
    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []

    def add(self, row: PersonRow, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(row.line, column, message))


def validate(rows: Sequence[PersonRow], importer: User | None) -> ImportPlan:
    """Check every row; ``importer`` is who imports (``None``: the command line, which may do
    everything). Raises ``ImportRefused`` listing every problem of every row."""
    scope = _Scope.of(importer)
    emails_in_file = {normalise_email(row.email) for row in rows if row.email}
    manager_emails = {normalise_email(row.manager_email) for row in rows if row.manager_email}
    organisation = _Organisation.load()
    people = _people_by_email(emails_in_file | manager_emails)
    number_owners = _employee_number_owners({row.employee_number for row in rows})
    problems = _ProblemList()
    line_of_email: dict[str, int] = {}
    line_of_number: dict[str, int] = {}
    planned: list[_Planned] = []

    for row in rows:
        for column, limit in MAX_LENGTHS.items():
            value = getattr(row, column)
            if not value:
                problems.add(row, column, _("A value is required."))
            elif "\n" in value or "\r" in value:
                # A quote left open takes the rest of the file into this value.
                message = _("A line break inside the value: is a closing double quote missing?")
                problems.add(row, column, message)
            elif len(value) > limit:
                problems.add(row, column, _("At most %(limit)d characters.", limit=limit))

        email = normalise_email(row.email)
        person = people.get(email)
        if email and email in line_of_email:
            message = _("This e-mail is also on row %(row)d.", row=line_of_email[email])
            problems.add(row, "email", message)
        elif email:
            line_of_email[email] = row.line
            # An account's own e-mail is accepted as it is, whatever the validator thinks.
            if person is None and not valid_email(row.email):
                problems.add(row, "email", _("This is not a valid e-mail address."))
            if person is not None and not scope.may_change(person):
                problems.add(
                    row,
                    "email",
                    _("This person's account is outside your scope: you may not change it."),
                )

        number = row.employee_number
        if number and number in line_of_number:
            message = _("This employee number is also on row %(row)d.", row=line_of_number[number])
            problems.add(row, "employee_number", message)
        elif number:
            line_of_number[number] = row.line
            owner = number_owners.get(number)
            # Someone else in the file gets a new number: theirs is free then.
            if owner is not None and owner != email and owner not in emails_in_file:
                message = _("This employee number belongs to another person.")
                problems.add(row, "employee_number", message)

        if row.region and scope.region is not None and row.region != scope.region.name:
            message = _("You may import people of %(region)s only.", region=scope.region.name)
            problems.add(row, "region", message)

        roles = _roles(row, scope, problems)
        planned.append(
            _Planned(
                row=row,
                email=email,
                roles=roles,
                manager_email=normalise_email(row.manager_email) or None,
                person=person,
            )
        )

    roles_in_file = {item.email: item.roles for item in planned}
    for item in planned:
        if item.manager_email is not None:
            _check_manager(item, people.get(item.manager_email), roles_in_file, problems)

    if problems.problems:
        raise ImportRefused(problems.problems)
    return ImportPlan(rows=planned, organisation=organisation, people=people)


def valid_email(email: str) -> bool:
    """The address's syntax, with the internal domains that centres use allowed.

    email-validator checks the part before the @, but it refuses special-use domains such as
    ``.local`` outright, and those are common on a closed network; the domain is checked here
    for syntax only (labels of letters, digits and hyphens, Cyrillic allowed), never for DNS.
    """
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return False
    try:
        validate_email(f"{local}@example.org", check_deliverability=False)
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except (EmailNotValidError, UnicodeError):
        return False
    labels = ascii_domain.split(".")
    return len(labels) >= 2 and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)


def _roles(row: PersonRow, scope: _Scope, problems: _ProblemList) -> frozenset[Role]:
    names = [name.strip().lower() for name in row.roles.split(",") if name.strip()]
    if not names:
        problems.add(row, "roles", _("Give at least one role: employee, manager, hr or admin."))
    known = {role.value for role in Role}
    unknown = [name for name in names if name not in known]
    if unknown:
        problems.add(
            row,
            "roles",
            _(
                "Unknown roles: %(unknown)s. Use employee, manager, hr or admin.",
                unknown=", ".join(unknown),
            ),
        )
    roles = frozenset(Role(name) for name in names if name in known)
    if roles - scope.may_grant:
        problems.add(row, "roles", _("Only an administrator may give the roles hr and admin."))
    return roles


def _check_manager(
    item: _Planned,
    manager: User | None,
    roles_in_file: dict[str, frozenset[Role]],
    problems: _ProblemList,
) -> None:
    email = item.manager_email
    if manager is None and email not in roles_in_file:
        message = _("No one with this e-mail is in the file or has an account.")
        problems.add(item.row, "manager_email", message)
        return
    if manager is not None and not manager.active:
        message = _("This person's account is deactivated: they cannot manage a team.")
        problems.add(item.row, "manager_email", message)
        return
    is_manager = Role.MANAGER in roles_in_file.get(email or "", frozenset()) or (
        manager is not None and manager.has_role(Role.MANAGER)
    )
    if not is_manager:
        message = _(
            "This person is not a manager: give them the manager role in their own row of the file."
        )
        problems.add(item.row, "manager_email", message)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = sorted(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _people_by_email(emails: set[str]) -> dict[str, User]:
    people: dict[str, User] = {}
    for chunk in _chunks(emails):
        query = select(User).where(func.lower(User.email).in_(chunk))
        people.update({normalise_email(user.email): user for user in db.session.scalars(query)})
    return people


def _employee_number_owners(numbers: set[str]) -> dict[str, str]:
    """Employee number -> normalised e-mail of the person who has it now."""
    owners: dict[str, str] = {}
    for chunk in _chunks(number for number in numbers if number):
        query = select(User.employee_number, User.email).where(User.employee_number.in_(chunk))
        owners.update(
            {
                number: normalise_email(email)
                for number, email in db.session.execute(query)
                if number is not None
            }
        )
    return owners


# --- applying --------------------------------------------------------------------------------


class _Organisation:
    """Regions, centres and teams by name, loaded at once; what is missing is created."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self.regions: dict[str, Region] = {}
        self.centres: dict[tuple[str, str], Centre] = {}
        self.teams: dict[tuple[str, str, str], Team] = {}
        for region in regions:
            self.regions[region.name] = region
            for centre in region.centres:
                self.centres[region.name, centre.name] = centre
                for team in centre.teams:
                    self.teams[region.name, centre.name, team.name] = team

    @classmethod
    def load(cls) -> _Organisation:
        query = select(Region).options(
            selectinload(Region.centres).selectinload(Centre.teams).selectinload(Team.managers)
        )
        return cls(db.session.scalars(query))

    def region(self, name: str) -> Region:
        if name not in self.regions:
            self.regions[name] = Region(name=name)
            db.session.add(self.regions[name])
        return self.regions[name]

    def team(self, region: str, centre: str, team: str) -> Team:
        if (region, centre) not in self.centres:
            self.centres[region, centre] = Centre(name=centre, region=self.region(region))
        if (region, centre, team) not in self.teams:
            self.teams[region, centre, team] = Team(name=team, centre=self.centres[region, centre])
        return self.teams[region, centre, team]


def apply(plan: ImportPlan) -> ImportResult:
    """Create or update the people of a validated file and the teams they belong to.

    A row counts as updated when it changed its person or made someone a manager of its team.
    """
    organisation = plan.organisation
    _free_employee_numbers_that_change(plan)
    outcomes: dict[int, _Outcome] = {}
    role_changes: list[tuple[User, tuple[str, ...], tuple[str, ...]]] = []
    people = dict(plan.people)
    for item in plan.rows:
        row = item.row
        team = organisation.team(row.region, row.centre, row.team)
        person = item.person
        if person is None:
            person = User(
                email=item.email,
                full_name=row.full_name,
                employee_number=row.employee_number,
                team=team,
                password_hash=None,
            )
            db.session.add(person)
            outcome = _Outcome.CREATED
        else:
            outcome = _Outcome.UPDATED if _update(person, row, team) else _Outcome.UNCHANGED
        before = tuple(sorted(person.role_names)) if outcome is not _Outcome.CREATED else ()
        new = _grant(person, item.roles, organisation.region(row.region))
        if new and outcome is _Outcome.UNCHANGED:
            outcome = _Outcome.UPDATED
        if any(role is not Role.EMPLOYEE for role in new):
            role_changes.append((person, before, tuple(sorted(person.role_names))))
        outcomes[row.line] = outcome
        people[item.email] = person

    for item in plan.rows:
        if item.manager_email is None:
            continue
        row = item.row
        team = organisation.team(row.region, row.centre, row.team)
        manager = people[item.manager_email]
        if manager not in team.managers:
            team.managers.append(manager)
            if outcomes[row.line] is _Outcome.UNCHANGED:
                outcomes[row.line] = _Outcome.UPDATED

    db.session.flush()
    counted = list(outcomes.values())
    return ImportResult(
        rows=len(plan.rows),
        created=counted.count(_Outcome.CREATED),
        updated=counted.count(_Outcome.UPDATED),
        unchanged=counted.count(_Outcome.UNCHANGED),
        role_changes=tuple(role_changes),
    )


def _free_employee_numbers_that_change(plan: ImportPlan) -> None:
    """Clear the numbers that change first, so that two people may swap theirs."""
    changing = [
        item.person
        for item in plan.rows
        if item.person is not None and item.person.employee_number != item.row.employee_number
    ]
    if changing:
        for person in changing:
            person.employee_number = None
        db.session.flush()


def _update(person: User, row: PersonRow, team: Team) -> bool:
    """Bring an existing account in line with its row; whether anything changed. Its
    ``active`` flag is left alone: a deactivated account stays deactivated."""
    changed = False
    if person.full_name != row.full_name:
        person.full_name = row.full_name
        changed = True
    if person.employee_number != row.employee_number:
        person.employee_number = row.employee_number
        changed = True
    if person.team is not team:
        person.team = team
        changed = True
    return changed


def _grant(person: User, roles: frozenset[Role], region: Region) -> list[Role]:
    """Give the roles the person does not hold yet; returns those that were new. HR given by
    an import is limited to the person's region; an existing HR role keeps its scope."""
    new = [role for role in sorted(roles) if not person.has_role(role)]
    for role in new:
        person.grant(role, region if role is Role.HR else None)
    return new


# --- all of it -------------------------------------------------------------------------------


def import_people(
    data: bytes, *, filename: str, importer: User | None, source: str | None = None
) -> ImportResult:
    """Parse, validate and apply a file, and write the import to the audit log.

    ``importer`` is ``None`` for the command line (``source="cli"``), which may do everything.
    Raises ``ImportRefused`` when the file has problems; nothing is written then.
    """
    plan = validate(parse(data), importer)
    result = apply(plan)
    details: dict[str, str | int] = {
        "file": filename,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    if source is not None:
        details["source"] = source
    audit.record(importer, "users.import", **details)
    for person, before, after in result.role_changes:  # managers, HR and admins one by one
        audit.record(
            importer,
            "roles.change",
            person_id=person.id,
            email=person.email,
            before=list(before),
            after=list(after),
            source="import",
        )
    return result
