"""Who may export real citizen ids (`identified`) and which accounts a user may export.

Rule: only the `office` role (the coordinating cyberspace office) may export identified data.
- Python API: the caller (the dashboard) passes the logged-in user's role; identified=True with any other
  role raises ExportPermissionError.
- CLI: `--identified` needs the role from env WZMON_ROLE=office, or `--as-user NAME` naming an office
  user in the dashboard users file (env WZMON_USERS, as the board reads it; else ~/.config/wzmon/users.toml
  or users.yaml), whose bcrypt password is asked for (or read from env WZMON_PASSWORD).
  A member user named with --as-user is also limited to their `accounts`.
This is a guard against accidents, not a wall: anyone who can read the database can read the raw ids.
"""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matrix.export.errors import ExportError, ExportPermissionError

IDENTIFIED_ROLES = frozenset({"office"})
ROLE_ENV = "WZMON_ROLE"
USERS_ENV = "WZMON_USERS"  # the dashboard's variable (dashboard/auth.py)
PASSWORD_ENV = "WZMON_PASSWORD"


@dataclass
class User:
    name: str
    role: str
    account_uids: list[str] = field(default_factory=list)
    password_hash: str | None = None


def require_identified_role(role: str | None) -> None:
    if role not in IDENTIFIED_ROLES:
        raise ExportPermissionError(
            f"identified exports (real citizen ids and names) need the office role; this request has role {role or 'none'!r}"
        )


def users_file() -> Path:
    named = os.environ.get(USERS_ENV)
    if named:
        return Path(named).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "wzmon"
    for name in ("users.toml", "users.yaml", "users.yml", "users.json"):
        if (base / name).exists():
            return base / name
    return base / "users.toml"


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return tomllib.loads(text)  # the board's default format


def load_user(name: str, path: Path | None = None) -> User:
    """The user NAME from the users file. Accepts {users: [...]} / {users: {name: {...}}} / a bare list or map."""
    path = path or users_file()
    if not path.exists():
        raise ExportError(f"no dashboard users file at {path} (set {USERS_ENV} to its path)")
    try:
        data = _parse(path)
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one sentence
        raise ExportError(f"cannot read users file {path}: {exc}") from exc
    if isinstance(data, dict) and "users" in data:
        data = data["users"]
    records: list[dict[str, Any]] = []
    if isinstance(data, dict):
        records = [dict(v or {}, name=k) for k, v in data.items()]
    elif isinstance(data, list):
        records = [r for r in data if isinstance(r, dict)]
    for rec in records:
        rec_name = rec.get("name") or rec.get("username") or rec.get("user")
        if rec_name == name:
            return User(
                name=name,
                role=str(rec.get("role", "")),
                account_uids=[str(u) for u in rec.get("account_uids", rec.get("accounts", [])) or []],
                password_hash=rec.get("password_hash"),
            )
    raise ExportError(f"user {name!r} is not in the users file {path}")


def check_password(user: User, password: str) -> None:
    """Raises unless PASSWORD matches the user's bcrypt hash (users without one cannot sign in here)."""
    if not user.password_hash:
        raise ExportPermissionError(f"user {user.name!r} has no password in the users file, so the command line cannot check who you are")
    import bcrypt

    try:
        ok = bcrypt.checkpw(password.encode("utf-8"), user.password_hash.encode("utf-8"))
    except ValueError:
        ok = False
    if not ok:
        raise ExportPermissionError(f"wrong password for user {user.name!r}")
