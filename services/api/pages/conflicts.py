"""Edit conflicts on page forms: someone else changed the record first; nothing typed is lost.

A page that shows a form carrying a record's version also puts a ``Snapshot`` of
that record in its context: the fields the page shows (name, label, value), and
the newest timeline event of the record.  The ``hidden(version)`` macro writes
the snapshot's fingerprint (``seen``: the newest event id and a short digest of
each field) next to the version, so the form remembers what its reader saw
without the page storing anything.

Every refused page form goes through ``refuse``.  When the refusal is a stale
version, or the record no longer matches what the form's page showed, the page
is drawn again with an ``EditConflict`` beside the form:

* their side: the record's current values, the fields that changed since the
  form was read highlighted, and who did what since (the timeline events after
  the newest one the reader saw);
* your side: everything you typed, labelled;
* the form itself, filled in with what you typed, carrying the current version
  and a fresh one-time token: sending it again applies your input to the record
  as it is now.  When the record's new state no longer offers that form, your
  text is still shown, to copy.

Handlers of new page forms call ``refuse`` in their ``except`` and add a snapshot
to their page context; the templates need nothing else (``_base.html`` shows the
panel, ``_macros.hidden`` writes ``seen``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col

from services.api.pages import timeline
from services.api.pages.common import (
    FORM_TOKEN_FIELD,
    Flash,
    Page,
    department_names,
    error_page,
    error_text,
    field_label,
    html,
    login_redirect,
)
from shared.errors import DomainError, NotFound, Stale, Unauthorized
from shared.events.models import Event
from shared.i18n import N_
from shared.users.names import user_names

SEEN_FIELD = "seen"
# Posted alongside what the user typed, never typed by them.
TECHNICAL = frozenset({FORM_TOKEN_FIELD, "version", SEEN_FIELD, "decision"})
MAX_EVENTS = 20
_DIGEST_CHARS = 8


@dataclass(frozen=True)
class Shown:
    """One field of a record as its page shows it."""

    name: str  # stable: the fingerprint is keyed by it
    label: str  # in the reader's language
    value: str  # as shown, in the reader's language
    raw: str | None = None  # what is compared, when the shown text depends on the language

    @property
    def digest(self) -> str:
        text = f"{self.name}\0{self.value if self.raw is None else self.raw}"
        return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode()[:_DIGEST_CHARS]


@dataclass(frozen=True)
class EventScope:
    """Which timeline events belong to the record: one object's, or a whole case's."""

    case_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None

    def where(self) -> list[Any]:
        if self.case_id is not None:
            return [col(Event.case_id) == self.case_id]
        return [col(Event.object_type) == self.object_type, col(Event.object_id) == self.object_id]


@dataclass
class Snapshot:
    fields: list[Shown]
    events: EventScope | None = None
    last_event_id: int = 0

    @cached_property
    def seen(self) -> str:
        """The fingerprint a form carries: ``e=<newest event id>;<name>=<digest>;…``."""
        return ";".join([f"e={self.last_event_id}", *(f"{f.name}={f.digest}" for f in self.fields)])


def snapshot(session: Session, fields: list[Shown], events: EventScope | None = None, *,
             last_event_id: int | None = None) -> Snapshot:
    """A record's snapshot; with EVENTS, it also remembers the newest of its timeline events.

    LAST_EVENT_ID: that newest event's id (0 for none), when the caller has read them all."""
    last = 0
    if events is not None:
        last = last_event_id if last_event_id is not None else int(
            session.scalar(select(func.max(col(Event.id))).where(*events.where())) or 0)
    return Snapshot(fields=fields, events=events, last_event_id=last)


def parse_seen(raw: str | None) -> tuple[int, dict[str, str]] | None:
    """The newest event id and the field digests a form posted; None when it posted none or garbage."""
    if not raw or len(raw) > 4000:
        return None
    pairs = dict(part.split("=", 1) for part in raw.split(";") if "=" in part)
    event = pairs.pop("e", "")
    if not event.isdigit() or len(event) > 18:
        return None
    return int(event), pairs


@dataclass
class EditConflict:
    form: str  # the form's name; its element id is "form-<name>"
    current: list[Shown]  # the record now
    changed: set[str]  # names of the fields that differ from what the form's page showed
    known: bool  # whether the form said what it showed (else nothing is highlighted)
    events: list[timeline.Line]  # who did what since the form's page was drawn
    yours: list[tuple[str, str]]  # (label, text) of what was typed
    offered: bool  # the form is on the page again, filled in, against the current version

    @property
    def changes(self) -> list[Shown]:
        return [f for f in self.current if f.name in self.changed]

    @property
    def unchanged(self) -> list[Shown]:
        return [f for f in self.current if f.name not in self.changed]


