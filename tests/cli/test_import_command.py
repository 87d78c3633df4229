"""`wzmon import` as researchers use it, on both backends: a folder of saved responses twice (nothing doubles), a glob,
a JSON summary, and the one file that cannot be read named while the others are kept."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from matrix.storage.db import dispose_engines, open_db, session_scope
from matrix.storage.models import Case, Post, RawResponse

DATA = Path(__file__).resolve().parents[1] / "crawler" / "data"
GOOD = ["timeline_getindex.json", "search_getindex.json", "hotflow.json", "reposts.json", "extend.json",
        "search_page.html", "weibo_cn_comments.html"]
BAD = {"login_answer.json": "login/captcha answer", "truncated.json": "broken or cut short",
       "unknown.json": "not a Weibo answer we know", "passport.html": "login page"}


def wzmon(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matrix.cli.root", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "WZMON_NOW": "2026-12-22T10:00"}, timeout=300)


def counts(db_url: str) -> tuple[int, int, int]:
    with session_scope(open_db(db_url)) as s:
        out = (s.scalar(select(func.count()).select_from(Post)), s.scalar(select(func.count()).select_from(Case)),
               s.scalar(select(func.count()).select_from(RawResponse)))
    dispose_engines()
    return out


def test_a_folder_twice_adds_nothing_the_second_time(db_url, tmp_path):
    saved = tmp_path / "saved" / "nested"
    saved.mkdir(parents=True)
    for name in [*GOOD, *BAD]:
        shutil.copy(DATA / name, saved / name)
    (tmp_path / "saved" / ".hidden.json").write_text("{}", encoding="utf-8")  # hidden files are skipped
    (tmp_path / "roster.csv").write_text(  # the accounts the saved responses name
        "uid,screen_name,name,department,category,role,contacts,active_from,active_to\n"
        "1231897701,问政银川,问政银川,网信办,综合,coordinator,,,\n"
        "1234567890,银川公安,银川市公安局,公安,政法,member,,,\n", encoding="utf-8")
    assert wzmon("--db", db_url, "accounts", "import", "roster.csv", cwd=tmp_path).returncode == 0
    first = wzmon("--db", db_url, "import", "saved", "--format", "json", cwd=tmp_path)
    assert first.returncode == 1 and "Traceback" not in first.stderr  # some files failed, the rest were kept
    summary = json.loads(first.stdout)
    assert summary["files"] == len(GOOD) + len(BAD)
    failed = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert set(failed) == set(BAD) and all(BAD[k] in failed[k] for k in BAD)
    assert summary["new"] > 0 and summary["cases_touched"] > 0
    posts, cases, raws = counts(db_url)
    assert posts == summary["new"]
    again = wzmon("--db", db_url, "import", "saved", cwd=tmp_path)
    assert again.returncode == 1
    assert "0 new" in again.stdout and "nothing new: every item was already stored" in again.stdout
    assert counts(db_url) == (posts, cases, raws)


def test_a_glob_and_missing_paths(db_url, tmp_path):
    for name in GOOD[:3]:
        shutil.copy(DATA / name, tmp_path / name)
    out = wzmon("--db", db_url, "import", "*.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Imported 3 of 3 file(s):")
    none = wzmon("--db", db_url, "import", "nothing/*.json", "gone.json", cwd=tmp_path)
    assert none.returncode == 1 and "no file matches this pattern" in none.stderr and "gone.json" in none.stderr
