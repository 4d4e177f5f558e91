"""The import of people from CSV: reading the file, every check by row and column, all or
nothing, re-imports that change nothing, HR's scope, the upload page and ``lms users import``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, Centre, Region, Role, RoleAssignment, Team, User, team_managers
from lms.services import user_import
from lms.services.user_import import ImportRefused, ImportResult, import_people
from tests.conftest import Auth, csrf_token

HEADER = "email,full_name,employee_number,region,centre,team,roles,manager_email"
REGION = "Тверская область"
CENTRE = "Центр занятости «Северный»"
ENGLISH = {"Accept-Language": "en"}


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\r\n".join((header, *rows)).encode(encoding) + b"\r\n"


def person(
    email: str,
    name: str = "Анна Морозова",
    number: str | None = None,
    *,
    region: str = REGION,
    centre: str = CENTRE,
    team: str = "Работа с гражданами",
    roles: str = "employee",
    manager: str = "",
) -> str:
    """One line of a comma-separated file (the roles quoted, as a spreadsheet writes them)."""
    number = number or "T-" + email.split("@")[0]
    return f'{email},{name},{number},{region},{centre},{team},"{roles}",{manager}'


def problems_of(data: bytes, importer: User | None = None) -> set[tuple[int | None, str | None]]:
    with pytest.raises(ImportRefused) as refused:
        import_people(data, filename="people.csv", importer=importer)
    db.session.rollback()
    return {(problem.row, problem.column) for problem in refused.value.problems}


def snapshot() -> dict[str, list[tuple]]:
    """Everything an import may write, in a comparable form."""
    queries = {
        "users": select(
            User.id, User.email, User.full_name, User.employee_number, User.team_id, User.active,
            User.password_hash,
        ),
        "roles": select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.region_id),
        "regions": select(Region.id, Region.name),
        "centres": select(Centre.id, Centre.region_id, Centre.name),
        "teams": select(Team.id, Team.centre_id, Team.name),
        "managers": select(team_managers.c.team_id, team_managers.c.user_id),
        "audit": select(AuditEvent.id, AuditEvent.action),
    }  # fmt: skip
    return {name: sorted(db.session.execute(query).all()) for name, query in queries.items()}


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    assert found is not None, email
    return found


@pytest.fixture
def hr_world(make):
    """Two regions; HR limited to the first, HR for everything, an admin, and an employee."""
    own = make.team("Работа с гражданами", centre=CENTRE, region=REGION)
    other = make.team("Контакт-центр", centre="Центр «Южный»", region="Псковская область")
    return {
        "own": own,
        "other": other,
        "regional_hr": make.user("regional.hr@example.com", roles=(Role.HR,), hr_region=own.centre.region),
        "national_hr": make.user("national.hr@example.com", roles=(Role.HR,)),
        "admin": make.user("admin@example.com", roles=(Role.ADMIN,)),
        "employee": make.user("employee@example.com", team=own),
        "stranger": make.user("stranger@example.com", team=other),
    }  # fmt: skip


# --- reading the file ------------------------------------------------------------------------


def test_utf8_with_bom_and_commas_creates_people_teams_and_centres(app):
    data = csv_file(
        person("i.volkov@example.com", "Игорь Волков", "T-1", roles="employee,manager"),
        person("a.morozova@example.com", "Анна Морозова", "T-2", manager="i.volkov@example.com"),
        encoding="utf-8-sig",
    )
    assert data.startswith(b"\xef\xbb\xbf")

    result = import_people(data, filename="people.csv", importer=None)
    db.session.commit()

    assert result == ImportResult(rows=2, created=2, updated=0, unchanged=0)
    anna = user("a.morozova@example.com")
    assert anna.full_name == "Анна Морозова"
    assert anna.employee_number == "T-2"
    assert anna.password_hash is None
    assert anna.active
    assert anna.role_names == {Role.EMPLOYEE}
    assert anna.team.name == "Работа с гражданами"
    assert anna.team.centre.name == CENTRE
    assert anna.team.centre.region.name == REGION
    volkov = user("i.volkov@example.com")
    assert volkov.role_names == {Role.EMPLOYEE, Role.MANAGER}
    assert [manager.email for manager in anna.team.managers] == ["i.volkov@example.com"]
    assert db.session.scalar(select(func.count(Team.id))) == 1


def test_windows_1251_and_semicolons(app):
    header = HEADER.replace(",", ";")
    line = f"o.kuznetsova@example.com;Ольга Кузнецова;T-5;{REGION};{CENTRE};Контакт-центр;employee;"
    data = csv_file(line, header=header, encoding="cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    result = import_people(data, filename="people.csv", importer=None)

    assert result.created == 1
    olga = user("o.kuznetsova@example.com")
    assert olga.full_name == "Ольга Кузнецова"
    assert olga.team.name == "Контакт-центр"
    assert olga.team.centre.name == CENTRE


def test_quoted_fields_keep_the_delimiter_and_columns_come_in_any_order(app):
    header = "roles;team;centre;region;employee_number;full_name;email"
    line = '"employee,manager";"Команда; вторая";"Центр ""Южный""";Область;T-9;"Волков; Игорь";I.Volkov@Example.com'
    data = csv_file(line, header=header)

    import_people(data, filename="people.csv", importer=None)

    volkov = user("i.volkov@example.com")
    assert volkov.email == "i.volkov@example.com"
    assert volkov.full_name == "Волков; Игорь"
    assert volkov.team.name == "Команда; вторая"
    assert volkov.team.centre.name == 'Центр "Южный"'
    assert volkov.role_names == {Role.EMPLOYEE, Role.MANAGER}


