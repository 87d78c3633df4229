"""The roster of matrix accounts: reading CSV/YAML files, validating every row, keeping change history."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from matrix.alerts.contacts import parse_contacts, validate_contact
from matrix.storage.models import Account, AccountHistory
from matrix.timeutil import utcnow

ROLES = ("coordinator", "member")
FIELDS = ("uid", "screen_name", "name", "department", "category", "role", "contacts", "active_from", "active_to")
UID_RE = re.compile(r"^\d{5,20}$")


class RosterError(Exception):
    """A roster file that cannot be imported; lists every problem with file, line and field."""

    def __init__(self, path: str, problems: list[str]):
        self.path, self.problems = path, problems
        head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported"
        super().__init__("\n".join([head, *("  " + p for p in problems[:50])]))


@dataclass
class RosterRow:
    line: int
    uid: str
    screen_name: str
    name: str = ""
    department: str = ""
    category: str = ""
    role: str = "member"
    contacts: list[dict[str, Any]] = field(default_factory=list)
    active_from: date | None = None
    active_to: date | None = None

    def values(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("line")
        return d


def _parse_contacts(value: Any) -> list[dict[str, Any]]:
    """A CSV cell or a YAML list of contacts, checked by the alerts' own contact rules."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        return parse_contacts(str(value))
    out: list[dict[str, Any]] = []
    for c in value:
        if isinstance(c, str):
            out.extend(parse_contacts(c))
            continue
        if isinstance(c, dict) and any(k in c for k in ("password", "token")):
            raise ValueError("put secrets in the environment or a file (secret: env:NAME), not in the roster")
        out.append(validate_contact(c))
    return out


def _parse_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date like 2021-12-31") from None


def _row(line: int, raw: dict[str, Any], path: str, problems: list[str]) -> RosterRow | None:
    def bad(fieldname: str, why: str) -> None:
        problems.append(f"{path}:{line}: field {fieldname!r}: {why}")

    raw = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        bad(unknown[0], f"unknown column (known: {', '.join(FIELDS)})")
    uid = str(raw.get("uid") or "").strip()
    screen = str(raw.get("screen_name") or "").strip().lstrip("@")
    n_before = len(problems)
    if not uid and not screen:
        bad("uid", "each row needs a uid or a screen_name")
    if uid and not UID_RE.match(uid):
        bad("uid", f"{uid!r} is not a Weibo uid (digits only)")
    role = str(raw.get("role") or "member").strip().lower()
    if role in ("协调", "coordinating", "主账号"):
        role = "coordinator"
    if role not in ROLES:
        bad("role", f"{role!r} is not one of {', '.join(ROLES)}")
    row = None
    try:
        contacts = _parse_contacts(raw.get("contacts"))
    except ValueError as exc:
        bad("contacts", str(exc))
        contacts = []
    dates: dict[str, date | None] = {}
    for name in ("active_from", "active_to"):
        try:
            dates[name] = _parse_date(raw.get(name), name)
        except ValueError as exc:
            bad(name, str(exc))
    if len(problems) == n_before:
        row = RosterRow(
            line=line, uid=uid, screen_name=screen, name=str(raw.get("name") or screen).strip(),
            department=str(raw.get("department") or "").strip(), category=str(raw.get("category") or "").strip(),
            role=role, contacts=contacts, active_from=dates.get("active_from"), active_to=dates.get("active_to"),
        )
    return row


def read_roster(path: str | Path) -> list[RosterRow]:
    """Rows of a CSV (UTF-8, BOM allowed) or YAML roster; RosterError lists every bad row."""
    p = Path(path)
    if not p.exists():
        raise RosterError(str(path), [f"{path}: no such file"])
    if p.is_dir():
        raise RosterError(str(path), [f"{path}: is a folder, not a roster file"])
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(str(path), [f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]) from exc
    problems: list[str] = []
    rows: list[RosterRow] = []
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise RosterError(str(path), [f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
        if isinstance(data, dict):
            data = data.get("accounts")
        if not isinstance(data, list):
            raise RosterError(str(path), [f"{path}: expected a list of accounts (or accounts: [...])"])
        line_of = _yaml_lines(text)
        for i, item in enumerate(data):
            line = line_of[i] if i < len(line_of) else i + 1
            if not isinstance(item, dict):
                problems.append(f"{path}:{line}: entry {i + 1} is not a mapping")
                continue
            r = _row(line, item, str(path), problems)
            if r:
                rows.append(r)
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise RosterError(str(path), [f"{path}: empty file (expected a header: {','.join(FIELDS)})"])
        for rec in reader:
            line = reader.line_num
            if None in rec:
                problems.append(f"{path}:{line}: more cells than the header has columns")
                continue
            r = _row(line, rec, str(path), problems)
            if r:
                rows.append(r)
    seen: dict[str, int] = {}
    for r in rows:
        key = r.uid or "@" + r.screen_name
        if key in seen:
            problems.append(f"{path}:{r.line}: field 'uid': {key} already given on line {seen[key]}")
        seen[key] = r.line
    if sum(r.role == "coordinator" for r in rows) > 1:
        problems.append(f"{path}: more than one coordinator account")
    if problems:
        raise RosterError(str(path), problems)
    return rows


def _yaml_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"^\s*-\s", line)]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_roster(
    session: Session, rows: list[RosterRow], *, source: str = "", actor: str = "",
    resolve: Callable[[str], str] | None = None,
) -> ImportResult:
    """Upsert accounts, writing an account_history row for every creation or change."""
    result = ImportResult()
    problems = []
    for r in rows:
        if not r.uid:
            if resolve is None:
                problems.append(f"{source}:{r.line}: field 'uid': missing; pass --resolve to look up @{r.screen_name}")
                continue
            try:
                r.uid = resolve(r.screen_name)
            except Exception as exc:  # noqa: BLE001 - reported per row
                problems.append(f"{source}:{r.line}: field 'screen_name': cannot resolve @{r.screen_name}: {exc}")
    if problems:
        raise RosterError(source, problems)
    existing_coordinator = session.scalar(select(Account.uid).where(Account.role == "coordinator"))
    new_coord = [r.uid for r in rows if r.role == "coordinator"]
    demoted = {r.uid for r in rows if r.role == "member"}
    if existing_coordinator and new_coord and new_coord[0] != existing_coordinator and existing_coordinator not in demoted:
        raise RosterError(source, [f"{source}: the database already has coordinator {existing_coordinator}; "
                                   "list it with role member in the same file to replace it"])
    for r in rows:
        values = r.values()
        acc = session.get(Account, r.uid)
        if acc is None:
            session.add(Account(**values))
            session.add(AccountHistory(uid=r.uid, change="created", after=_jsonable(values), source=source,
                                       changed_by=actor))
            result.created += 1
            continue
        before = {k: getattr(acc, k) for k in values}
        if before == values:
            result.unchanged += 1
            continue
        for k, v in values.items():
            setattr(acc, k, v)
        acc.updated_at = utcnow()
        session.add(AccountHistory(uid=r.uid, change="updated", before=_jsonable(before), after=_jsonable(values),
                                   source=source, changed_by=actor))
        result.updated += 1
    session.flush()
    return result


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.items()}
