"""Citizen pseudonyms: keyed HMAC-SHA256, stable for one project key, useless without it.

The key comes from env WZMON_PSEUDONYM_KEY (at least 16 characters), else from the file named by
WZMON_PSEUDONYM_KEY_FILE, else from ~/.config/wzmon/pseudonym.key (XDG_CONFIG_HOME respected), which is
created with mode 0600 and 32 random bytes on first use. The key never appears in an export or a log:
exports carry only `key_id`, an HMAC of a fixed label, so two exports can be checked to share a key.
Share the key (not the data) across the machines of one project to keep pseudonyms the same.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Iterable

from matrix.export.errors import PseudonymKeyError

KEY_ENV = "WZMON_PSEUDONYM_KEY"
KEY_FILE_ENV = "WZMON_PSEUDONYM_KEY_FILE"
MIN_KEY_CHARS = 16
REPO_ROOT = Path(__file__).resolve().parents[2]
_CACHE_MAX = 200_000  # entries per cache: bounded so memory stays flat on millions of rows

# A Weibo mention: @ not glued to a word or e-mail address, then up to 30 name characters.
MENTION = re.compile(r"(?<![A-Za-z0-9_.])@([\w\-]{1,30})")


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wzmon" / "pseudonym.key"


def _inside_repo(path: Path) -> bool:
    try:
        path.resolve().relative_to(REPO_ROOT)
        return True
    except ValueError:
        return False


def load_key(path: Path | None = None) -> bytes:
    """The project's pseudonym key (see module docstring); creates the default key file if missing."""
    env = os.environ.get(KEY_ENV)
    if env is not None and path is None:
        if len(env) < MIN_KEY_CHARS:
            raise PseudonymKeyError(f"{KEY_ENV} is too short: use at least {MIN_KEY_CHARS} random characters")
        return env.encode("utf-8")
    if path is None:
        named = os.environ.get(KEY_FILE_ENV)
        path = Path(named).expanduser() if named else default_key_path()
    if _inside_repo(path):
        raise PseudonymKeyError(f"pseudonym key file {path} is inside the repository; keep it outside (e.g. {default_key_path()})")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PseudonymKeyError(f"pseudonym key file {path} can be read by others: run chmod 600 {path}")
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY_CHARS:
        raise PseudonymKeyError(f"pseudonym key file {path} holds fewer than {MIN_KEY_CHARS} characters")
    return key.encode("utf-8")


class Pseudonymiser:
    """Maps citizen uids and screen names to pseudonyms; matrix accounts pass through unchanged."""

    def __init__(self, key: bytes, member_uids: Iterable[str] = (), member_names: Iterable[str] = ()) -> None:
        self._key = key
        self.member_uids = frozenset(member_uids)
        self.member_names = frozenset(member_names)
        # "@问政银川请回复" (no space after the name) still mentions 问政银川: match member names as prefixes
        names = sorted((re.escape(n) for n in self.member_names if n), key=len, reverse=True)
        self._member_prefix = re.compile("|".join(names)) if names else None
        self._uids: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self.key_id = hmac.new(key, b"wzmon-pseudonym-key-id", hashlib.sha256).hexdigest()[:12]

    def _digest(self, label: bytes, value: str) -> str:
        return hmac.digest(self._key, label + b"\x00" + value.encode("utf-8"), "sha256").hex()[:16]

    def uid(self, uid: str | None) -> str | None:
        """`u_` + 16 hex digits for a citizen uid; member uids and None unchanged."""
        if uid is None or uid == "" or uid in self.member_uids:
            return uid
        out = self._uids.get(uid)
        if out is None:
            if len(self._uids) >= _CACHE_MAX:
                self._uids.clear()
            out = self._uids[uid] = "u_" + self._digest(b"uid", uid)
        return out

    def name(self, name: str | None) -> str | None:
        """`n_` + 16 hex digits for a citizen screen name; member names, '' and None unchanged."""
        if not name or name in self.member_names:
            return name
        out = self._names.get(name)
        if out is None:
            if len(self._names) >= _CACHE_MAX:
                self._names.clear()
            out = self._names[name] = "n_" + self._digest(b"name", name)
        return out

    def text(self, text: str | None, mentions: Iterable[str] = ()) -> str | None:
        """Text with every @mention of a non-member replaced by `@n_...`; member mentions kept.

        `mentions` are the names the crawler read from the post's links: when a regex match runs on past
        one of them (Weibo needs no space after a name) only that name is replaced.
        """
        if not text or "@" not in text:
            return text
        known = sorted((m for m in mentions if m and m not in self.member_names), key=len, reverse=True)

        def swap(match: re.Match[str]) -> str:
            found = match.group(1)
            if found in self.member_names:
                return match.group(0)
            for m in known:
                if found.startswith(m):
                    return "@" + self.name(m) + found[len(m):]  # type: ignore[operator]
            if self._member_prefix is not None and self._member_prefix.match(found):
                return match.group(0)
            return "@" + self.name(found)  # type: ignore[operator]

        return MENTION.sub(swap, text)
