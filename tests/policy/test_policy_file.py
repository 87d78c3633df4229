"""Loading policy files: the shipped default, and one clear error per kind of mistake."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from matrix.rules.policy import KINDS, Limit, PolicyError, default_policy_path, load_policy

MINIMAL = """\
version = "t1"

[defaults]
forward = "4 working hours"
first_response = "1 working day"
next_reply = "1 working day"
closure = "5 working days"
"""


def write(tmp_path: Path, text: str, name: str = "office.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_for(tmp_path: Path, text: str) -> PolicyError:
    p = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(p)
    assert str(p) in str(info.value), "the message names the file"
    return info.value


def test_default_policy_loads_and_is_recorded_whole():
    policy = load_policy()
    raw = default_policy_path().read_bytes()
    assert policy.text == raw.decode("utf-8")
    assert policy.sha256 == hashlib.sha256(raw).hexdigest()
    assert policy.version and len(policy.version) <= 64
    assert load_policy(None).sha256 == policy.sha256


def test_default_policy_numbers():
    policy = load_policy()
    for kind in ("投诉", "咨询", "求助", "建议"):
        lim = policy.limits(kind, None)
        assert lim.forward == Limit(4, "hours", "working")
        assert lim.first_response == Limit(1, "days", "working")
    closure = {k: policy.limits(k).closure for k in ("咨询", "求助", "建议", "投诉")}
    assert closure == {k: Limit(n, "days", "working") for k, n in (("咨询", 3), ("求助", 5), ("建议", 10), ("投诉", 15))}
    assert policy.limits("表扬").closure is None
    assert "表扬" not in policy.open_kinds and "投诉" in policy.open_kinds
    assert policy.warning.at_fraction == 0.75
    assert policy.escalation_levels == ["催办", "通报"]
    assert [str(e.after) for e in policy.escalations] == ["0 working days", "5 working days"]
    assert policy.extension.cutoff.strftime("%H:%M") == "17:00"
    assert policy.extension.cap_working_days == 10
    assert "已办结" in policy.closing_phrases and "请核实处理" in policy.forward_phrases


def test_every_default_number_cites_its_source():
    text = default_policy_path().read_text(encoding="utf-8")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r'^\s*(forward|first_response|next_reply|closure|at_fraction|after|cutoff|cap_working_days)\s*=', line):
            if '"none"' in line:
                continue
            above = "\n".join(lines[max(0, i - 4):i])
            assert "#" in above, f"line {i + 1} ({line.strip()}) has no comment saying where it comes from"


def test_minimal_policy_gets_sensible_rest(tmp_path):
    policy = load_policy(write(tmp_path, MINIMAL))
    assert policy.version == "t1"
    assert policy.escalations == ()
    assert policy.level.__self__ is policy
    assert policy.open_kinds == set(KINDS) - {"表扬"}
    assert policy.calendar.work_hours == (("08:30", "12:00"), ("13:30", "17:30"))


def test_missing_file():
    with pytest.raises(PolicyError, match="nope.toml: file not found"):
        load_policy("/nonexistent/nope.toml")


def test_syntax_error_gives_line(tmp_path):
    err = error_for(tmp_path, MINIMAL + "\n[extension]\ncutoff = 17:00 oops\n")
    assert err.line == 10
    assert ":10:" in str(err) and "not valid TOML" in str(err)


def test_not_utf8(tmp_path):
    p = tmp_path / "gbk.toml"
    p.write_bytes(MINIMAL.encode() + '# 投诉\n'.encode("gbk"))
    with pytest.raises(PolicyError, match="UTF-8"):
        load_policy(p)


@pytest.mark.parametrize(
    "patch, key, why, line",
    [
        # unknown keys
        ('\ncolour = "red"\n', "defaults.colour", "unknown key", 9),
        ('\n[defaults2]\n', "defaults2", "unknown key", 9),
        ("", "defaults.deadline", "unknown key", 8),
        # wrong types
        ('\n[extension]\ncap_working_days = "ten"\n', "extension.cap_working_days", "expected a whole number", 10),
        ('\n[phrases]\nclosing = "已办结"\n', "phrases.closing", "expected a list of strings", 10),
        ('\n[phrases]\nclosing = ["已办结", 3]\n', "phrases.closing", "item 2 should be a string", 10),
        ('\n[kinds."投诉"]\nclosure = 15\n', "kinds.投诉.closure", "expected a string", 10),
        ('\n[warning]\nat_fraction = "75%"\n', "warning.at_fraction", "expected a number", 10),
        ('\n[calendar]\nextra_holidays = "2027-01-01"\n', "calendar.extra_holidays", "expected a list of dates", 10),
        # amounts
        ('\n[kinds."投诉"]\nclosure = "-3 working days"\n', "kinds.投诉.closure", "negative amount", 10),
        ('\n[extension]\ncap_working_days = -1\n', "extension.cap_working_days", "negative amount", 10),
        ('\n[kinds."投诉"]\nclosure = "2 working weeks"\n', "kinds.投诉.closure", "unknown unit", 10),
        ('\n[kinds."投诉"]\nclosure = "2 business days"\n', "kinds.投诉.closure", "unknown basis", 10),
        ('\n[kinds."投诉"]\nclosure = "two days"\n', "kinds.投诉.closure", "cannot read", 10),
        ('\n[warning]\nat_fraction = 1.5\n', "warning.at_fraction", "between 0 and 1", 10),
        ('\n[warning]\nbefore = "4 hours"\n', "warning.before", "cannot read", 10),
        # unknown kinds and categories
        ('\n[kinds."抱怨"]\nclosure = "3 working days"\n', "kinds.抱怨", "unknown key", 9),
        ('\n[cases]\nopen_kinds = ["投诉", "抱怨"]\n', "cases.open_kinds", "unknown post kind '抱怨'", 10),
        ('\n[categories."公安".kinds."抱怨"]\nclosure = "1 working day"\n', "categories.公安.kinds.抱怨", "unknown key", 9),
        ('\n[categories."公安"]\ncolour = "blue"\n', "categories.公安.colour", "unknown key", 10),
        ('\n[categories."  "]\nclosure = "1 working day"\n', "categories.  ", "needs a name", 9),
        # times
        ('\n[calendar]\nwork_hours = ["08:30-25:00"]\n', "calendar.work_hours", "bad time", 10),
        ('\n[calendar]\nwork_hours = ["0830 to 1200"]\n', "calendar.work_hours", "bad time block", 10),
        ('\n[calendar]\nwork_hours = ["12:00-08:30"]\n', "calendar.work_hours", "end must be after the start", 10),
        ('\n[calendar]\nwork_hours = ["08:00-12:00", "11:00-14:00"]\n', "calendar.work_hours", "overlap", 10),
        ('\n[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone", "unknown time zone", 10),
        ('\n[calendar]\nextra_holidays = ["2027-02-30"]\n', "calendar.extra_holidays", "is not a date", 10),
        ('\n[calendar]\nextra_holidays = [2027-02-01T09:00:00]\n', "calendar.extra_holidays", "time of day", 10),
        ('\n[extension]\ncutoff = "5pm"\n', "extension.cutoff", "bad time", 10),
        ('\n[extension]\ncutoff = "24:00"\n', "extension.cutoff", "before 24:00", 10),
        # escalation
        ('\n[[escalation]]\nname = "overdue"\nafter = "0 working days"\n', "escalation[0].name", "reserved", 10),
        ('\n[[escalation]]\nname = "催办"\nafter = "1 working day"\n[[escalation]]\nname = "催办"\nafter = "2 working days"\n',
         "escalation[1].name", "listed twice", 13),
        ('\n[[escalation]]\nname = "催办"\nafter = "5 working days"\n[[escalation]]\nname = "通报"\nafter = "2 working days"\n',
         "escalation[1].after", "must come in order", 14),
        ('\n[[escalation]]\nname = "催办"\n', "escalation[0].after", "missing", 9),
        ('\n[[escalation]]\nname = "催办"\nafter = "none"\n', "escalation[0].after", "needs an offset", 11),
        ('\n[escalation]\nname = "催办"\n', "escalation", "expected [[escalation]] tables", 9),
        # version
        ('', "version", "non-empty", 1),
    ],
)
def test_validation_errors(tmp_path, patch, key, why, line):
    text = MINIMAL
    if key == "defaults.deadline":
        text = text + 'deadline = "1 working day"\n'
    elif key == "version":
        text = text.replace('"t1"', '""')
    text += patch
    err = error_for(tmp_path, text)
    assert err.key == key
    assert why in err.reason
    assert err.line == line
    assert str(err).startswith(f"{tmp_path / 'office.toml'}:{line}: {key}: ")


def test_missing_defaults(tmp_path):
    err = error_for(tmp_path, 'version = "x"\n')
    assert err.key == "defaults" and "missing" in err.reason
    err = error_for(tmp_path, MINIMAL.replace('closure = "5 working days"\n', ""))
    assert err.key == "defaults.closure" and 'write "none"' in err.reason


def test_wrong_type_version(tmp_path):
    err = error_for(tmp_path, MINIMAL.replace('"t1"', "3"))
    assert err.key == "version" and "expected a string, got a number" in err.reason


def test_limit_strings_accepted(tmp_path):
    text = MINIMAL + '\n[kinds."咨询"]\nforward = "30 working minutes"\nfirst_response = "48 calendar hours"\n' \
                     'next_reply = "1 Calendar Day"\nclosure = "none"\n'
    lim = load_policy(write(tmp_path, text)).limits("咨询")
    assert lim.forward == Limit(30, "minutes", "working")
    assert lim.first_response == Limit(48, "hours", "calendar")
    assert lim.next_reply == Limit(1, "days", "calendar")
    assert lim.closure is None
    assert str(Limit(1, "days", "working")) == "1 working day"
    assert Limit.parse(str(Limit(5, "hours", "calendar"))) == Limit(5, "hours", "calendar")
    with pytest.raises(ValueError):
        Limit(-1, "days", "working")


def test_unknown_year_error_points_at_the_policy_file(tmp_path):
    from datetime import datetime, timedelta, timezone

    from matrix.rules.policy import CalendarError
    from matrix.rules.workcal import chinesecalendar_years

    _, hi = chinesecalendar_years()
    p = write(tmp_path, MINIMAL + f"\n[calendar]\nextra_holidays = [{hi + 1}-01-01]\n")
    policy = load_policy(p)
    start = datetime(hi + 1, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    assert policy.deadline(start, Limit(1, "days", "working")) > start  # the year is known by hand now
    assert policy.deadline(start.replace(year=hi + 2), Limit(1, "days", "working")) > start  # provisional
    with pytest.raises(CalendarError) as info:
        policy.deadline(start.replace(year=2100), Limit(1, "days", "working"))
    assert str(p) in str(info.value) and "2100" in str(info.value)
    assert "[calendar] extra_holidays / extra_workdays" in str(info.value)
