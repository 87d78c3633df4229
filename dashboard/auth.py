"""Who may sign in to the board and what they see: a users file with bcrypt-hashed passwords.

The file (TOML, or YAML by extension .yaml/.yml) looks like::

    [users.office]
    role = "office"                 # sees every account
    password_hash = "$2b$12$..."
    display_name = "问政办"

    [users.police]
    role = "member"                 # sees only its own accounts
    accounts = ["1001", "1002"]     # account uids
    password_hash = "$2b$12$..."
    email = "police@example.cn"     # optional: matched when signing in through OIDC

    [oidc]                          # optional: offer st.login (needs [auth] in .streamlit/secrets.toml)
    enabled = true
    provider = ""                   # "" = the default [auth] provider, else its name

Write entries with `wzmon users add NAME --role ... --accounts ...`, never by hand-hashing.
"""
from __future__ import annotations

import os
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt

ROLES = ("office", "member")
USERS_ENV = "WZMON_USERS"
# A real bcrypt hash of a random string: unknown names cost as much time as known ones.
_DUMMY_HASH = bcrypt.hashpw(b"wzmon-no-such-user", bcrypt.gensalt(rounds=12))


class UsersFileError(Exception):
    """The users file is missing or wrong; the message names the file, the entry and what to fix."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    accounts: tuple[str, ...] = ()
    display_name: str = ""
    email: str = ""

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def scope(self) -> tuple[str, ...] | None:
        """None = all accounts (office); a tuple = only these account uids (member)."""
        return None if self.is_office else tuple(self.accounts)

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass
class UsersConfig:
    path: Path
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    oidc: dict[str, Any] = field(default_factory=dict)

    def user(self, name: str) -> User | None:
        entry = self.users.get(name)
        if entry is None:
            return None
        return User(
            name=name,
            role=entry["role"],
            accounts=tuple(str(a) for a in entry.get("accounts", [])),
            display_name=str(entry.get("display_name", "")),
            email=str(entry.get("email", "")),
        )

    def by_email(self, email: str) -> User | None:
        email = (email or "").strip().lower()
        if not email:
            return None
        for name, entry in self.users.items():
            if str(entry.get("email", "")).strip().lower() == email or name.lower() == email:
                return self.user(name)
        return None

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc.get("enabled"))


def _parse(path: Path, text: str) -> dict[str, Any]:
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise UsersFileError(f"users file {path}: not valid YAML ({exc})") from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsersFileError(f"users file {path}: not valid TOML ({exc})") from exc
    if not isinstance(data, dict):
        raise UsersFileError(f"users file {path}: expected a table with [users.NAME] entries")
    return data


def validate(path: Path, data: dict[str, Any]) -> UsersConfig:
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise UsersFileError(f"users file {path}: 'users' must be a table of [users.NAME] entries")
    for name, entry in users.items():
        where = f"users file {path}, entry [users.{name}]"
        if not isinstance(entry, dict):
            raise UsersFileError(f"{where}: must be a table with role and password_hash")
        role = entry.get("role")
        if role not in ROLES:
            raise UsersFileError(f"{where}: role must be one of {', '.join(ROLES)}, not {role!r}")
        h = entry.get("password_hash")
        if h is not None and (not isinstance(h, str) or not h.startswith("$2")):
            raise UsersFileError(f"{where}: password_hash is not a bcrypt hash (write it with `wzmon users add`)")
        if h is None and not entry.get("email") and "@" not in name:
            raise UsersFileError(f"{where}: needs a password_hash (or an email for OIDC sign-in)")
        accounts = entry.get("accounts", [])
        if not isinstance(accounts, list):
            raise UsersFileError(f"{where}: accounts must be a list of account uids")
        if role == "member" and not accounts:
            raise UsersFileError(f"{where}: a member user needs at least one account uid in accounts")
    oidc = data.get("oidc", {})
    if not isinstance(oidc, dict):
        raise UsersFileError(f"users file {path}: [oidc] must be a table")
    return UsersConfig(path=path, users=dict(users), oidc=dict(oidc))


def load_users(path: str | os.PathLike[str]) -> UsersConfig:
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsersFileError(f"users file {p} does not exist (create it with `wzmon users add NAME --users {p}`)")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersFileError(f"users file {p} cannot be read: {exc.strerror}") from exc
    return validate(p, _parse(p, text))


def users_path_from_env() -> str | None:
    value = os.environ.get(USERS_ENV, "").strip()
    return value or None


# --------------------------------------------------------------------------------- password checking

_failures: dict[str, list[float]] = {}
_lock = threading.Lock()
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60


def locked_out(name: str) -> bool:
    with _lock:
        recent = [t for t in _failures.get(name, []) if time.monotonic() - t < LOCKOUT_SECONDS]
        _failures[name] = recent
        return len(recent) >= MAX_FAILURES


def authenticate(config: UsersConfig, name: str, password: str) -> User | None:
    """The user when name and password match; None otherwise (same cost either way)."""
    name = (name or "").strip()
    entry = config.users.get(name)
    stored = entry.get("password_hash") if entry else None
    hashed = stored.encode() if isinstance(stored, str) else _DUMMY_HASH
    try:
        ok = bcrypt.checkpw((password or "").encode("utf-8"), hashed)
    except ValueError:
        ok = False
    if ok and entry is not None and stored is not None:
        with _lock:
            _failures.pop(name, None)
        return config.user(name)
    with _lock:
        _failures.setdefault(name, []).append(time.monotonic())
    return None


def hash_password(password: str, rounds: int = 12) -> str:
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    if len(password.encode("utf-8")) > 72:
        raise ValueError("password must be at most 72 bytes (bcrypt limit)")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


# ---------------------------------------------------------------------------------------- writing


def add_user(
    path: str | os.PathLike[str],
    name: str,
    *,
    role: str,
    password: str | None,
    accounts: list[str] | None = None,
    display_name: str = "",
    email: str = "",
    rounds: int = 12,
) -> UsersConfig:
    """Add or replace one user in the file (created if absent), keeping the other entries."""
    p = Path(path).expanduser()
    if role not in ROLES:
        raise UsersFileError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name or any(ch in name for ch in "\n\r\t\"'[]"):
        raise UsersFileError(f"user name {name!r} is empty or has quotes, brackets or control characters")
    data = _parse(p, p.read_text(encoding="utf-8")) if p.exists() else {}
    validate(p, data)
    entry: dict[str, Any] = {"role": role}
    if password is not None:
        try:
            entry["password_hash"] = hash_password(password, rounds=rounds)
        except ValueError as exc:
            raise UsersFileError(str(exc)) from exc
    if accounts:
        entry["accounts"] = [str(a) for a in accounts]
    if role == "member" and not accounts:
        raise UsersFileError("a member user needs --accounts (the account uids it may see)")
    if display_name:
        entry["display_name"] = display_name
    if email:
        entry["email"] = email
    data.setdefault("users", {})[name] = entry
    config = validate(p, data)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    else:
        import tomli_w

        tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return config
