"""Users file, password checks and the `wzmon dashboard` / `wzmon users` commands."""
from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard import auth, server
from dashboard.cli import COMMANDS
from dashboard_seed import A, seed
from matrix.cli.root import main
from matrix.storage.db import open_db

for _cmd in COMMANDS:  # the lead's root registers dashboard.cli; make sure it is there for these tests
    main.add_command(_cmd)


def test_add_user_hashes_and_authenticates(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    auth.add_user(path, "boss", role="office", password="correct horse", rounds=4)
    auth.add_user(path, "police", role="member", password="police pass", accounts=[A], rounds=4)
    text = path.read_text(encoding="utf-8")
    assert "correct horse" not in text and "$2b$04$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    config = auth.load_users(path)
    user = auth.authenticate(config, "boss", "correct horse")
    assert user is not None and user.is_office and user.scope is None
    member = auth.authenticate(config, "police", "police pass")
    assert member is not None and member.scope == (A,)
    assert auth.authenticate(config, "boss", "wrong") is None
    assert auth.authenticate(config, "nobody", "correct horse") is None
    # replacing keeps the others
    auth.add_user(path, "boss", role="office", password="new password", rounds=4)
    config = auth.load_users(path)
    assert auth.authenticate(config, "boss", "new password") and auth.authenticate(config, "police", "police pass")


def test_yaml_users_file(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    auth.add_user(path, "police", role="member", password="police pass", accounts=[A], rounds=4)
    assert auth.authenticate(auth.load_users(path), "police", "police pass").accounts == (A,)


@pytest.mark.parametrize("body, why", [
    ('[users.x]\nrole = "admin"\npassword_hash = "$2b$04$x"\n', "role must be one of"),
    ('[users.x]\nrole = "member"\npassword_hash = "$2b$04$x"\n', "needs at least one account"),
    ('[users.x]\nrole = "office"\npassword_hash = "plain"\n', "not a bcrypt hash"),
    ('[users.x\n', "not valid TOML"),
])
def test_bad_users_file_says_why(tmp_path: Path, body: str, why: str) -> None:
    path = tmp_path / "users.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(auth.UsersFileError, match=why) as info:
        auth.load_users(path)
    assert str(path) in str(info.value)


def test_missing_users_file(tmp_path: Path) -> None:
    with pytest.raises(auth.UsersFileError, match="does not exist"):
        auth.load_users(tmp_path / "none.toml")


def test_lockout_after_repeated_failures(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    auth.add_user(path, "lock", role="office", password="right password", rounds=4)
    config = auth.load_users(path)
    for _ in range(auth.MAX_FAILURES):
        assert auth.authenticate(config, "lock", "wrong") is None
    assert auth.locked_out("lock")


def test_users_add_command(db_url: str, tmp_path: Path) -> None:
    seed(open_db(db_url))
    path = tmp_path / "users.toml"
    runner = CliRunner()
    env = {"PW": "member password"}
    r = runner.invoke(main, ["--db", db_url, "users", "add", "police", "--role", "member", "--accounts", "银川公安",
                             "--users", str(path), "--password-env", "PW"], env=env)
    assert r.exit_code == 0, r.output
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["users"]["police"]["accounts"] == [A]  # screen name resolved to its uid
    r = runner.invoke(main, ["--db", db_url, "users", "add", "x", "--role", "member", "--accounts", "没有这个号",
                             "--users", str(path), "--password-env", "PW"], env=env)
    assert r.exit_code != 0 and "not in the roster" in r.output
    r = runner.invoke(main, ["--db", db_url, "users", "add", "boss", "--role", "office", "--users", str(path)],
                      input="office password\noffice password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["users", "list", "--users", str(path)])
    assert "boss\toffice\tall" in r.output and f"police\tmember\t{A}" in r.output
    assert "$2b$" not in r.output


def test_dashboard_command_refuses_a_port_in_use(db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(main, ["--db", db_url, "dashboard", "--port", str(port)])
    assert r.exit_code != 0
    assert f"port {port} on 127.0.0.1 is already in use" in r.output
    assert "Traceback" not in r.output


def test_dashboard_command_needs_users_off_loopback(db_url: str) -> None:
    r = CliRunner().invoke(main, ["--db", db_url, "dashboard", "--host", "0.0.0.0", "--port", str(server.free_port())])
    assert r.exit_code != 0 and "without sign-in" in r.output


def test_dashboard_command_reports_a_bad_users_file(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "users.toml"
    bad.write_text('[users.x]\nrole = "nobody"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["--db", db_url, "dashboard", "--users", str(bad)])
    assert r.exit_code != 0 and "role must be one of" in r.output
