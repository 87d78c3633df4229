"""Every `wzmon` command as a person types it: at least one run with real arguments and one typical mistake each.

`test_cli_suite.py` walks `wzmon --help` (the click tree) and fails when a command has no entry of either kind here.
Placeholders in the arguments are filled by the suite: {db} a copy of a demo database (SQLite, played at
2026-12-22 10:00), {tmp} the test's own folder, {data} tests/crawler/data (real-shaped saved responses),
{notices} tests/policy/notices, {open} {open2} {closed} ids of demo cases in those states, {weibo} the base URL of
a running fake Weibo, {smtp_port} a local SMTP server's port, {dead} a local address where nothing answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entry:
    command: str  # the command path, e.g. "case close"
    args: list[str]  # what is typed after `wzmon`
    code: int = 0  # the exit status expected
    says: str = ""  # text the output must hold (stdout for real runs, stdout+stderr for mistakes)
    before: list[list[str]] = field(default_factory=list)  # commands run first (must succeed)
    stdin: str | None = None
    serve: str = ""  # a long-running command: wait for this text in its output, then interrupt it
    env: dict[str, str] = field(default_factory=dict)

    @property
    def mistake(self) -> bool:
        return self.code != 0 and not self.serve


def ok(command: str, *args: str, says: str = "", **kw) -> Entry:  # noqa: ANN003
    return Entry(command, list(args), 0, says, **kw)


def mistake(command: str, *args: str, says: str, code: int = 1, **kw) -> Entry:  # noqa: ANN003
    return Entry(command, list(args), code, says, **kw)


DB = ["--db", "{db}"]
NODB = ["--db", "sqlite:///{tmp}/missing.db"]
REASON = ["--reason", "已电话联系市民并处理"]

ENTRIES: list[Entry] = [
    ok("init", "--db", "sqlite:///{tmp}/new.db", "init", says="new.db"),
    mistake("init", "--db", "/nonexist/x.db", "init", says="folder /nonexist for the SQLite file does not exist"),
    ok("db upgrade", *DB, "db", "upgrade"),
    mistake("db upgrade", "--db", "/nonexist/x.db", "db", "upgrade", says="folder /nonexist for the SQLite file"),
    ok("db copy", "db", "copy", "--from", "{db}", "--to", "sqlite:///{tmp}/copy.db", says="row counts verified"),
    mistake("db copy", "db", "copy", "--from", "{db}", "--to", "postgresql+psycopg://postgres@127.0.0.1:9/x",
            says="cannot reach database"),
    ok("accounts list", *DB, "accounts", "list", says="问政银川"),
    mistake("accounts list", *NODB, "accounts", "list", says="run `wzmon init` first"),
    ok("accounts import", *DB, "accounts", "import", "{tmp}/roster.csv", says="1"),
    mistake("accounts import", *DB, "accounts", "import", "{tmp}/bad_roster.csv",
            says="is not a Weibo uid (digits only)"),
    ok("policy check", "policy", "check", says="default-2025.1"),
    mistake("policy check", "policy", "check", "{tmp}/broken.toml", says="broken.toml"),
    ok("poll", *DB, "poll", "--once", "--base-url", "{weibo}", "--rpm", "6000", says="Polled",
       env={"WZMON_NOW": "2026-12-23T10:00"}),
    mistake("poll", *DB, "poll", "--once", "--base-url", "{dead}", says="Weibo cannot be reached",
            env={"WZMON_NOW": "2026-12-23T10:00"}),
    # a cookie from `wzmon login` in the pool folder, and the visitor cookie from the fake passport
    ok("poll", *DB, "poll", "--once", "--base-url", "{weibo}", "--rpm", "6000", says="office.cookie\t?\tactive",
       before=[["login", "--headless", "--base-url", "{weibo}/__autoscan", "--check-url", "{weibo}",
                "--cookie-file", "{tmp}/cookies/office.cookie"]],
       env={"WZMON_NOW": "2026-12-23T10:00", "WZMON_WEIBO_COOKIE_DIR": "{tmp}/cookies", "WZMON_WEIBO_VISITOR": "1"}),
    ok("cookies", *DB, "cookies", says="office.cookie\tsha256:",
       before=[["login", "--headless", "--base-url", "{weibo}/__autoscan", "--check-url", "{weibo}",
                "--cookie-file", "{tmp}/cookies/office.cookie"]],
       env={"WZMON_WEIBO_COOKIE_DIR": "{tmp}/cookies", "WZMON_WEIBO_VISITOR": "1"}),
    mistake("cookies", *DB, "cookies", "--cookie-file", "{tmp}/nope.cookie", says="nope.cookie cannot be read"),
    ok("run", *DB, "-v", "run", "--base-url", "{weibo}", "--interval", "1", "--no-leases", "--rpm", "6000",
       serve="pass 1:"),
    mistake("run", *DB, "run", "--interval", "soon", code=2, says="'soon' is not a valid float"),
    ok("import", *DB, "import", "{data}/hotflow.json", "{data}/timeline_getindex.json", says="Imported 2 of 2 file(s)"),
    ok("import", *DB, "import", "{data}/search_getindex.json", "--no-alerts",
       says="recorded without alerts (--no-alerts)"),
    mistake("import", *DB, "import", "{tmp}/nope.json", says="no such file or folder"),
    ok("parse", "parse", "{data}/timeline_getindex.json", says='"created_at"'),
    mistake("parse", "parse", "{data}/unknown.json", says="not a Weibo answer we know"),
    ok("cases", *DB, "cases", "--overdue", says="case_id"),
    mistake("cases", *DB, "cases", "--account", "不存在的账号", says="no account 不存在的账号 in the roster"),
    ok("recompute", *DB, "recompute", says="Recomputed"),
    mistake("recompute", *DB, "recompute", "--policy", "{tmp}/missing.toml", says="missing.toml"),
    ok("case show", *DB, "case", "show", "{open}", says="{open}"),
    mistake("case show", *DB, "case", "show", "999999", says="999999"),
    ok("case close", *DB, "case", "close", "{open}", *REASON, says="closed"),
    mistake("case close", *DB, "case", "close", "999999", *REASON, says="999999"),
    ok("case reopen", *DB, "case", "reopen", "{closed}", "--reason", "市民反映未解决"),
    mistake("case reopen", *DB, "case", "reopen", "{open}", "--reason", "x", says="{open}"),
    ok("case rework", *DB, "case", "rework", "{closed}", "--reason", "答复不合格，发回重办"),
    mistake("case rework", *DB, "case", "rework", "999999", "--reason", "x", says="999999"),
    ok("case reassign", *DB, "case", "reassign", "{open}", "{other_account}", "--reason", "属地管理"),
    mistake("case reassign", *DB, "case", "reassign", "{open}", "不存在的账号", "--reason", "x", says="不存在的账号"),
    ok("case merge", *DB, "case", "merge", "{open2}", "{open}", "--reason", "同一诉求"),
    mistake("case merge", *DB, "case", "merge", "{open}", "{open}", "--reason", "x", says="{open}"),
    ok("case invalid", *DB, "case", "invalid", "{open}", "--reason", "广告，非诉求"),
    mistake("case invalid", *DB, "case", "invalid", "999999", "--reason", "x", says="999999"),
    ok("case extend", *DB, "case", "extend", "{open}", "--days", "3", "--reason", "需现场核查"),
    mistake("case extend", *DB, "case", "extend", "{open}", "--days", "three", "--reason", "x", code=2,
            says="'three' is not a valid integer"),
    ok("case grant-extension", *DB, "case", "grant-extension", "{open}", "--reason", "同意",
       before=[[*DB, "case", "extend", "{open}", "--days", "3", "--reason", "需现场核查"]]),
    mistake("case grant-extension", *DB, "case", "grant-extension", "999999", "--reason", "x", says="999999"),
    ok("case refuse-extension", *DB, "case", "refuse-extension", "{open}", "--reason", "理由不充分",
       before=[[*DB, "case", "extend", "{open}", "--days", "3", "--reason", "需现场核查"]]),
    mistake("case refuse-extension", *DB, "case", "refuse-extension", "999999", "--reason", "x", says="999999"),
    ok("report", *DB, "report", "--week", "2026-W51", "--out", "{tmp}/report", says="report"),
    mistake("report", *DB, "report", "--week", "2026-W99", says="2026 has no week 99"),
    ok("report inspect", *DB, "report", "inspect", "--month", "2026-12", "--out", "{tmp}/inspect",
       says="inspection-2026-12.md", env={"WZMON_NOW": "2026-12-22T10:00"}),
    mistake("report inspect", *DB, "report", "inspect", "--month", "2026-13", says="write it like 2026-11"),
    ok("export", *DB, "export", "cases", "events", "--out", "{tmp}/export", says="cases"),
    mistake("export", *DB, "export", "tweets", "--out", "{tmp}/export", code=2, says="'tweets'"),
    ok("status", *DB, "status", says="wzmon status"),
    mistake("status", *NODB, "status", code=4, says="NO DATABASE"),
    ok("calendar show", "calendar", "show", "2027", says="2027: provisional calendar"),
    mistake("calendar show", "calendar", "show", "2300", code=2, says="2300"),
    ok("calendar import", *DB, "calendar", "import", "{notices}/2027-test.txt", "--yes",
       says="Re-judged", env={"WZMON_CALENDAR": "{tmp}/calendar.toml"}),
    mistake("calendar import", *DB, "calendar", "import", "{tmp}/roster.csv", "--yes", says="nothing was written",
            env={"WZMON_CALENDAR": "{tmp}/calendar.toml"}),
    ok("alerts list", *DB, "alerts", "list"),
    mistake("alerts list", *DB, "alerts", "list", "--status", "lost", code=2, says="'lost' is not one of"),
    ok("alerts send", *DB, "alerts", "send"),
    mistake("alerts send", *NODB, "alerts", "send", says="run `wzmon init` first"),
    ok("alerts digest", *DB, "alerts", "digest", "--office"),
    mistake("alerts digest", *DB, "alerts", "digest", "--account", "不存在的账号", says="不存在的账号"),
    ok("alerts test", *DB, "alerts", "test", "--account", "问政银川", says="ok",
       env={"WZMON_SMTP_HOST": "127.0.0.1", "WZMON_SMTP_PORT": "{smtp_port}", "WZMON_SMTP_FROM": "wzmon@example.gov.cn"}),
    mistake("alerts test", *DB, "alerts", "test", "--account", "不存在的账号", says="不存在的账号"),
    ok("score", "score", "{tmp}/texts.txt", says="label"),
    mistake("score", "score", "{tmp}/nope.txt", says="nope.txt: file not found"),
    ok("sentiment eval", "sentiment", "eval", "{tmp}/labelled.csv", says="macro"),
    mistake("sentiment eval", "sentiment", "eval", "{tmp}/texts.txt", says="no column 'text'"),
    ok("sentiment train", "sentiment", "train", "--out", "{tmp}/model.json.gz", says="model"),
    mistake("sentiment train", "sentiment", "train", "--shared-data", "{tmp}/nothing-here",
            says="sentiment_dev.csv not found"),
    ok("users add", "users", "add", "duban", "--role", "office", "--users", "{tmp}/users.toml", "--password-env",
       "DUBAN_PASSWORD", env={"DUBAN_PASSWORD": "a-long-enough-secret-1"}, says="duban"),
    mistake("users add", "users", "add", "duban", "--role", "boss", "--users", "{tmp}/users.toml", code=2,
            says="'boss' is not one of"),
    ok("users list", "users", "list", "--users", "{tmp}/users.toml", says="duban",
       before=[["users", "add", "duban", "--role", "office", "--users", "{tmp}/users.toml", "--password-env",
                "DUBAN_PASSWORD"]], env={"DUBAN_PASSWORD": "a-long-enough-secret-1"}),
    mistake("users list", "users", "list", "--users", "{tmp}/nope.toml", says="nope.toml does not exist"),
    ok("dashboard", *DB, "dashboard", "--port", "{port}", serve="You can now view your Streamlit app"),
    mistake("dashboard", *DB, "dashboard", "--port", "99999", code=2, says="99999"),
    ok("fake-weibo", "fake-weibo", "--port", "0", serve="/__sim/truth"),
    mistake("fake-weibo", "fake-weibo", "--end", "yesterday", says="is not an ISO date-time"),
    ok("fake-weibo", "fake-weibo", "--port", "0", "--refuse", "mobile", "--refuse", "search",
       serve="refusing: mobile, search"),
    mistake("fake-weibo", "fake-weibo", "--refuse", "mobil", code=2, says="'mobil' is not one of 'mobile'"),
    ok("login", "login", "--headless", "--base-url", "{weibo}/__autoscan", "--check-url", "{weibo}",
       "--cookie-file", "{tmp}/weibo.cookie", "--timeout", "60", says="logged in as uid"),
    mistake("login", "login", "--headless", "--base-url", "{weibo}", "--cookie-file", "{tmp}/weibo.cookie",
            "--timeout", "0", says="--timeout", code=2),
    ok("demo", "--db", "sqlite:///{tmp}/demo.db", "demo", "--no-dashboard", "--play-seconds", "1", "--accounts", "3",
       "--days", "1", says="The scenario left"),
    mistake("demo", *DB, "demo", "--accounts", "0", code=2, says="--accounts"),
    ok("demo", "--db", "sqlite:///{tmp}/demo.db", "demo", "--no-dashboard", "--play-seconds", "1", "--accounts", "3",
       "--days", "1", "--refuse", "mobile", says="refusing mobile"),
    mistake("demo", *DB, "demo", "--refuse", "door", code=2, says="'door' is not one of 'mobile'"),
]
