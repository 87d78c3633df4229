"""Pseudonyms, the key, the identified-export gate, filters and the CLI."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import bcrypt
import pandas as pd
import pytest
from click.testing import CliRunner
from frictionless import validate

from matrix.cli.root import main
from matrix.export.api import export_table
from matrix.export.errors import ExportError, ExportPermissionError, PseudonymKeyError
from matrix.export.pseudonym import Pseudonymiser, load_key

KEY = b"test-project-key-0123456789"  # as in conftest.py
COORD, POLICE, EDU = "1000000000000001", "1000000000000002", "1000000000000003"
CITIZEN_A, CITIZEN_B = "7000000000000001", "7000000000000002"


def _posts(path: Path) -> pd.DataFrame:
    return pd.read_csv(path / "posts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("id")


def test_citizens_pseudonymised_members_kept(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, key=KEY)
    df = _posts(tmp_path)
    a = df.loc["5012345678901234"]
    assert a["user_id"].startswith("u_") and a["user_id"] != CITIZEN_A and CITIZEN_A not in a["user_id"]
    assert a["screen_name"].startswith("n_") and a["screen_name"] != "张三"
    assert a["author_role"] == "citizen"
    assert CITIZEN_A not in a["source_url"]
    # the same citizen has the same pseudonym on every row
    assert df.loc["5012345678901238"]["user_id"] == a["user_id"]
    police = df.loc["5012345678901236"]
    assert (police["user_id"], police["screen_name"], police["author_role"]) == (POLICE, "银川公安", "member")
    assert df.loc["5012345678901237"]["author_role"] == "coordinator"
    # mentions: members kept, citizens replaced, in text and in the mentions array
    b = df.loc["5012345678901235"]
    assert "@问政银川 @银川公安 " in b["text"] and "邻居老王" not in b["text"]
    mentions = json.loads(b["mentions"])
    assert mentions[:2] == ["问政银川", "银川公安"] and mentions[2].startswith("n_")
    assert "@" + mentions[2] in b["text"]
    reply = police["text"]
    assert "小红爱吃瓜" not in reply and reply.startswith("回复@" + b["screen_name"] + ":")
    raw = (tmp_path / "posts.csv").read_text(encoding="utf-8-sig")
    for secret in (CITIZEN_A, CITIZEN_B, "张三", "小红爱吃瓜", "邻居老王", KEY.decode()):
        assert secret not in raw


def test_cases_and_events_pseudonymised(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "cases", "csv", out_dir=tmp_path, key=KEY)
    export_table(seeded.engine, "events", "jsonl", out_dir=tmp_path, key=KEY)
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, key=KEY)
    cases = pd.read_csv(tmp_path / "cases.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    posts = _posts(tmp_path)
    assert set(cases["citizen_uid"]) == {posts.loc["5012345678901234"]["user_id"], posts.loc["5012345678901235"]["user_id"]}
    assert set(cases["account_uid"]) == {POLICE, EDU}
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    text = (tmp_path / "events.jsonl").read_text(encoding="utf-8")
    for secret in (CITIZEN_A, CITIZEN_B, "张三", "小红爱吃瓜"):
        assert secret not in text
    assert events[0]["actor"] == posts.loc["5012345678901235"]["user_id"]
    assert events[0]["detail"] == {"citizen_name": posts.loc["5012345678901235"]["screen_name"]}
    assert events[1]["actor"] == "银川公安" and events[3]["actor"] == "system"


def test_pseudonyms_stable_per_key(seeded, tmp_path: Path) -> None:
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path / "one", key=KEY)
    export_table(seeded.engine, "posts", "jsonl", out_dir=tmp_path / "two", key=KEY)
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path / "other", key=b"another-project-key-000")
    one, other = _posts(tmp_path / "one"), _posts(tmp_path / "other")
    two = {r["id"]: r for r in map(json.loads, (tmp_path / "two" / "posts.jsonl").read_text(encoding="utf-8").splitlines())}
    for pid in one.index:
        assert one.loc[pid]["user_id"] == two[pid]["user_id"]
    assert one.loc["5012345678901234"]["user_id"] != other.loc["5012345678901234"]["user_id"]
    pkgs = [json.loads((tmp_path / d / "datapackage.json").read_text(encoding="utf-8")) for d in ("one", "two", "other")]
    ids = [p["resources"][0]["wzmon:provenance"]["pseudonym_key_id"] for p in pkgs]
    assert ids[0] == ids[1] != ids[2]
    assert Pseudonymiser(KEY).uid(CITIZEN_A) == one.loc["5012345678901234"]["user_id"]


def test_key_file_created_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WZMON_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("WZMON_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    key = load_key()
    path = tmp_path / "cfg" / "wzmon" / "pseudonym.key"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key() == key and len(key) >= 32
    os.chmod(path, 0o644)
    with pytest.raises(PseudonymKeyError, match="chmod 600"):
        load_key()
    inside = Path(__file__).resolve().parent / "pseudonym.key"
    with pytest.raises(PseudonymKeyError, match="inside the repository"):
        load_key(inside)
    monkeypatch.setenv("WZMON_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="too short"):
        load_key()


def test_identified_needs_office_role(seeded, tmp_path: Path) -> None:
    for role in (None, "member", "researcher"):
        with pytest.raises(ExportPermissionError, match="office role"):
            export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, identified=True, role=role, key=KEY)
    assert not (tmp_path / "posts.csv").exists()
    export_table(seeded.engine, "posts", "csv", out_dir=tmp_path, identified=True, role="office", key=KEY)
    df = _posts(tmp_path)
    assert df.loc["5012345678901234"]["user_id"] == CITIZEN_A and df.loc["5012345678901234"]["screen_name"] == "张三"
    prov = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))["resources"][0]["wzmon:provenance"]
    assert prov["pseudonymised"] is False and prov["role"] == "office"


def test_filters(seeded, tmp_path: Path) -> None:
    from matrix.export.api import parse_when

    def ids(table: str, **flt) -> list[str]:  # noqa: ANN003
        out = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
        export_table(seeded.engine, table, "jsonl", out_dir=out, filters=flt, key=KEY)
        return [json.loads(x)["id" if table != "accounts" else "uid"] for x in (out / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()]

    assert ids("posts", since=parse_when("2024-03-05"), until=parse_when("2024-03-14", end=True)) == ["5012345678901237", "5012345678901238"]
    # a member account by screen name: its own posts, the posts of its cases, comments under its posts
    assert ids("posts", accounts=["@银川公安"]) == ["5012345678901235", "5012345678901236"]
    assert ids("posts", department="教育") == ["5012345678901238"]
    assert ids("posts", kinds=["投诉"], sentiments=["negative"]) == ["5012345678901235"]
    assert ids("posts", statuses=["open"]) == ["5012345678901238"]
    assert ids("cases", statuses=["responded"]) == [str(seeded.case_ids[0])]
    assert ids("cases", accounts=[EDU]) == [str(seeded.case_ids[1])]
    assert len(ids("events", accounts=["银川公安"])) == 2
    assert ids("accounts", department="公安") == [POLICE]
    # the access scope narrows everything else
    assert ids("cases", account_uids=[POLICE], accounts=[EDU]) == []
    with pytest.raises(ExportError, match="unknown account"):
        ids("posts", accounts=["不存在的账号"])
    with pytest.raises(ExportError, match="department"):
        ids("posts", department="不存在")
    with pytest.raises(ExportError, match="unknown status"):
        ids("cases", statuses=["lost"])
    res = export_table(seeded.engine, "accounts", "csv", out_dir=tmp_path / "acc", filters={"kinds": ["投诉"]}, key=KEY)
    assert res.provenance["query"]["ignored_filters"] == ["kinds"] and res.rows == 3


def test_cli_export_and_identified_gate(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WZMON_PSEUDONYM_KEY", KEY.decode())
    monkeypatch.delenv("WZMON_ROLE", raising=False)
    runner = CliRunner()
    out = tmp_path / "out"
    base = ["--db", seeded.url, "export"]
    r = runner.invoke(main, base + ["posts", "cases", "events", "accounts", "--out", str(out), "--since", "2024-03-01", "--account", "银川公安"])
    assert r.exit_code == 0, r.output
    assert validate(str(out / "datapackage.json")).valid
    df = _posts(out)
    assert df.loc["5012345678901235"]["user_id"].startswith("u_")

    r = runner.invoke(main, base + ["posts", "--out", str(tmp_path / "id"), "--identified"])
    assert r.exit_code != 0 and "office role" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "id" / "posts.csv").exists()

    monkeypatch.setenv("WZMON_ROLE", "office")
    r = runner.invoke(main, base + ["posts", "--out", str(tmp_path / "id"), "--identified", "--format", "xlsx"])
    assert r.exit_code == 0, r.output
    df = pd.read_excel(tmp_path / "id" / "posts.xlsx", dtype=str, keep_default_na=False).set_index("id")
    assert df.loc["5012345678901234"]["user_id"] == CITIZEN_A

    r = runner.invoke(main, base + ["posts", "--out", str(tmp_path / "bad"), "--account", "nobody"])
    assert r.exit_code != 0 and "unknown account" in r.output


def test_cli_as_user_from_dashboard_users_file(seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WZMON_PSEUDONYM_KEY", KEY.decode())
    monkeypatch.delenv("WZMON_ROLE", raising=False)
    h = bcrypt.hashpw(b"correct horse", bcrypt.gensalt(rounds=4)).decode()
    users = tmp_path / "users.toml"
    users.write_text(
        f'[users.office]\nrole = "office"\npassword_hash = "{h}"\n\n'
        f'[users.police]\nrole = "member"\naccounts = ["{POLICE}"]\npassword_hash = "{h}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("WZMON_USERS", str(users))
    runner = CliRunner()
    base = ["--db", seeded.url, "export", "cases", "--identified"]

    monkeypatch.setenv("WZMON_PASSWORD", "wrong password")
    r = runner.invoke(main, base + ["--out", str(tmp_path / "a"), "--as-user", "office"])
    assert r.exit_code != 0 and "wrong password" in r.output

    monkeypatch.setenv("WZMON_PASSWORD", "correct horse")
    r = runner.invoke(main, base + ["--out", str(tmp_path / "a"), "--as-user", "office"])
    assert r.exit_code == 0, r.output
    cases = pd.read_csv(tmp_path / "a" / "cases.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(cases["citizen_uid"]) == {CITIZEN_A, CITIZEN_B}

    r = runner.invoke(main, base + ["--out", str(tmp_path / "b"), "--as-user", "police"])
    assert r.exit_code != 0 and "office role" in r.output
    # a member user without --identified gets only its own accounts' cases
    r = runner.invoke(main, ["--db", seeded.url, "export", "cases", "--out", str(tmp_path / "c"), "--as-user", "police"])
    assert r.exit_code == 0, r.output
    cases = pd.read_csv(tmp_path / "c" / "cases.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(cases["account_uid"]) == [POLICE]