def test_comma_file_with_a_quoted_comma_in_a_name(app):
    data = csv_file(person("a@example.com", '"Морозова, Анна"'))

    import_people(data, filename="people.csv", importer=None)

    assert user("a@example.com").full_name == "Морозова, Анна"


def test_blank_lines_are_skipped_but_rows_keep_the_numbers_of_the_file(app):
    data = csv_file(person("a@example.com"), "", person("not an e-mail"), ",,,")

    assert problems_of(data) == {(4, "email")}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", None),
        (HEADER.encode() + b"\r\n", None),
        (b"email,full_name\x00\r\n", None),
        (b"\x98\xff\xfe", None),
        (csv_file(person("a@example.com"), header=HEADER + ",salary"), 1),
        (csv_file("a@example.com,Anna", header="email,full_name"), 1),
        (csv_file(person("a@example.com"), header=HEADER.replace("team", "email")), 1),
        (csv_file(person("a@example.com"), header=HEADER.replace("region", "")), 1),
        (csv_file(person("a@example.com") + ",extra"), 2),
    ],
    ids=[
        "empty", "header only", "binary", "neither utf-8 nor cp1251", "unknown column",
        "missing columns", "column twice", "column without a name", "too many values",
    ],
)  # fmt: skip
def test_files_that_cannot_be_read_are_refused_whole(app, data, problem):
    assert {row for row, _column in problems_of(data)} == {problem}


def test_unknown_and_missing_columns_are_named(app):
    data = csv_file("x", header="email,full_name,salary,Bonus")
    with app.test_request_context(headers=ENGLISH), pytest.raises(ImportRefused) as refused:
        user_import.parse(data)

    messages = " ".join(problem.message for problem in refused.value.problems)
    assert "salary, bonus" in messages
    assert "employee_number, region, centre, team, roles" in messages
    assert "manager_email" not in messages.split("Missing columns:")[1]


def test_trailing_empty_columns_and_values_are_ignored(app):
    data = csv_file(person("a@example.com") + ",,", header=HEADER + ",,")

    assert import_people(data, filename="people.csv", importer=None).created == 1


def test_manager_email_column_is_optional(app):
    header = HEADER.removesuffix(",manager_email")
    line = f"a@example.com,Анна,T-1,{REGION},{CENTRE},Команда,employee"

    assert (
        import_people(csv_file(line, header=header), filename="f.csv", importer=None).created == 1
    )


# --- every check, by row and column ----------------------------------------------------------


