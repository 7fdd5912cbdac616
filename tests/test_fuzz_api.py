"""Schemathesis over the OpenAPI, signed in: no input gives a 500, and no route works without a token.

Operations are driven one by one with Hypothesis inside a single test (the
schemathesis pytest plugin does not collect under this pytest), so a failure
names the operation and the example.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/health")}


def test_no_server_error_and_no_auth_bypass(app, api, world, make_case, dispatch):  # type: ignore[no-untyped-def]
    case_row = make_case(shared=("XFXH",))
    dispatch(case_row, "XFXH")
    token = api.as_user(world.coordinator).headers["Authorization"]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []

    for operation in operations:

        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            key = (case.method.upper(), case.path)
            anonymous = case.call()
            if key not in PUBLIC and anonymous.status_code not in (401, 422):
                failures.append(f"auth bypass: {key} → {anonymous.status_code}")
            case.headers = {**(case.headers or {}), "Authorization": token}
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"server error: {key} {case.path_parameters} {case.query} → "
                                f"{response.status_code} {response.text[:200]}")

        exercise()
    assert not failures, "\n".join(sorted(set(failures))[:30])
