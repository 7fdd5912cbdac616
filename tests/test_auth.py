from __future__ import annotations


def test_login_returns_token_and_me_answers(api, world):
    client = api.as_user(world.liaison("XFXH"))
    r = client.get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["username"] == "liaison_xfxh"


def test_wrong_password_is_401_in_chinese(api, world):
    r = api.anonymous().post("/api/v1/auth/login", json={"username": "coordinator", "password": "nope"})
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "用户名或密码错误"


def test_throttle_only_the_attacked_account(api, world):
    client = api.anonymous()
    codes = [client.post("/api/v1/auth/login", json={"username": "coordinator", "password": "x"}).status_code
             for _ in range(10)]
    assert codes[0] == 401 and codes[-1] == 429
    r = client.post("/api/v1/auth/login", json={"username": "coordinator", "password": "password123"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    other = client.post("/api/v1/auth/login", json={"username": "leader", "password": "password123"})
    assert other.status_code == 200


def test_no_token_is_401(api, world):
    assert api.anonymous().get("/api/v1/me").status_code == 401


def test_preferences_language_digest_and_opt_outs(api, world):
    client = api.as_user(world.liaison("XFXH"))
    me = client.get("/api/v1/me").json()
    r = client.patch("/api/v1/me/preferences", headers={"If-Match": f'"{me["version"]}"'},
                     json={"language": "en", "notify_mode": "immediate", "notify_opt_out": ["due_soon"]})
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "en" and r.json()["notify_opt_out"] == ["due_soon"]
    refused = client.patch("/api/v1/me/preferences", headers={"If-Match": f'"{r.json()["version"]}"'},
                           json={"notify_opt_out": ["escalation"]})
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "notify_opt_out"
    unknown = client.patch("/api/v1/me/preferences", headers={"If-Match": f'"{r.json()["version"]}"'},
                           json={"notify_opt_out": ["everything"]})
    assert unknown.status_code == 422
    assert client.get("/api/v1/me").json()["notify_opt_out"] == ["due_soon"]