def test_every_problem_is_reported_by_row_and_column(app, make):
    team = make.team("Команда", centre=CENTRE, region=REGION)
    taken = make.user("taken@example.com", team=team)
    taken.employee_number = "T-TAKEN"
    make.user("plain@example.com", team=team)
    make.user("gone@example.com", roles=(Role.MANAGER,), team=team, active=False)
    db.session.commit()
    data = csv_file(
        person("ok@example.com", number="T-1"),  # 2: fine
        person("", number="T-3"),  # 3: email required
        person("not-an-email", number="T-4"),  # 4: email invalid
        person("OK@example.com", number="T-5"),  # 5: email twice in the file
        person("b@example.com", name="", number="T-6"),  # 6: full_name required
        person("c@example.com", name="x" * 201, number="T-7"),  # 7: full_name too long
        person("d@example.com", number=" "),  # 8: employee_number required
        person("e@example.com", number="T-1"),  # 9: employee number twice in the file
        person("f@example.com", number="T-TAKEN"),  # 10: someone else's number
        person("g@example.com", region=""),  # 11: region required
        person("h@example.com", centre=""),  # 12: centre required
        person("i@example.com", team=""),  # 13: team required
        person("j@example.com", roles=""),  # 14: roles required
        person("k@example.com", roles="employee,boss"),  # 15: unknown role
        person("l@example.com", manager="nobody@example.com"),  # 16: unknown manager
        person("m@example.com", manager="plain@example.com"),  # 17: not a manager
        person("n@example.com", manager="gone@example.com"),  # 18: deactivated manager
        person("o@example.com", number="x" * 65),  # 19: employee_number too long
        person("p@example.com", team="t" * 201),  # 20: team too long
    )
    before = snapshot()

    assert problems_of(data) == {
        (3, "email"), (4, "email"), (5, "email"), (6, "full_name"), (7, "full_name"),
        (8, "employee_number"), (9, "employee_number"), (10, "employee_number"), (11, "region"),
        (12, "centre"), (13, "team"), (14, "roles"), (15, "roles"), (16, "manager_email"),
        (17, "manager_email"), (18, "manager_email"), (19, "employee_number"), (20, "team"),
    }  # fmt: skip
    assert snapshot() == before


def test_problem_messages_say_what_is_wrong(app, make):
    make.user("plain@example.com")
    data = csv_file(
        person("a@example.com", number="T-1"),
        person("A@example.com", number="T-1", roles="employee,chief"),
        person("b@example.com", manager="plain@example.com"),
    )
    with app.test_request_context(headers=ENGLISH), pytest.raises(ImportRefused) as refused:
        import_people(data, filename="people.csv", importer=None)

    messages = {
        (problem.row, problem.column): problem.message for problem in refused.value.problems
    }
    assert messages[3, "email"] == "This e-mail is also on row 2."
    assert messages[3, "employee_number"] == "This employee number is also on row 2."
    assert messages[3, "roles"] == "Unknown roles: chief. Use employee, manager, hr or admin."
    assert "not a manager" in messages[4, "manager_email"]
    assert str(refused.value.problems[0]).startswith("row 3, ")


def test_an_existing_accounts_email_is_accepted_as_it_is(app, make):
    """Accounts such as the demo's ``@demo.local`` are matched without regard to case."""
    make.user("employee@demo.local")

    result = import_people(csv_file(person("Employee@Demo.local")), filename="f", importer=None)
    assert result.updated == 1


def test_an_invalid_file_writes_nothing(app, make):
    make.team("Команда", centre=CENTRE, region=REGION)
    existing = make.user("existing@example.com")
    data = csv_file(
        person("new@example.com", team="Новая", centre="Новый центр", region="Новая область"),
        person("existing@example.com", name="Новое имя", roles="employee,manager"),
        person("bad@", region="Ещё одна область"),
    )
    before = snapshot()
    counts = (User, Team, Centre, Region, RoleAssignment, AuditEvent)
    numbers = [db.session.scalar(select(func.count()).select_from(model)) for model in counts]

    with pytest.raises(ImportRefused):
        import_people(data, filename="people.csv", importer=None)
    db.session.rollback()

    assert [
        db.session.scalar(select(func.count()).select_from(model)) for model in counts
    ] == numbers
    assert snapshot() == before
    assert user("existing@example.com").full_name == existing.full_name


# --- applying --------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(app):
    data = csv_file(
        person("i.volkov@example.com", roles="employee,manager,hr"),
        person("a.morozova@example.com", manager="i.volkov@example.com"),
        person("o.kuznetsova@example.com", team="Контакт-центр", manager="i.volkov@example.com"),
    )
    first = import_people(data, filename="people.csv", importer=None)
    db.session.commit()
    before = snapshot()

    again = import_people(data, filename="people.csv", importer=None)
    db.session.commit()

    assert first == ImportResult(rows=3, created=3, updated=0, unchanged=0)
    assert again == ImportResult(rows=3, created=0, updated=0, unchanged=3)
    after = snapshot()
    assert len(after.pop("audit")) == len(before.pop("audit")) + 1
    assert after == before


