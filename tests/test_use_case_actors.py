"""Authorization lives in the use cases: called directly with a non-admin actor they refuse (403),
the API still answers 403, and the command line acts as the system administrator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from services.cli import app as cli_app
from shared.actors import SYSTEM
from shared.calendar import service as calendar
from shared.errors import Forbidden, InvalidTransition
from shared.events.models import Event
from shared.outbox import admin as outbox_admin
from shared.outbox.models import OutboxState
from shared.users import service as users
from shared.users.models import Role, User
from tests.factories import World
from tests.test_outbox_relay import put


def _not_admins(world: World) -> list[User]:
    return [world.coordinator, world.leader, world.head("XFXH"), world.liaison("XFXH")]


def _new_user(session: Session, clock: Any, actor: Any, username: str, department_id: int) -> User:
    return users.create_user(session, clock, actor, username=username, name="新用户", email=f"{username}@gov.example",
                             department_id=department_id, role=Role.LIAISON, password="long-enough-1")


def test_create_user_refuses_anyone_but_an_admin(session: Session, clock, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor in _not_admins(world):
        with pytest.raises(Forbidden) as refused:
            _new_user(session, clock, actor, f"by_{actor.username}", world.dept("XFXH").id)  # type: ignore[arg-type]
        assert refused.value.status == 403
    xfxh = world.dept("XFXH").id
    assert _new_user(session, clock, world.admin, "by_admin", xfxh).id is not None  # type: ignore[arg-type]
    assert _new_user(session, clock, SYSTEM, "by_system", xfxh).id is not None  # type: ignore[arg-type]


def test_the_api_still_answers_403_for_creating_users(api, world: World) -> None:  # type: ignore[no-untyped-def]
    body = {"username": "zhang_new", "name": "张新", "email": "zhang_new@gov.example",
            "department_id": world.dept("XFXH").id, "role": "liaison", "password": "long-enough-1"}
    for actor in _not_admins(world):
        assert api.as_user(actor).post("/api/v1/users", json=body).status_code == 403
    assert api.as_user(world.admin).post("/api/v1/users", json=body).status_code == 201


OUTBOX_CALLS: dict[str, Callable[[Session, Any, Any, int], object]] = {
    "counts": lambda s, c, actor, mid: outbox_admin.counts(s, actor),
    "list_messages": lambda s, c, actor, mid: outbox_admin.list_messages(s, actor),
    "ids_in_state": lambda s, c, actor, mid: outbox_admin.ids_in_state(s, actor, OutboxState.PENDING),
    "get_message": lambda s, c, actor, mid: outbox_admin.get_message(s, actor, mid),
    "retry": lambda s, c, actor, mid: outbox_admin.retry(s, c, actor, mid),
    "discard": lambda s, c, actor, mid: outbox_admin.discard(s, c, actor, mid),
}


@pytest.mark.parametrize("name", sorted(OUTBOX_CALLS))
def test_outbox_admin_refuses_anyone_but_an_admin(name: str, engine, session: Session, clock,  # type: ignore[no-untyped-def]
                                                  world: World) -> None:
    [message_id] = put(engine, clock, 1)
    call = OUTBOX_CALLS[name]
    for actor in _not_admins(world):
        with pytest.raises(Forbidden):
            call(session, clock, actor, message_id)
    for actor in (world.admin, SYSTEM):
        session.rollback()
        try:
            call(session, clock, actor, message_id)
        except InvalidTransition:  # allowed to ask; a pending message simply cannot be resent
            assert name == "retry"


def test_outbox_retry_by_the_system_is_audited_without_a_user(engine, session: Session, clock,  # type: ignore[no-untyped-def]
                                                              world: World) -> None:
    [message_id] = put(engine, clock, 1)
    outbox_admin.discard(session, clock, SYSTEM, message_id)
    session.commit()
    event = session.scalars(select(Event).where(Event.object_type == "outbox_message")).one()  # type: ignore[arg-type]
    assert (event.action, event.actor_id) == ("outbox.discard", None)


def test_calendar_warnings_are_for_admins(session: Session, clock, world: World, api) -> None:  # type: ignore[no-untyped-def]
    for actor in _not_admins(world):
        with pytest.raises(Forbidden):
            calendar.calendar_warnings(session, clock, actor)
        assert api.as_user(actor).get("/api/v1/calendar/status").status_code == 403
    calendar.calendar_warnings(session, clock, world.admin)
    session.commit()  # ends the read (SQLite holds a lock until then); a rollback would expire the world
    assert api.as_user(world.admin).get("/api/v1/calendar/status").status_code == 200


def test_the_cli_acts_as_the_system_admin(cli, engine, world: World) -> None:  # type: ignore[no-untyped-def]
    r = cli.invoke(cli_app, ["user", "add", "wang_cli", "--name", "王命令", "--email", "wang_cli@gov.example",
                             "--department", "XFXH", "--role", "liaison"], input="long-enough-1\nlong-enough-1\n")
    assert r.exit_code == 0, r.output
    with Session(engine) as s:
        created = s.scalars(select(User).where(User.username == "wang_cli")).one()  # type: ignore[arg-type]
        event = s.scalars(select(Event).where(Event.object_type == "user", Event.object_id == created.id)).one()  # type: ignore[arg-type]
    assert (event.action, event.actor_id) == ("created", None)  # the system, not a person
