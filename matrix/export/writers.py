"""Streaming writers: one row in, bytes out, nothing kept (constant memory on millions of rows).

CSV: UTF-8 with BOM (Excel shows Chinese), RFC 4180 quoting (newlines inside text kept, quoted), CRLF
rows, empty cell = null, booleans true/false, arrays and objects as JSON text.
JSONL: one JSON object per line, UTF-8 without BOM, exact text, arrays and objects as JSON.
XLSX: openpyxl write-only workbook, one sheet named after the table, ids and text as text cells.
"""
from __future__ import annotations

import csv
import io
import json
from typing import IO, Any

from matrix.export.safety import TRIGGERS, neutralise, xlsx_text

FORMATS = {"csv": ("csv", "text/csv"), "jsonl": ("jsonl", "application/x-ndjson"), "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
XLSX_MAX_ROWS = 1_048_576 - 1  # Excel's sheet limit minus the header row


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(value: Any) -> str:
    if not value:  # [] and {} are most cells: skip the encoder
        return "[]" if isinstance(value, list) else ("{}" if isinstance(value, dict) else _encode(value))
    return _encode(value)


_TRIGGERS = frozenset("".join(TRIGGERS) + "'")  # the same set `neutralise` prefixes


class CsvWriter:
    """Writes to a binary stream; `close()` flushes but leaves the stream open for its owner.

    Only the columns that need it are touched per row (csv already writes None as an empty cell and
    numbers as Python spells them): text gets the formula guard, booleans true/false, arrays JSON.
    """

    def __init__(self, stream: IO[bytes], names: list[str], types: list[str], safe: bool) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
        self._text.write("\ufeff")
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._strings = [i for i, t in enumerate(types) if t == "string"] if safe else []
        self._bools = [i for i, t in enumerate(types) if t == "boolean"]
        self._jsons = [i for i, t in enumerate(types) if t in ("array", "object")]
        self._csv.writerow(names)

    def write(self, values: list[Any]) -> None:
        for i in self._strings:
            v = values[i]
            if v and v[0] in _TRIGGERS:
                values[i] = "'" + v
        for i in self._bools:
            v = values[i]
            if v is not None:
                values[i] = "true" if v else "false"
        for i in self._jsons:
            v = values[i]
            if v is not None:
                values[i] = _json(v)
        self._csv.writerow(values)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class JsonlWriter:
    def __init__(self, stream: IO[bytes], names: list[str], types: list[str], safe: bool) -> None:
        self._stream = stream
        self._names = names
        self._dumps = _encode

    def write(self, values: list[Any]) -> None:
        self._stream.write((self._dumps(dict(zip(self._names, values))) + "\n").encode("utf-8"))

    def close(self) -> None:
        self._stream.flush()


class XlsxWriter:
    """openpyxl write-only mode: rows go to a temporary file, not memory; saved on close."""

    def __init__(self, stream: IO[bytes], names: list[str], types: list[str], safe: bool, sheet: str = "data") -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        self._stream = stream
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(sheet)
        self._cell = WriteOnlyCell
        self._safe = safe
        self._types = types
        self._ws.append(names)

    def _text(self, value: str) -> Any:
        value = xlsx_text(neutralise(value) if self._safe else value)
        if value.startswith("="):  # only with --raw: keep it text, never a formula
            cell = self._cell(self._ws, value=value)
            cell.data_type = "s"
            return cell
        return value

    def write(self, values: list[Any]) -> None:
        row: list[Any] = []
        for kind, v in zip(self._types, values):
            if v is None:
                row.append(None)
            elif kind == "string":
                row.append(self._text(v))
            elif kind in ("array", "object"):
                row.append(xlsx_text(_json(v)))
            else:
                row.append(v)
        if row and row[-1] is None:
            row[-1] = ""  # readers size a row by its last cell: keep the row full width (read back as null)
        self._ws.append(row)

    def close(self) -> None:
        self._wb.save(self._stream)
        self._stream.flush()


WRITERS = {"csv": CsvWriter, "jsonl": JsonlWriter, "xlsx": XlsxWriter}