def test_existing_people_are_updated_never_losing_roles_or_coming_back_to_life(app, make):
    old_team = make.team("Старая", centre=CENTRE, region=REGION)
    hr = make.user("Elena.Sokolova@Example.com", roles=(Role.HR, Role.EMPLOYEE), team=old_team)
    hr.employee_number = "T-OLD"
    gone = make.user("gone@example.com", team=old_team, active=False)
    password = hr.password_hash
    db.session.commit()
    data = csv_file(
        person("elena.sokolova@example.com", "Елена Соколова", "T-NEW", roles="employee,manager"),
        person("gone@example.com", "Ушедший Сотрудник", "T-GONE"),
    )

    result = import_people(data, filename="people.csv", importer=None)
    db.session.commit()

    assert result == ImportResult(rows=2, created=0, updated=2, unchanged=0)
    assert hr.email == "Elena.Sokolova@Example.com"
    assert hr.full_name == "Елена Соколова"
    assert hr.employee_number == "T-NEW"
    assert hr.team.name == "Работа с гражданами"
    assert hr.role_names == {Role.HR, Role.EMPLOYEE, Role.MANAGER}
    assert hr.password_hash == password
    assert gone.active is False
    assert gone.full_name == "Ушедший Сотрудник"


def test_two_people_may_swap_employee_numbers(app, make):
    team = make.team("Работа с гражданами", centre=CENTRE, region=REGION)
    first, second = make.user("a@example.com", team=team), make.user("b@example.com", team=team)
    first.employee_number, second.employee_number = "T-1", "T-2"
    db.session.commit()
    data = csv_file(person("a@example.com", number="T-2"), person("b@example.com", number="T-1"))

    import_people(data, filename="people.csv", importer=None)
    db.session.commit()

    assert (first.employee_number, second.employee_number) == ("T-2", "T-1")


def test_manager_email_links_existing_managers_and_managers_of_the_file(app, make):
    team = make.team("Работа с гражданами", centre=CENTRE, region=REGION)
    boss = make.user("boss@example.com", roles=(Role.EMPLOYEE, Role.MANAGER), team=team)
    boss.employee_number = "T-boss"
    db.session.commit()
    data = csv_file(
        # The file says only "employee": the manager role boss holds is kept, and counts.
        person("boss@example.com", boss.full_name, roles="employee"),
        person("a@example.com", manager="boss@example.com"),
        person("b@example.com", team="Контакт-центр", manager="NEW.BOSS@example.com"),
        person("new.boss@example.com", team="Контакт-центр", roles="manager"),
    )

    result = import_people(data, filename="people.csv", importer=None)
    db.session.commit()

    assert result.created == 3
    assert result.unchanged == 1
    assert boss.role_names == {Role.EMPLOYEE, Role.MANAGER}
    assert [m.email for m in user("a@example.com").team.managers] == ["boss@example.com"]
    contact = user("b@example.com").team
    assert [m.email for m in contact.managers] == ["new.boss@example.com"]
    assert user("new.boss@example.com").managed_teams == [contact]


def test_a_new_manager_link_counts_as_an_update_of_the_row(app, make):
    team = make.team("Работа с гражданами", centre=CENTRE, region=REGION)
    make.user("boss@example.com", roles=(Role.MANAGER,))
    anna = make.user("a@example.com", team=team)
    anna.employee_number = "T-a"
    db.session.commit()

    result = import_people(
        csv_file(person("a@example.com", manager="boss@example.com")), filename="f", importer=None
    )

    assert result == ImportResult(rows=1, created=0, updated=1, unchanged=0)
    assert [m.email for m in team.managers] == ["boss@example.com"]


def test_a_successful_import_writes_one_audit_entry(app, hr_world):
    importer = hr_world["admin"]
    data = csv_file(person("a@example.com"), person("employee@example.com", "Новое имя"))

    import_people(data, filename="staff.csv", importer=importer)
    db.session.commit()

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users.import"))
    assert event.action == "users.import"
    assert event.actor_id == importer.id
    assert event.details == {
        "file": "staff.csv",
        "rows": 2,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
    }


# --- who may import what ---------------------------------------------------------------------


