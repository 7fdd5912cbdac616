"""Schemathesis over the OpenAPI, signed in as a coordinator: no server error, no answer off the schema.

Two runs, both bounded and derandomized (the same examples on every run, so CI
is repeatable):

- every operation on its own, with and without the token: no 5xx, no route
  that works without a token, and every answer — status, content type and
  body — as the document declares it (errors included: the envelope);
- stateful: the document's links are followed (create a case, dispatch on
  it, accept what was dispatched with the version just read, …), with the same
  checks on every step.

Operations are driven with Hypothesis inside ordinary tests (the schemathesis
pytest plugin does not collect under this pytest), so a failure names the
operation and the example.
"""

from __future__ import annotations

import contextlib
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import stateful
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.api.openapi import PUBLIC

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _check(case: Any, response: Any, failures: list[str]) -> None:
    try:
        case.validate_response(response, checks=CHECKS)
    except (FailureGroup, AssertionError) as exc:
        first = str(exc).strip().splitlines()[:6]
        failures.append(f"{case.method.upper()} {case.path} {case.path_parameters} → {response.status_code}: "
                        + " | ".join(first))


def _exercise(operation: Any, token: str, failures: list[str]) -> None:
    public = (operation.method.lower(), operation.path) in PUBLIC

    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def exercise(case) -> None:  # type: ignore[no-untyped-def]
        if not public:
            anonymous = case.call()
            if anonymous.status_code not in (401, 422):
                failures.append(f"auth bypass: {case.method} {case.path} → {anonymous.status_code}")
            _check(case, anonymous, failures)
        case.headers = {**(case.headers or {}), "Authorization": token}
        _check(case, case.call(), failures)

    exercise()


def _schema(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_every_operation_alone_gives_no_server_error_no_auth_bypass_and_keeps_to_the_schema(
        app, api, world, make_case, dispatch):  # type: ignore[no-untyped-def]
    case_row = make_case(shared=("XFXH",))
    dispatch(case_row, "XFXH")
    token = api.as_user(world.coordinator).headers["Authorization"]
    operations = [result.ok() for result in _schema(app).get_all_operations()]
    assert len(operations) > 40
    failures: list[str] = []

    for operation in operations:
        _exercise(operation, token, failures)
    assert not failures, "\n".join(sorted(set(failures))[:30])


def test_following_the_links_gives_no_server_error_and_keeps_to_the_schema(
        app, api, world, monkeypatch):  # type: ignore[no-untyped-def]
    # Schemathesis guesses which operations may start a scenario from resource names it
    # derives from field names (lead_department_id → "LeadDepartment"); finding no
    # producer of those, it would never start from POST /cases.  Here every creation
    # and every list may start one; what acts on an object starts from a link to it.
    monkeypatch.setattr(stateful, "is_likely_root_transition",
                        lambda operation, _node, _produced: operation.method in ("get", "post")
                        and not operation.path_parameters)
    token = api.as_user(world.coordinator).headers["Authorization"]
    failures: list[str] = []
    reached: set[tuple[str, str]] = set()

    # The chains worth walking: what a coordinator creates and then acts on (departments and
    # users are there because cases and dispatches name them).  Uploads are left to the run
    # above.  Valid inputs only, without NUL (refused, see test_validation): invalid ones stop
    # a chain at its first step, and the run above sends those to every operation.
    walked = r"^/api/v1/(cases|assignments|inspections|campaigns|departments|users)(/|$)"
    schema = _schema(app).include(path_regex=walked).exclude(path_regex=r"/attachments")
    schema.config.generation.update(modes=["positive"], allow_x00=False)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": token}}

        def before_call(self, case: Any) -> None:
            # A link's If-Match comes from the body's `version`, a JSON number; a header is
            # text, and the HTTP client refuses anything else before the request is sent.
            if case.headers:
                case.headers = {k: v if isinstance(v, str) else str(v) for k, v in case.headers.items()}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            if 200 <= response.status_code < 300 and "{" in case.path:
                reached.add((case.method.upper(), case.path))
            _check(case, response, failures)

    # The server keeps what earlier scenarios created, so a replayed scenario may find a
    # list that was empty the first time; Hypothesis then stops, calling its own data
    # "flaky".  What every step answered was checked all the same (failures below).
    # Whether one of a run's scenarios gets as far as acting on what it created depends on the
    # chains Schemathesis draws from the OpenAPI document and on what the server already holds;
    # in the whole suite a run has ended without one (not alone).  So a run that reached nothing
    # is followed by another on the same server, up to three: each step of each is checked.
    for _run in range(3):
        with contextlib.suppress(FlakyStrategyDefinition):
            run_state_machine_as_test(Workflow, settings=settings(
                max_examples=20, stateful_step_count=8, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck),
            ))
        if reached:
            break
    assert not failures, "\n".join(sorted(set(failures))[:30])
    # The links were followed: something created was then read or acted on through its id.
    assert reached, "no operation on a created object answered 2xx"