def _events_since(page: Page, scope: EventScope, after_id: int) -> list[timeline.Line]:
    rows = list(page.session.scalars(select(Event).where(*scope.where(), col(Event.id) > after_id)
                                     .order_by(col(Event.id)).limit(MAX_EVENTS)))
    if not rows:
        return []
    people = user_names(page.session, {e.actor_id for e in rows})
    return timeline.lines(rows, page.lang, page.settings.timezone, department_names(page.session), people)


def typed(form: Mapping[str, str], kept: Collection[str] | None = None) -> dict[str, str]:
    """What the user typed into the form: never the token, version or fingerprint, never a password."""
    return {k: v for k, v in form.items()
            if k not in TECHNICAL and "password" not in k and (kept is None or k in kept)}


def find_conflict(page: Page, exc: DomainError | ValidationError, form_name: str, form: Mapping[str, str],
                  context: Mapping[str, Any], values: Mapping[str, str], offered: bool,
                  choices: Mapping[str, Mapping[str, str]], defaults: Mapping[str, str]) -> EditConflict | None:
    """The conflict to show, when the version was stale or the record moved on since the form was read."""
    shot = context.get("snapshot")
    if not isinstance(shot, Snapshot):
        return None
    posted = parse_seen(form.get(SEEN_FIELD))
    stale = isinstance(exc, Stale)
    if posted is None:
        if not stale:
            return None
        changed: set[str] = set()
        events: list[timeline.Line] = []
    else:
        last_event, digests = posted
        changed = {f.name for f in shot.fields if digests.get(f.name) != f.digest}
        moved = bool(changed) or last_event != shot.last_event_id
        if not (stale or moved):
            return None
        events = _events_since(page, shot.events, last_event) if shot.events is not None else []
    yours = [(field_label(page, name), choices.get(name, {}).get(value, value))
             for name, value in values.items() if value.strip() and value.strip() != defaults.get(name)]
    return EditConflict(form=form_name, current=shot.fields, changed=changed, known=posted is not None,
                        events=events, yours=yours, offered=offered)


def refuse(page: Page, exc: DomainError | ValidationError, *, form: Mapping[str, str], form_name: str,
           template: str, context: Callable[[], dict[str, Any]],
           offered: Callable[[dict[str, Any]], bool] = lambda _context: True,
           kept: Collection[str] | None = None,
           choices: Mapping[str, Mapping[str, str]] | None = None,
           defaults: Mapping[str, str] | None = None) -> Response:
    """A page form was refused (the caller rolled its change back): draw the page again, input kept.

    The reason is said at the top; on a conflict (see the module's docstring) the
    conflict panel shows their change next to what was typed.  CONTEXT builds the
    page's context as it is now; OFFERED says whether that context shows the
    form again; KEPT names the fields that may be written back (default: every
    field typed, passwords never); CHOICES turns a posted choice into its label;
    DEFAULTS are the values the form starts with, left out of "what you typed".
    """
    if isinstance(exc, Unauthorized):
        return login_redirect(page)
    if isinstance(exc, NotFound):
        return error_page(page, 404, "not_found")
    status = exc.status if isinstance(exc, DomainError) else 422
    values = typed(form, kept)
    try:
        values_context = context()
    except NotFound:
        # The record went out of this user's reach meanwhile: still give back what they typed.
        page.session.rollback()
        lost = EditConflict(form=form_name, current=[], changed=set(), known=False, events=[],
                            yours=[(field_label(page, k), v) for k, v in values.items() if v.strip()], offered=False)
        return html(page, "error.html", status=404, status_code=404, message=page.gettext("not_found"),
                    conflict=lost if lost.yours else None)
    conflict = find_conflict(page, exc, form_name, form, values_context, values, offered(values_context),
                             choices or {}, defaults or {})
    if conflict is not None and isinstance(exc, Stale):
        page.flashes.append(Flash("error", page.gettext(N_("page.conflict.flash"))))
    else:
        page.flashes.append(Flash("error", error_text(page, exc)))
    values_context.update(open_form=form_name, values=values, conflict=conflict)
    return html(page, template, status=status, **values_context)