def test_regional_hr_imports_their_own_region_only(app, hr_world):
    hr = hr_world["regional_hr"]
    data = csv_file(
        person("new@example.com", centre="Новый центр", team="Новая команда"),  # 2: fine
        person("employee@example.com", "Новое имя"),  # 3: fine, in their region
        person("x@example.com", region="Псковская область"),  # 4: another region
        person("stranger@example.com"),  # 5: works in another region now
        person("national.hr@example.com"),  # 6: in no team: not theirs to change
    )

    assert problems_of(data, importer=hr) == {(4, "region"), (5, "email"), (6, "email")}

    fine = data.decode().splitlines()[1:3]
    result = import_people(csv_file(*fine), filename="f", importer=hr)
    db.session.commit()
    assert result == ImportResult(rows=2, created=1, updated=1, unchanged=0)
    assert user("new@example.com").team.centre.name == "Новый центр"


def test_national_hr_imports_into_every_region(app, hr_world):
    data = csv_file(person("stranger@example.com", region="Псковская область", centre="Центр «Южный»", team="Контакт-центр"))  # fmt: skip

    result = import_people(data, filename="f", importer=hr_world["national_hr"])

    assert result.unchanged == 0
    assert user("stranger@example.com").employee_number == "T-stranger"


@pytest.mark.parametrize("importer", ["regional_hr", "national_hr"])
@pytest.mark.parametrize("roles", ["employee,admin", "hr", "manager,HR"])
def test_hr_may_not_give_the_hr_or_admin_role(app, hr_world, importer, roles):
    data = csv_file(person("employee@example.com", roles=roles), person("a@example.com"))

    assert problems_of(data, importer=hr_world[importer]) == {(2, "roles")}
    assert not user("employee@example.com").has_role(Role.HR, Role.ADMIN)


def test_an_admin_gives_hr_for_the_persons_region_and_never_narrows_existing_hr(app, hr_world):
    data = csv_file(
        person("new.hr@example.com", roles="employee,hr"),
        person("national.hr@example.com", roles="hr"),
        person("new.admin@example.com", roles="admin"),
    )

    import_people(data, filename="f", importer=hr_world["admin"])
    db.session.commit()

    new_hr = user("new.hr@example.com")
    region = db.session.scalar(select(Region).where(Region.name == REGION))
    assert [(a.role, a.region_id) for a in new_hr.roles if a.role == Role.HR] == [("hr", region.id)]
    national = user("national.hr@example.com")
    assert [a.region_id for a in national.roles if a.role == Role.HR] == [None]
    assert user("new.admin@example.com").role_names == {Role.ADMIN}


def test_people_without_hr_or_admin_may_not_import(app, hr_world):
    with pytest.raises(ImportRefused):
        import_people(
            csv_file(person("a@example.com")), filename="f", importer=hr_world["employee"]
        )


# --- the upload page -------------------------------------------------------------------------


def upload(client, data: bytes, *, filename: str = "people.csv", check_only: bool = False, token: bool = True):  # noqa: ANN201  # fmt: skip
    form: dict[str, object] = {"file": (io.BytesIO(data), filename)}
    if check_only:
        form["check_only"] = "y"
    if token:
        form["csrf_token"] = csrf_token(client, "/hr/import")
    return client.post("/hr/import", data=form, content_type="multipart/form-data", headers=ENGLISH)


def test_the_page_describes_the_columns_and_the_rules(client, auth, hr_world):
    auth.login("regional.hr@example.com")

    page = client.get("/hr/import", headers=ENGLISH).get_data(as_text=True)

    for column in user_import.COLUMNS:
        assert f"<code>{column}</code>" in page
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="file">' in page
    assert "never taken away" in page
    assert "no password" in page
    assert "your own region only" in page


def test_hr_imports_a_file_and_sees_the_counts(client, auth, hr_world):
    auth.login("regional.hr@example.com")
    data = csv_file(person("a@example.com"), person("employee@example.com", "Новое имя"))

    response = upload(client, data)

    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/import"
    page = client.get("/hr/import", headers=ENGLISH).get_data(as_text=True)
    assert "Imported 2 rows: 1 people created, 1 updated, 0 unchanged." in page
    assert user("a@example.com").team_id == hr_world["own"].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users.import"))
    assert event.actor_id == hr_world["regional_hr"].id
    assert event.details["file"] == "people.csv"


