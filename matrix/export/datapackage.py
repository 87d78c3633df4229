"""datapackage.json: Frictionless Data Package with Table Schema, data dictionary and provenance.

Exporting several tables into one folder (in one run or several) adds one resource per table to the same
datapackage.json; foreign keys are declared only between resources the package holds, so the package
validates as a whole (`frictionless validate DIR/datapackage.json`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from matrix.export.pseudonym import KEY_ENV, KEY_FILE_ENV
from matrix.export.safety import RULE_EN, RULE_ZH
from matrix.export.schema import DATETIME_FORMAT, TABLES, TableSpec
from matrix.export.writers import FORMATS

PROFILE = "wzmon-export/1"

DICTIONARY = {
    "ids": {
        "en": "All ids (Weibo ids, uids, case and event ids) are text (Table Schema type string) so 16-digit ids stay exact. "
        "Excel guesses column types when a CSV is double-clicked: import it with Data > From Text/CSV and set id columns to Text, or use the XLSX export.",
        "zh": "所有 ID（微博 ID、uid、工单与事件编号）均为文本类型，16 位 ID 不会被取整。直接双击打开 CSV 时 Excel 会自行猜测类型：请用“数据 > 自文本/CSV”导入并将 ID 列设为文本，或改用 XLSX 导出。",
    },
    "timestamps": {
        "en": "Each time column x is ISO 8601 in Beijing time with the +08:00 offset, whole seconds; x_unix is the same instant in seconds since 1970-01-01 UTC.",
        "zh": "每个时间列 x 为北京时间的 ISO 8601 格式（带 +08:00，精确到秒）；x_unix 为同一时刻的 Unix 秒数（UTC）。",
    },
    "missing_values": {
        "en": "In CSV an empty cell means no value (null); empty text and no value are not told apart. JSONL keeps null and \"\" apart.",
        "zh": "CSV 中空单元格表示无值（null），空文本与无值不作区分；JSONL 区分 null 与空字符串。",
    },
    "text": {
        "en": "CSV files are UTF-8 with a byte-order mark; newlines inside text are kept and the cell is quoted (RFC 4180). XLSX cells drop XML-illegal control characters and stop at 32,767 characters.",
        "zh": "CSV 为带 BOM 的 UTF-8；文本中的换行原样保留并加引号（RFC 4180）。XLSX 单元格去除 XML 不允许的控制字符，长度上限 32767 字符。",
    },
    "formula_neutralisation": {"en": RULE_EN, "zh": RULE_ZH},
    "pseudonymisation": {
        "en": "Unless the export is identified, citizens (authors not on the matrix roster) appear as keyed HMAC-SHA256 pseudonyms: "
        "uids as u_ + 16 hex digits, screen names as n_ + 16 hex digits, also inside @mentions in text. The same person has the same "
        "pseudonym in every export made with the same project key (key_id in provenance); the key is never exported. Matrix accounts "
        "keep their real uids and names. Post ids are kept so findings can be cited; they lead back to Weibo, where the author is "
        "visible, so pseudonymised data is still personal data.",
        "zh": "除非为实名导出，市民（不在矩阵名册中的作者）以带密钥的 HMAC-SHA256 假名出现：uid 为 u_ 加 16 位十六进制，昵称为 n_ 加 16 位十六进制，"
        "正文中的 @ 提及同样替换。使用同一项目密钥（见来源信息中的 key_id）导出的数据中，同一人的假名相同；密钥从不导出。矩阵账号保留真实 uid 和名称。"
        "保留微博 ID 以便引用，但可据此在微博上找到作者，因此假名化数据仍属个人信息。",
    },
}


def field_descriptors(spec: TableSpec, *, neutralised: bool, pseudonymised: bool) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for col in spec.cols:
        f: dict[str, Any] = {
            "name": col.name,
            "type": col.type,
            "title": col.zh.split("（")[0],
            "description": f"{col.zh} / {col.en}",
        }
        if col.type == "datetime":
            f["format"] = DATETIME_FORMAT
        if col.type == "string" and neutralised:
            f["wzmon:neutralised"] = True
        if col.pseudonymised and pseudonymised:
            f["wzmon:pseudonymised"] = True
        if col.name in spec.primary_key:
            f["constraints"] = {"required": True, "unique": len(spec.primary_key) == 1}
        fields.append(f)
        if col.type == "datetime":
            fields.append(
                {
                    "name": col.name + "_unix",
                    "type": "integer",
                    "title": f"{f['title']}（Unix）",
                    "description": f"{col.name} 的 Unix 秒数（UTC） / {col.name} as seconds since 1970-01-01 UTC",
                }
            )
    return fields


def resource(spec: TableSpec, fmt: str, *, path: str, neutralised: bool, pseudonymised: bool, provenance: dict[str, Any],
             rows: int, size: int, sha256: str) -> dict[str, Any]:
    ext, mediatype = FORMATS[fmt]
    res: dict[str, Any] = {
        "name": spec.name,
        "path": path,
        "profile": "tabular-data-resource",
        "title": spec.title,
        "description": spec.description,
        "format": ext,
        "mediatype": mediatype,
        "bytes": size,
        "hash": f"sha256:{sha256}",
        "schema": {
            "fields": field_descriptors(spec, neutralised=neutralised, pseudonymised=pseudonymised),
            "primaryKey": list(spec.primary_key),
            "missingValues": [""],
        },
        "wzmon:rows": rows,
        "wzmon:provenance": provenance,
    }
    if fmt == "csv":
        res["encoding"] = "utf-8-sig"
        res["dialect"] = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "lineTerminator": "\r\n", "header": True}
    elif fmt == "jsonl":
        res["encoding"] = "utf-8"
    else:
        res["dialect"] = {"excel": {"sheet": spec.name}}
    return res


def _link_foreign_keys(resources: list[dict[str, Any]]) -> None:
    present = {r["name"] for r in resources}
    for res in resources:
        spec = TABLES.get(res["name"])
        if spec is None:
            continue
        fks = [
            {"fields": list(fields), "reference": {"resource": ref, "fields": list(ref_fields)}}
            for fields, ref, ref_fields in spec.foreign_keys
            if ref in present and ref != res["name"]
        ]
        if fks:
            res["schema"]["foreignKeys"] = fks
        else:
            res["schema"].pop("foreignKeys", None)


def write_package(out_dir: Path, new: dict[str, Any], created: str, tool_version: str) -> Path:
    """Add (or replace) one resource in out_dir/datapackage.json, atomically."""
    path = out_dir / "datapackage.json"
    package: dict[str, Any] | None = None
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("wzmon:profile") == PROFILE:
                package = old
        except (OSError, ValueError):
            package = None
    if package is None:
        package = {
            "profile": "tabular-data-package",
            "name": "wzmon-export",
            "title": "问政矩阵答复时效研究数据 / Government Weibo response-time research data (wzmon)",
            "description": "由 wzmon 从微博公开内容采集并导出。Collected from public Weibo content and exported by wzmon.",
            "sources": [{"title": "Sina Weibo public posts and comments (m.weibo.cn), collected by wzmon"}],
            "wzmon:profile": PROFILE,
            "wzmon:data_dictionary": DICTIONARY,
            "resources": [],
        }
    package["created"] = created
    package["wzmon:tool_version"] = tool_version
    resources = [r for r in package.get("resources", []) if r.get("name") != new["name"]]
    # a resource whose file is gone (or replaced by another format) would fail validation: drop it
    resources = [r for r in resources if (out_dir / r.get("path", "")).is_file()]
    resources.append(new)
    order = list(TABLES)
    resources.sort(key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))
    _link_foreign_keys(resources)
    package["resources"] = resources
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def key_source_note() -> str:
    return f"env {KEY_ENV}, or the file in env {KEY_FILE_ENV}, or ~/.config/wzmon/pseudonym.key"
