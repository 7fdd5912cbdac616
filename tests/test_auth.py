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
    for _ in range(10):
        assert client.post("/api/v1/auth/login", json={"username": "coordinator", "password": "x"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "coordinator", "password": "password123"})
    assert r.status_code == 429
    other = client.post("/api/v1/auth/login", json={"username": "leader", "password": "password123"})
    assert other.status_code == 200


def test_no_token_is_401(api, world):
    assert api.anonymous().get("/api/v1/me").status_code == 401
