"""Every error under /api/ has one shape a client can rely on, documented in the OpenAPI.

{"error": {"code", "message", "fields"}} in zh-CN or English — for an unknown path,
a wrong method, a body that is not JSON or is nested too deep, a bad If-Match and an
unexpected failure alike.
"""

from __future__ import annotations

from typing import Any

import pytest

ZH = "zh-CN"


def envelope(r: Any) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], list)
    return error  # type: ignore[no-any-return]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_unknown_api_path_is_404_in_the_envelope_in_either_language(api, world):
    zh = api.as_user(world.coordinator).get("/api/v1/no-such-thing")
    en = api.as_user(world.coordinator, lang="en").get("/api/v1/no-such-thing")
    assert zh.status_code == en.status_code == 404
    assert envelope(zh)["code"] == envelope(en)["code"] == "route_not_found"
    assert has_chinese(envelope(zh)["message"]) and envelope(en)["message"].isascii()


def test_wrong_method_is_405_in_the_envelope_and_keeps_the_allow_header(api, world):
    r = api.as_user(world.coordinator).delete("/api/v1/cases")
    assert r.status_code == 405
    assert envelope(r)["code"] == "method_not_allowed"
    assert r.headers["allow"]


def test_a_body_that_is_not_json_is_422_in_the_envelope(api, world):
    r = api.as_user(world.coordinator).post("/api/v1/cases", content=b"{not json",
                                            headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    error = envelope(r)
    assert error["code"] == "json_invalid" and error["fields"] == []


def test_json_nested_too_deep_is_422_in_the_envelope(api, world):
    deep = b"[" * 100_000 + b"]" * 100_000
    r = api.as_user(world.coordinator).post("/api/v1/cases", content=deep,
                                            headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert envelope(r)["code"] == "json_too_deep"


def test_a_missing_or_non_object_body_is_not_reported_as_a_field_called_body(api, world):
    client = api.as_user(world.coordinator)
    missing = client.post("/api/v1/cases")
    assert missing.status_code == 422 and envelope(missing)["code"] == "body_required"
    text = client.post("/api/v1/cases", content=b"hello", headers={"Content-Type": "text/plain"})
    assert text.status_code == 422 and envelope(text)["code"] == "body_not_object"
    array = client.post("/api/v1/cases", json=[1, 2])
    assert array.status_code == 422
    assert all(f["field"] != "body" for f in envelope(array)["fields"])


def test_an_unexpected_failure_is_500_in_the_envelope_with_a_reference(app, api, world):
    def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/v1/_explode", explode)
    zh = api.as_user(world.coordinator).get("/api/v1/_explode")
    en = api.as_user(world.coordinator, lang="en").get("/api/v1/_explode")
    assert zh.status_code == en.status_code == 500
    assert envelope(zh)["code"] == "internal_error"
    assert has_chinese(envelope(zh)["message"]) and "reference" in envelope(en)["message"]
    assert "boom" not in zh.text  # nothing of the exception reaches the client


def test_pages_keep_their_own_errors(api, world):
    r = api.anonymous().get("/no-such-page")
    assert r.status_code == 404
    assert "error" not in r.json() or not isinstance(r.json().get("error"), dict)


# ------------------------------------------------------------------ If-Match

@pytest.mark.parametrize(("header", "status", "code"), [
    (None, 428, "precondition_required"),
    ("", 428, "precondition_required"),
    ("*", 428, "if_match_any"),
    ('"abc"', 412, "if_match_unknown"),
    ("abc", 412, "if_match_unknown"),
    ('"1", "2"', 412, "if_match_unknown"),
    ('"7"', 412, "stale"),
])
def test_if_match_that_names_no_version_we_issued_is_412_and_star_is_refused(
        api, world, make_case, header, status, code):
    case = make_case()
    headers = {} if header is None else {"If-Match": header}
    r = api.as_user(world.coordinator).patch(f"/api/v1/cases/{case.id}", json={"title": "改名"}, headers=headers)
    assert r.status_code == status
    assert envelope(r)["code"] == code
    assert api.as_user(world.coordinator).get(f"/api/v1/cases/{case.id}").json()["title"] != "改名"


@pytest.mark.parametrize("header", ['"1"', 'W/"1"', "1"])
def test_if_match_with_the_version_read_is_accepted(api, world, make_case, header):
    case = make_case()
    r = api.as_user(world.coordinator).patch(f"/api/v1/cases/{case.id}", json={"title": "改名"},
                                             headers={"If-Match": header})
    assert r.status_code == 200 and r.json()["version"] == 2


# ------------------------------------------------------------------ OpenAPI

def test_openapi_declares_the_envelope_bearer_auth_and_each_operations_error_answers(api):
    doc = api.anonymous().get("/api/v1/openapi.json").json()
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/Error"}
    checked = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            answers = op["responses"]
            for status, answer in answers.items():
                if status.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == ref, (method, path, status)
            public = (method, path) in {("post", "/api/v1/auth/login"), ("get", "/api/v1/health")}
            if public:
                assert op["security"] == []
                continue
            assert op["security"] == [{"bearer": []}], (method, path)
            assert {"401", "403"} <= set(answers), (method, path)
            if "{" in path and path.rstrip("}").split("{")[-1].endswith("_id"):
                assert "404" in answers, (method, path)
            if any(p["name"] == "If-Match" for p in op.get("parameters", [])):
                assert {"409", "412", "428"} <= set(answers), (method, path)
            if "requestBody" in op:
                assert "422" in answers, (method, path)
            checked += 1
    assert checked > 40


def test_openapi_links_lead_from_what_was_created_to_what_can_be_done_with_it(api):
    doc = api.anonymous().get("/api/v1/openapi.json").json()
    created = doc["paths"]["/api/v1/cases/{case_id}/assignments"]["post"]["responses"]["201"]["links"]
    accept = next(link for link in created.values() if link["operationId"].startswith("accept"))
    assert accept["parameters"] == {"path.assignment_id": "$response.body#/id",
                                    "header.If-Match": "$response.body#/version"}
    case_links = doc["paths"]["/api/v1/cases"]["post"]["responses"]["201"]["links"]
    assert any(link["operationId"].startswith("dispatch") for link in case_links.values())
