"""The command line as a person types it: every command of `wzmon --help`, walked recursively, run in a subprocess with
real arguments and with a typical mistake (see entries.py). A mistake gives its exit status and a plain line naming
what is wrong, never a traceback; a command added without entries fails `test_every_command_has_entries`."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from tests.cli.entries import ENTRIES, Entry

REPO = Path(__file__).resolve().parents[2]
WZMON = [sys.executable, "-m", "matrix.cli.root"]
NOW = "2026-12-22T10:00"


def command_paths() -> list[str]:
    from matrix.cli.root import main

    def walk(cmd: click.Command, path: list[str]):  # noqa: ANN202
        if isinstance(cmd, click.Group):
            if path and cmd.invoke_without_command:  # a group that also runs on its own (`wzmon report`)
                yield " ".join(path)
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path)

    return list(walk(main, []))


def test_every_command_has_entries():
    missing = []
    for path in command_paths():
        mine = [e for e in ENTRIES if e.command == path]
        if not any(not e.mistake for e in mine) or not any(e.mistake for e in mine):
            missing.append(path)
    assert not missing, f"commands without a real run and a mistake in tests/cli/entries.py: {missing}"
    assert sum(1 for e in ENTRIES if e.mistake) >= 12


def test_every_command_help_ends_with_an_example():
    from click.testing import CliRunner

    from matrix.cli.root import main

    lacking = []
    for path in command_paths():
        out = CliRunner().invoke(main, [*path.split(), "--help"])
        assert out.exit_code == 0, out.output
        body = out.output.split("Options:")[0]
        if not re.search(r"Example:\s*\n\s+wzmon \S", body):
            lacking.append(path)
    assert not lacking, f"--help without an example: {lacking}"


@pytest.fixture
def smtp_server():  # noqa: ANN201
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that accepts every message; yields its port."""
    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
            return "250 OK"

    from dashboard.server import free_port

    controller = Controller(Accept(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port
    controller.stop()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A demo database played at 2026-12-22 10:00, made once; each entry works on its own copy."""
    from sqlalchemy import select

    from matrix.storage.db import dispose_engines, open_db, session_scope
    from matrix.storage.models import Account, Case

    tmp = tmp_path_factory.mktemp("cli-demo")
    url = f"sqlite:///{tmp / 'demo.db'}"
    env = {**os.environ, "WZMON_NOW": NOW}
    out = subprocess.run([*WZMON, "--db", url, "demo", "--no-dashboard", "--play-seconds", "2"], env=env, cwd=tmp,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    with session_scope(open_db(url)) as s:
        open_ = [c for c in s.scalars(select(Case).where(Case.status == "open").order_by(Case.id))]
        closed = s.scalars(select(Case.id).where(Case.status == "closed").order_by(Case.id)).first()
        names = {a.uid: a.screen_name for a in s.scalars(select(Account))}
    dispose_engines()
    first, second = open_[0], next(c for c in open_[1:] if c.account_uid == open_[0].account_uid) \
        if any(c.account_uid == open_[0].account_uid for c in open_[1:]) else open_[1]
    other = next(n for uid, n in names.items() if uid != first.account_uid and n != "问政银川")
    return tmp / "demo.db", {"open": str(first.id), "open2": str(second.id), "closed": str(closed),
                             "other_account": other}


def _files(tmp: Path) -> None:
    (tmp / "roster.csv").write_text(
        "uid,screen_name,name,department,category,role,contacts,active_from,active_to\n"
        "1000000001,银川测试局,银川市测试局,测试,政府部门,member,,,\n", encoding="utf-8")
    (tmp / "bad_roster.csv").write_text(
        "uid,screen_name,name,department,category,role,contacts,active_from,active_to\n"
        "12ab,坏账号,坏单位,测试,政府部门,member,,,\n", encoding="utf-8")
    (tmp / "broken.toml").write_text('version = "x"\n[defaults\n', encoding="utf-8")
    (tmp / "texts.txt").write_text("路灯坏了一个月没人修，太让人生气了\n感谢交警同志的耐心帮助\n", encoding="utf-8")
    (tmp / "labelled.csv").write_text("text,label\n路灯坏了一个月没人修，太让人生气了,negative\n"
                                      "感谢交警同志的耐心帮助,positive\n请问社保卡在哪里补办,neutral\n", encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


def _run(args: list[str], env: dict, cwd: Path, stdin: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([*WZMON, *args], capture_output=True, text=True, env=env, cwd=cwd, input=stdin,
                          timeout=300)


def _serve(args: list[str], env: dict, cwd: Path, wait_for: str) -> str:
    """Start a long-running command, wait for WAIT_FOR in its output, interrupt it (Ctrl-C); returns its output."""
    import threading

    proc = subprocess.Popen([*WZMON, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read1(4096), b"")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if wait_for in b"".join(chunks).decode("utf-8", "replace"):
                break
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert wait_for in out, out[-3000:]
    return out


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.command}-{'mistake' if e.mistake else 'ok'}-{i}"
                                                for i, e in enumerate(ENTRIES)])
def test_command_as_typed(entry: Entry, demo_db, tmp_path, request):
    from dashboard.server import free_port

    db_file, ids = demo_db
    shutil.copy(db_file, tmp_path / "demo-copy.db")
    _files(tmp_path)
    values = {"db": f"sqlite:///{tmp_path / 'demo-copy.db'}", "tmp": str(tmp_path),
              "data": str(REPO / "tests" / "crawler" / "data"), "notices": str(REPO / "tests" / "policy" / "notices"),
              "dead": "http://127.0.0.1:9", "port": str(free_port()), **ids}
    if any("{weibo}" in a for a in [*entry.args, *(a for before in entry.before for a in before)]):
        values["weibo"] = request.getfixturevalue("fake_weibo").base_url
    if any("{smtp_port}" in v for v in entry.env.values()):
        values["smtp_port"] = str(request.getfixturevalue("smtp_server"))
    args = [_fill(a, values) for a in entry.args]
    env = {**os.environ, "WZMON_NOW": NOW, **{k: _fill(v, values) for k, v in entry.env.items()}}
    env.pop("WZMON_DB", None)
    for before in entry.before:
        pre = _run([_fill(a, values) for a in before], env, tmp_path, None)
        assert pre.returncode == 0, pre.stdout + pre.stderr
    says = _fill(entry.says, values)
    if entry.serve:
        out = _serve(args, env, tmp_path, _fill(entry.serve, values))
        assert "Traceback" not in out, out[-3000:]
        return
    out = _run(args, env, tmp_path, entry.stdin)
    both = out.stdout + out.stderr
    assert "Traceback" not in both, both[-3000:]
    assert out.returncode == entry.code, f"exit {out.returncode}, expected {entry.code}:\n{both[-3000:]}"
    if entry.mistake:
        errors = [ln for ln in out.stderr.splitlines() if ln.startswith("Error")]
        assert len(errors) == 1 or out.returncode == 4, out.stderr[-2000:]
        assert says in out.stderr, out.stderr[-2000:]
    else:
        assert says in both, both[-3000:]


def test_every_case_link_in_the_demo_outbox_names_that_cases_page(demo_db):
    """The demo's alerts link the board's case page (the path the board serves it at, dashboard: url_path "case"),
    each for the case the alert is about; tests/alerts/test_alert_links_browser.py opens such links in chromium."""
    from sqlalchemy import select

    from matrix.storage.db import dispose_engines, open_db, session_scope
    from matrix.storage.models import Alert

    with session_scope(open_db(f"sqlite:///{demo_db[0]}")) as s:
        alerts = [(a.case_id, a.body) for a in s.scalars(select(Alert).where(Alert.case_id.is_not(None)))]
    dispose_engines()
    assert alerts
    for case_id, body in alerts:
        links = re.findall(r"https?://\S+", body)
        assert f"http://127.0.0.1:8501/case?case={case_id}" in links, body
        assert not [u for u in links if "/case?case=" in u and not u.endswith(f"={case_id}")], body
