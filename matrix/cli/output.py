"""Printing rows for people (aligned tables that count CJK characters as two columns) and for tools (CSV, JSON)."""
from __future__ import annotations

import csv
import json
import sys
import unicodedata
from datetime import date, datetime
from typing import Any, Iterable, Sequence, TextIO

from matrix.timeutil import iso_local


def cell(value: Any) -> str:
    """One value as text: datetimes in ISO 8601 +08:00, booleans as true/false, None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_local(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if width(text) <= limit:
        return text
    out, w = [], 0
    for ch in text:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > limit - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + "…"


def write_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO | None = None,
                max_width: int = 40) -> None:
    out = out or sys.stdout
    texts = [[_fit(cell(r.get(c)), max_width) for c in columns] for r in rows]
    widths = [max([width(c)] + [width(t[i]) for t in texts]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths)).rstrip()

    out.write(line(columns) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for t in texts:
        out.write(line(t) + "\n")


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO | None = None) -> None:
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([cell(r.get(c)) for c in columns])


def write_jsonl(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for r in rows:
        out.write(json.dumps({c: (cell(r.get(c)) if isinstance(r.get(c), (datetime, date)) else r.get(c))
                              for c in columns}, ensure_ascii=False) + "\n")


def write_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, out: TextIO | None = None) -> None:
    {"table": write_table, "csv": write_csv, "json": write_jsonl}[fmt](rows, columns, out)
