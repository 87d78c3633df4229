"""Spreadsheet formula-injection guard for text cells (CSV and XLSX).

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula
(`=HYPERLINK(...)` can leak data; Weibo posts very often start with `@问政银川`). By default every text
cell that starts with one of those characters, or with an apostrophe, gets one apostrophe `'` in front.
Prefixing the apostrophe case too makes the rule reversible without doubt: to get the exact text back,
drop the first character of any text value that starts with `'` (`unneutralise`). Numbers, booleans,
dates and JSON arrays are never touched. `--raw` (raw=True) writes exact text instead.
"""
from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PREFIXED = TRIGGERS + ("'",)

RULE_EN = (
    "Formula-injection guard: in CSV and XLSX files every text value (fields marked wzmon:neutralised) that "
    "starts with =, +, -, @, a tab, a carriage return or an apostrophe has one apostrophe (') put in front. "
    "To recover the exact text, remove the first character of any such value that starts with an apostrophe. "
    "JSONL files and exports made with --raw hold the exact text."
)
RULE_ZH = (
    "防公式注入：CSV 与 XLSX 文件中，凡以 =、+、-、@、制表符、回车或单引号开头的文本值（标记 wzmon:neutralised 的字段），"
    "均在开头加一个单引号 (')。还原原文：去掉以单引号开头的值的第一个字符。JSONL 文件及使用 --raw 导出的文件保留原文。"
)

# Characters XML 1.0 (so XLSX) cannot hold; openpyxl refuses them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CELL_MAX = 32767


def neutralise(value: str) -> str:
    """The value as a spreadsheet shows it as text; unchanged unless it starts with a trigger or `'`."""
    if value and value.startswith(_PREFIXED):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Inverse of `neutralise`: the exact original text."""
    return value[1:] if value.startswith("'") else value


def xlsx_text(value: str) -> str:
    """Text an XLSX cell can hold: XML-illegal control characters dropped, cut to Excel's 32,767 limit."""
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    if len(value) > XLSX_CELL_MAX:
        value = value[:XLSX_CELL_MAX]
    return value
