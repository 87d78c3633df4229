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


def test_no_alerts_records_the_levels_of_an_old_archive_without_alerting(db_url, tmp_path):
    """An office loading last year's archive: its cases are long overdue. By default they are alerted as the poller
    would; with --no-alerts the same levels are recorded (the board shows them) and nothing is queued to send, and a
    later tick does not alert them either."""
    from matrix.storage.models import Alert, CaseEvent

    saved = tmp_path / "saved"
    saved.mkdir()
    for name in GOOD:
        shutil.copy(DATA / name, saved / name)
    (tmp_path / "roster.csv").write_text(
        "uid,screen_name,name,department,category,role,contacts,active_from,active_to\n"
        "1231897701,问政银川,问政银川,网信办,综合,coordinator,email:wangxin@example.gov.cn,,\n"
        "1234567890,银川公安,银川市公安局,公安,政法,member,email:gongan@example.gov.cn,,\n", encoding="utf-8")
    later = {**os.environ, "WZMON_NOW": "2027-06-01T10:00"}  # months after every post in the files

    def run(db: str, *extra: str) -> dict:
        env = {**os.environ, "WZMON_NOW": later["WZMON_NOW"]}
        assert subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db, "accounts", "import", "roster.csv"],
                              cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300).returncode == 0
        done = subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", db, "import", "saved", "--format",
                               "json", *extra], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def levels_and_alerts(db: str) -> tuple[int, int]:
        with session_scope(open_db(db)) as s:
            out = (s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.type == "overdue")),
                   s.scalar(select(func.count()).select_from(Alert)))
        dispose_engines()
        return out

    quiet = run(db_url, "--no-alerts")
    overdue, alerts = levels_and_alerts(db_url)
    assert overdue > 0 and alerts == 0
    assert quiet["alerts_withheld"] >= overdue
    # the poller's clock, a day later: the levels are recorded, so it raises nothing again
    from datetime import datetime, timezone

    from matrix.polling.ingest import Ingestor
    from matrix.rules.policy import load_policy

    engine = open_db(db_url)
    Ingestor(engine, load_policy(), scorer=object()).tick(datetime(2027, 6, 2, 2, 0, tzinfo=timezone.utc))
    dispose_engines()
    overdue_after, alerts_after = levels_and_alerts(db_url)
    assert overdue_after == overdue
    assert alerts_after <= 2  # at most the members' silence (judged live by the poller's tick), never a case
    with session_scope(open_db(db_url)) as s:
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.case_id.is_not(None))) == 0
    dispose_engines()

    other = f"sqlite:///{tmp_path / 'alerting.sqlite'}"
    subprocess.run([sys.executable, "-m", "matrix.cli.root", "--db", other, "init"], cwd=tmp_path, check=True,
                   capture_output=True, env=later, timeout=300)
    loud = run(other)
    assert loud["alerts_withheld"] is None
    assert levels_and_alerts(other)[0] == overdue and levels_and_alerts(other)[1] > 0


def test_collecting_a_folder_skips_hidden_notes_and_links_and_names_each_file_once(tmp_path):
    """What `wzmon import FOLDER` reads: response files at any depth, in path order; not hidden files or folders,
    notes or pictures, nor symlinked folders; a file reached twice (a link to it, or named again) is read once."""
    from matrix.polling.importing import collect_files

    root = tmp_path / "saved"
    for rel in ["a/b.json", "a/.cache/c.json", ".x.json", "a/notes.md", "z.html", "a/aa/y.json", "a-b/w.json"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}", encoding="utf-8")
    (root / "linked").symlink_to(root / "a", target_is_directory=True)
    (root / "same.json").symlink_to(root / "a" / "b.json")
    files, missing = collect_files([str(root), str(root / "a" / "b.json"), str(root / "nothing-here")])
    assert [f.relative_to(root).as_posix() for f in files] == ["a/aa/y.json", "a/b.json", "a-b/w.json", "z.html"]
    assert missing == [f"{root / 'nothing-here'}: no such file or folder"]
