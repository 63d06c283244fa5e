"""ACL users end to end with redis-py, against redis-server and shoal-server
alike (the ``any_server`` fixture): what applications that use ACL users see.
"""

from __future__ import annotations

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def client(server, **kw) -> redis.Redis:
    kw.setdefault("retry", Retry(NoBackoff(), 0))
    return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10,
                       decode_responses=True, **kw)


@pytest.fixture
def admin(any_server):
    r = client(any_server)
    r.flushall()
    for name in r.acl_users():
        if name != "default":
            r.acl_deluser(name)
    r.acl_log_reset()
    yield r
    r.close()


def test_an_acl_user_confined_to_its_keys(any_server, admin):
    assert admin.acl_setuser("app1", enabled=True, passwords=["+s3cret"],
                             keys=["app1:*"], commands=["+@all"])
    admin.set("other", "x")
    app = client(any_server, username="app1", password="s3cret")
    assert app.acl_whoami() == "app1"
    assert app.set("app1:greeting", "hello")
    assert app.get("app1:greeting") == "hello"
    assert app.incr("app1:counter") == 1
    assert app.hset("app1:h", "f", "v") == 1
    assert app.mget("app1:greeting", "app1:none") == ["hello", None]
    with pytest.raises(redis.exceptions.NoPermissionError) as e:
        app.get("other")
    assert str(e.value) == "this user has no permissions to access one of the keys used as arguments"
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.set("other", "y")
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.mget("app1:greeting", "other")
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.rename("app1:greeting", "elsewhere")
    assert admin.get("other") == "x"
    # The denials are in the ACL log, newest first.
    log = admin.acl_log()
    assert [(e["reason"], e["object"], e["username"]) for e in log] == [
        ("key", "elsewhere", "app1"), ("key", "other", "app1"),
        ("key", "other", "app1"), ("key", "other", "app1")][:len(log)]
    assert log[0]["context"] == "toplevel"
    app.close()


def test_command_permissions_and_categories(any_server, admin):
    admin.acl_setuser("ro", enabled=True, passwords=["+pw"], keys=["*"],
                      commands=["-@all", "+@read", "+@connection"])
    ro = client(any_server, username="ro", password="pw")
    admin.set("k", "v")
    assert ro.get("k") == "v"
    assert ro.ping()
    with pytest.raises(redis.exceptions.NoPermissionError) as e:
        ro.set("k", "w")
    assert str(e.value) == "this user has no permissions to run the 'set' command"
    with pytest.raises(redis.exceptions.NoPermissionError) as e:
        ro.config_get("maxmemory")
    assert str(e.value) == "this user has no permissions to run the 'config|get' command"
    assert admin.acl_dryrun("ro", "get", "k") == "OK"
    assert admin.acl_dryrun("ro", "set", "k", "v") == \
        "This user has no permissions to run the 'set' command"
    user = admin.acl_getuser("ro")
    assert user["flags"] == ["on"]
    assert user["keys"] == ["~*"]
    line = next(l for l in admin.acl_list() if l.startswith("user ro "))
    assert set(line.split()[6:]) == {"-@all", "+@read", "+@connection"}
    ro.close()


def test_auth_errors_and_disabled_users(any_server, admin):
    admin.acl_setuser("u", enabled=True, passwords=["+right"], commands=["+@all"], keys=["*"])
    with pytest.raises(redis.exceptions.AuthenticationError):
        client(any_server, username="u", password="wrong").ping()
    assert client(any_server, username="u", password="right").ping()
    admin.acl_setuser("u", enabled=False)
    with pytest.raises(redis.exceptions.AuthenticationError):
        client(any_server, username="u", password="right").ping()
    entry = admin.acl_log()[0]
    assert (entry["reason"], entry["username"]) == ("auth", "u")


def test_deleting_a_user_disconnects_its_clients(any_server, admin):
    admin.acl_setuser("gone", enabled=True, passwords=["+pw"], commands=["+@all"], keys=["*"])
    c = client(any_server, username="gone", password="pw")
    assert c.ping()
    assert admin.acl_deluser("gone") == 1
    with pytest.raises((redis.exceptions.ConnectionError,
                        redis.exceptions.AuthenticationError)):
        c.ping()


def test_requirepass_is_the_default_users_password(server_factory, kind):
    s = server_factory.start(kind, "--requirepass", "topsecret")
    r = client(s, password="topsecret")
    assert r.acl_whoami() == "default"
    passwords = r.acl_getuser("default")["passwords"]
    assert len(passwords) == 1 and len(passwords[0]) == 64
    with pytest.raises(redis.exceptions.AuthenticationError):
        client(s, password="nope").ping()


def test_acl_save_and_load(server_factory, kind, tmp_path):
    aclfile = tmp_path / "users.acl"
    aclfile.write_text("user default on nopass ~* &* +@all\n"
                       "user filed on #" + "a" * 64 + " ~f:* resetchannels -@all +get\n")
    s = server_factory.start(kind, "--aclfile", str(aclfile))
    r = client(s)
    assert r.acl_users() == ["default", "filed"]
    assert r.acl_getuser("filed")["passwords"] == ["a" * 64]
    r.acl_setuser("added", enabled=True, nopass=True, commands=["+ping"])
    assert r.acl_save()
    text = aclfile.read_text().splitlines()
    assert text == ["user added on nopass resetchannels -@all +ping",
                    "user default on nopass ~* &* +@all",
                    "user filed on #" + "a" * 64 + " ~f:* resetchannels -@all +get"]
    aclfile.write_text("user default on nopass ~* &* +@all\nuser only on nopass +@all\n")
    assert r.acl_load()
    assert r.acl_users() == ["default", "only"]
    aclfile.write_text("user default on nopass ~* &* +@all\nuser bad on +nosuchcommand\n")
    with pytest.raises(redis.exceptions.ResponseError) as e:
        r.acl_load()
    assert str(e.value) == (f"{aclfile}:2: Error in applying operation '+nosuchcommand': "
                            "Unknown command or category name in ACL. WARNING: ACL errors "
                            "detected, no change to the previously active ACL rules was performed")
    assert r.acl_users() == ["default", "only"]


def test_users_from_the_config_file(server_factory, kind):
    conf = ("user default on nopass ~* &* +@all\n"
            "user worker on >wpass ~jobs:* +@list +@connection\n")
    s = server_factory.start(kind, config_text=conf)
    w = client(s, username="worker", password="wpass")
    assert w.lpush("jobs:1", "a") == 1
    with pytest.raises(redis.exceptions.NoPermissionError):
        w.set("jobs:2", "x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        w.lpush("other", "a")