def test_problems_are_listed_with_400_and_nothing_is_saved(client, auth, hr_world):
    auth.login("regional.hr@example.com")
    data = csv_file(person("a@example.com"), person("stranger@example.com", roles="admin"))
    before = snapshot()

    response = upload(client, data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "The file was not imported: 2 problems. Nothing was saved." in page
    assert 'aria-describedby="file-hint import-problems-summary"' in page
    assert "<td>3</td>\n    <td><code>email</code></td>" in page
    assert "<td>3</td>\n    <td><code>roles</code></td>" in page
    assert snapshot() == before


def test_check_only_saves_nothing_and_says_what_would_change(client, auth, hr_world):
    auth.login("admin@example.com")
    before = snapshot()

    response = upload(client, csv_file(person("a@example.com")), check_only=True)

    assert response.status_code == 302
    assert snapshot() == before
    page = client.get("/hr/import", headers=ENGLISH).get_data(as_text=True)
    assert "nothing was saved. Importing it would create 1 people" in page


def test_an_upload_without_a_file_or_of_a_workbook_is_400(client, auth, hr_world):
    auth.login("admin@example.com")
    token = csrf_token(client, "/hr/import")

    missing = client.post("/hr/import", data={"csrf_token": token}, headers=ENGLISH)
    workbook = upload(client, b"PK\x03\x04", filename="people.xlsx")

    assert missing.status_code == 400
    assert "Choose a file." in missing.get_data(as_text=True)
    assert workbook.status_code == 400
    assert "Save the spreadsheet as CSV" in workbook.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client, auth, hr_world):
    auth.login("admin@example.com")
    before = snapshot()

    response = upload(client, csv_file(person("a@example.com")), token=False)

    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(("who", "status"), [("employee@example.com", 403), (None, 302)])
def test_employees_and_anonymous_people_may_not_import(client, hr_world, who, status):
    if who is not None:
        Auth(client).login(who)
        token = csrf_token(client, "/me")
    else:
        token = csrf_token(client, "/login")
    before = snapshot()
    form = {"file": (io.BytesIO(csv_file(person("a@example.com"))), "p.csv"), "csrf_token": token}

    posted = client.post("/hr/import", data=form, content_type="multipart/form-data")

    assert client.get("/hr/import").status_code == status
    assert posted.status_code == status
    assert snapshot() == before


# --- the command line ------------------------------------------------------------------------


def test_the_command_imports_a_file_and_records_it(runner, app, tmp_path: Path):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_file(person("a@example.com"), person("b@example.com")))

    result = runner.invoke(args=["users", "import", str(path)])
    again = runner.invoke(args=["users", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "2 rows: 2 created, 0 updated, 0 unchanged" in result.output
    assert again.exit_code == 0, again.output
    assert "2 rows: 0 created, 0 updated, 2 unchanged" in again.output
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "users.import").order_by(AuditEvent.id)
    ).all()
    assert [event.actor_id for event in events] == [None, None]
    assert events[0].details == {
        "file": "staff.csv",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "source": "cli",
    }


def test_the_command_lists_problems_and_fails(runner, app, tmp_path: Path):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_file(person("a@example.com"), person("bad@", roles="chief")))
    before = snapshot()

    result = runner.invoke(args=["users", "import", str(path)])

    assert result.exit_code == 1
    assert "row 3, email: " in result.stderr
    assert "row 3, roles: " in result.stderr
    assert "2 problem(s) in staff.csv; nothing was imported" in result.stderr
    assert snapshot() == before


def test_a_dry_run_saves_nothing(runner, app, tmp_path: Path):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_file(person("a@example.com")))
    before = snapshot()

    result = runner.invoke(args=["users", "import", "--dry-run", str(path)])

    assert result.exit_code == 0, result.output
    assert "1 rows: 1 created, 0 updated, 0 unchanged (dry run, nothing saved)" in result.output
    assert snapshot() == before


@pytest.mark.parametrize(
    "email",
    ["p.new@demo.local", "anna@czn.internal", "olga@центр-занятости.рф", "i.petrov@corp.example"],
)
def test_internal_and_national_domains_are_accepted(app, email):
    """Centres on a closed network use domains such as .local, which are never on the Internet."""
    result = import_people(csv_file(person(email)), filename="people.csv", importer=None)
    db.session.commit()
    assert result.created == 1
    assert db.session.scalar(select(User.email).where(User.employee_number.is_not(None))) == email


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "two@@demo.local", "space in@demo.local", "p@localhost", "p@-bad.local",
     "p@demo..local", "@demo.local", "p@"],
)  # fmt: skip
def test_malformed_addresses_are_refused(app, email):
    assert problems_of(csv_file(person(email, number="T-X"))) >= {(2, "email")}
