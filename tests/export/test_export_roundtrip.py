"""Export, read back with pandas and frictionless, compare with the database rows."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from frictionless import Package, validate
from openpyxl import load_workbook
from sqlalchemy import func, select

from matrix.export.api import export_bytes, export_table, export_tables
from matrix.export.safety import unneutralise
from matrix.storage.models import Case, CaseEvent, Post
from matrix.timeutil import as_utc

KEY = b"test-project-key-0123456789"  # as in conftest.py
HYPERLINK = '=HYPERLINK("http://x","y")'
AT_TEXT = "@问政银川 @银川公安 小区路灯坏了三天\n晚上很危险，请尽快处理 @邻居老王 也反映过"

ALL = ["posts", "cases", "events", "accounts", "rankings"]


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _valid(package: Path) -> None:
    report = validate(str(package))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])


def _db_posts(engine) -> list[Post]:  # noqa: ANN001
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        return list(s.scalars(select(Post).order_by(Post.id)))


def test_csv_identified_raw_equals_database(seeded, tmp_path: Path) -> None:
    results = export_tables(seeded.engine, ALL, "csv", tmp_path, raw=True, identified=True, role="office", key=KEY)
    assert [r.rows for r in results][:4] == [5, 2, 4, 3]
    _valid(tmp_path / "datapackage.json")

    raw = (tmp_path / "posts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    assert b"\r\n+3" in raw or b"\r\r\n+3" in raw or b'\r\n+3 ' in raw

    df = _read_csv(tmp_path / "posts.csv")
    db = _db_posts(seeded.engine)
    assert list(df["id"]) == [p.id for p in db]
    for p, (_, row) in zip(db, df.iterrows()):
        assert row["id"] == p.id and len(row["id"]) == 16
        assert row["user_id"] == (p.user_id or "")
        assert row["screen_name"] == p.screen_name
        assert row["text"] == p.text  # exact with --raw, newlines kept
        assert datetime.fromisoformat(row["created_at"]) == p.created_at
        assert row["created_at"].endswith("+08:00")
        assert int(row["created_at_unix"]) == int(p.created_at.timestamp())
        assert datetime.fromisoformat(row["fetched_at"]) == p.fetched_at.replace(microsecond=0)
        assert json.loads(row["mentions"]) == (p.mentions or [])
        assert row["sentiment_label"] == (p.sentiment_label or "")
        if p.sentiment_score is None:
            assert row["sentiment_score"] == ""
        else:
            assert float(row["sentiment_score"]) == pytest.approx(p.sentiment_score)
        assert row["is_long_text"] == ("true" if p.is_long_text else "false")

    cases = _read_csv(tmp_path / "cases.csv")
    from sqlalchemy.orm import Session

    with Session(seeded.engine) as s:
        db_cases = list(s.scalars(select(Case).order_by(Case.id)))
        db_events = list(s.scalars(select(CaseEvent).order_by(CaseEvent.id)))
    assert list(cases["id"]) == [str(c.id) for c in db_cases]
    for c, (_, row) in zip(db_cases, cases.iterrows()):
        assert row["post_id"] == c.post_id
        assert row["citizen_uid"] == c.citizen_uid
        assert row["status"] == c.status
        assert json.loads(row["addressed_uids"]) == c.addressed_uids
        assert datetime.fromisoformat(row["opened_at"]) == c.opened_at
        assert row["overdue"] == ("true" if c.overdue else "false")
        due = c.first_response_due
        assert (row["first_response_due"] and datetime.fromisoformat(row["first_response_due"])) == (due or "")
    events = _read_csv(tmp_path / "events.csv")
    assert list(events["type"]) == [e.type for e in db_events]
    assert [json.loads(d) for d in events["detail"]] == [e.detail for e in db_events]
    assert list(events["reason"]) == [e.reason for e in db_events]


def test_frictionless_reads_typed_values(seeded, tmp_path: Path) -> None:
    export_tables(seeded.engine, ["posts", "cases", "events", "accounts"], "csv", tmp_path, key=KEY)
    pkg = Package(str(tmp_path / "datapackage.json"))
    rows = pkg.get_resource("posts").read_rows()
    ids = [r["id"] for r in rows]
    assert ids == [p.id for p in _db_posts(seeded.engine)]
    assert all(isinstance(i, str) and len(i) == 16 for i in ids)
    first = rows[0]
    assert as_utc(first["created_at"]) == _db_posts(seeded.engine)[0].created_at
    assert isinstance(first["created_at_unix"], int)
    cases = pkg.get_resource("cases")
    fks = {fk["reference"]["resource"] for fk in cases.schema.to_descriptor()["foreignKeys"]}
    assert fks == {"posts", "accounts"}
    _valid(tmp_path / "datapackage.json")


@pytest.mark.parametrize("fmt", ["jsonl", "xlsx"])
def test_jsonl_and_xlsx_round_trip(seeded, tmp_path: Path, fmt: str) -> None:
    export_tables(seeded.engine, ["posts", "cases", "events", "accounts"], fmt, tmp_path, key=KEY)
    _valid(tmp_path / "datapackage.json")
    db = _db_posts(seeded.engine)
    if fmt == "jsonl":
        lines = (tmp_path / "posts.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert [r["id"] for r in rows] == [p.id for p in db]
        # JSONL has no cells: text is exact even without --raw
        assert rows[0]["text"] == HYPERLINK
        assert rows[1]["text"].startswith("@问政银川 @银川公安 ")
        assert rows[1]["mentions"][:2] == ["问政银川", "银川公安"]
        assert rows[1]["created_at_unix"] == int(db[1].created_at.timestamp())
    else:
        df = pd.read_excel(tmp_path / "posts.xlsx", sheet_name="posts", dtype=str, keep_default_na=False)
        assert list(df["id"]) == [p.id for p in db]
        ws = load_workbook(tmp_path / "posts.xlsx", read_only=True)["posts"]
        cells = {row[0].value: row for row in ws.iter_rows(min_row=2)}
        text_col = [c.value for c in next(load_workbook(tmp_path / "posts.xlsx", read_only=True)["posts"].iter_rows(max_row=1))].index("text")
        link = cells["5012345678901234"][text_col]
        assert link.data_type == "s" and link.value == "'" + HYPERLINK
        assert cells["5012345678901234"][0].data_type == "s", "ids must be text cells"


def test_xlsx_raw_keeps_formula_text_as_text(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "posts", "xlsx", out_dir=tmp_path, raw=True, key=KEY)
    ws = load_workbook(tmp_path / "posts.xlsx")["posts"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("text") + 1)
    assert cell.value == HYPERLINK and cell.data_type == "s"  # text, not a formula


def test_export_bytes_matches_file(seeded, tmp_path: Path) -> None:
    res = export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, key=KEY)
    chunks = list(export_bytes(seeded.engine, "posts", "csv", key=KEY, chunk_size=64))
    assert all(isinstance(c, bytes) and c for c in chunks)
    data = b"".join(chunks)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data == res.path.read_bytes()
    xlsx = b"".join(export_bytes(seeded.engine, "accounts", "xlsx", key=KEY))
    assert xlsx[:2] == b"PK"


def test_provenance(seeded, tmp_path: Path) -> None:
    since, until = "2024-03-01", "2024-03-10"
    from matrix.export.api import parse_when

    flt = {"since": parse_when(since), "until": parse_when(until, end=True), "kinds": ["投诉"]}
    res = export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, filters=flt, key=KEY)
    assert res.rows == 1
    pkg = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    prov = pkg["resources"][0]["wzmon:provenance"]
    assert prov["tool"] == "wzmon" and prov["tool_version"]
    assert prov["query"]["filters"]["kinds"] == ["投诉"]
    assert prov["query"]["filters"]["since"] == "2024-03-01T00:00:00+08:00"
    assert prov["query"]["filters"]["until"] == "2024-03-11T00:00:00+08:00"
    assert "posts" in prov["query"]["sql"].lower()
    assert [p["version"] for p in prov["policy_versions"]] == ["2024.03"]
    with seeded.engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(Post.fetched_at), func.max(Post.fetched_at)).where(Post.post_kind == "投诉")).one()
    window = prov["collection_window"]
    assert datetime.fromisoformat(window["first_fetched_at"]) == as_utc(lo).replace(microsecond=0)
    assert datetime.fromisoformat(window["last_fetched_at"]) == as_utc(hi).replace(microsecond=0)
    assert prov["exported_at"].endswith("+08:00")
    assert prov["pseudonymised"] is True and prov["formula_neutralised"] is True
    dictionary = pkg["wzmon:data_dictionary"]
    assert "apostrophe" in dictionary["formula_neutralisation"]["en"] and "单引号" in dictionary["formula_neutralisation"]["zh"]
    field = {f["name"]: f for f in pkg["resources"][0]["schema"]["fields"]}
    assert field["id"]["type"] == "string" and field["text"]["wzmon:neutralised"] is True
    assert "/" in field["text"]["description"]  # Chinese / English
    assert pkg["resources"][0]["schema"]["primaryKey"] == ["id"]
    # the data file's hash is declared and checked by frictionless
    assert pkg["resources"][0]["hash"].startswith("sha256:")
    _valid(tmp_path / "datapackage.json")


def test_unneutralise_recovers_text(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, identified=True, role="office", key=KEY)
    df = _read_csv(tmp_path / "posts.csv")
    texts = dict(zip(df["id"], df["text"]))
    assert texts["5012345678901234"] == "'" + HYPERLINK
    assert texts["5012345678901235"] == "'" + AT_TEXT
    assert texts["5012345678901237"].startswith("'-本周通报")
    assert [unneutralise(t) for t in df["text"]] == [p.text for p in _db_posts(seeded.engine)]


def test_export_zip_holds_tables_and_package(seeded, tmp_path: Path) -> None:
    import io
    import zipfile

    from matrix.export.api import export_zip

    buf = io.BytesIO()
    results = export_zip(seeded.engine, ["posts", "cases"], "csv", buf, key=KEY, filters={"account_uids": ["1000000000000002"]})
    assert [r.rows for r in results] == [2, 1]
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert sorted(zf.namelist()) == ["cases.csv", "datapackage.json", "posts.csv"]
        zf.extractall(tmp_path)
    _valid(tmp_path / "datapackage.json")


def test_separate_runs_share_one_package(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "events", "csv", out_dir=tmp_path, key=KEY)
    export_table(seeded.engine, "cases", "csv", out_dir=tmp_path, key=KEY)
    pkg = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in pkg["resources"]] == ["cases", "events"]
    events = pkg["resources"][1]["schema"]
    assert events["foreignKeys"] == [{"fields": ["case_id"], "reference": {"resource": "cases", "fields": ["id"]}}]
    _valid(tmp_path / "datapackage.json")
