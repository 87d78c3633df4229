"""matrix.reading.queries on a known data set: figures, lists, and scoping (None = office, list = member)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from dashboard_seed import A, A_SECRET, B, B_SECRET, COORD, EVIL_TEXT, NOW, block_crawler
from matrix.reading import queries as q
from matrix.storage.db import open_db

START, END = date(2025, 6, 12), date(2025, 6, 18)


@pytest.fixture
def session(seeded):  # noqa: ANN001, ANN201
    url, data = seeded
    with Session(open_db(url)) as s:
        yield s, data


def test_local_day_bounds_are_shanghai_days() -> None:
    lo, hi = q.local_day_bounds(date(2025, 6, 18), date(2025, 6, 18))
    assert (lo.isoformat(), hi.isoformat()) == ("2025-06-17T16:00:00+00:00", "2025-06-18T16:00:00+00:00")
    assert q.previous_period(date(2025, 6, 12), date(2025, 6, 18)) == (date(2025, 6, 5), date(2025, 6, 11))


def test_data_now_follows_old_data_and_live_data(session) -> None:  # noqa: ANN001
    s, _ = session
    newest = q.data_now(s)
    assert NOW - timedelta(days=1) < newest <= NOW  # old (2025) data: the board reads it as of its last item


def test_headline_figures(session) -> None:  # noqa: ANN001
    s, data = session
    figs = q.headline_figures(s, START, END, now=NOW)
    cur = figs["current"]
    assert cur["cases"] == 8 and cur["closed"] == 1 and cur["open"] == 7
    assert cur["overdue"] == len(data.a_overdue) + len(data.b_overdue) + 1
    assert cur["negative"] == 4 and cur["responded"] == 3
    assert cur["median_response_working_minutes"] == 120
    assert figs["previous"]["cases"] == 0 and figs["previous"]["response_rate"] is None
    police = q.headline_figures(s, START, END, account_uids=[A], now=NOW)
    assert police["current"]["cases"] == 4 and police["overdue_now"] == len(data.a_overdue)
    assert q.headline_figures(s, START, END, account_uids=[], now=NOW)["current"]["cases"] == 0


def test_overdue_cases_scoped_and_filtered(session) -> None:  # noqa: ANN001
    s, data = session
    all_ = q.overdue_cases(s)
    assert list(all_["case_id"])[0] == 2  # longest overdue first
    assert set(all_["case_id"]) == set(data.a_overdue) | set(data.b_overdue) | {8}
    assert set(q.overdue_cases(s, account_uids=[A])["case_id"]) == set(data.a_overdue)
    assert set(q.overdue_cases(s, account_uids=[B])["case_id"]) == set(data.b_overdue)
    assert q.overdue_cases(s, account_uids=[]).empty
    assert set(q.overdue_cases(s, department=["教育"])["case_id"]) == set(data.b_overdue)
    assert set(q.overdue_cases(s, level=["催办"])["case_id"]) == {2}
    assert set(q.overdue_cases(s, kind=["求助"], account_uids=[A])["case_id"]) == {2}
    # a member filtering for another member's account still gets nothing of it
    assert q.overdue_cases(s, account_uids=[A], accounts=[B]).empty
    cut = q.overdue_cases(s, limit=2)
    assert len(cut) == 2 and cut.attrs["total"] == 4


def test_negative_posts_scoped(session) -> None:  # noqa: ANN001
    s, data = session
    df = q.negative_posts(s, start=START, end=END)
    assert {"case", "comment"} == set(df["source"])
    assert data.evil_case in set(df["case_id"])
    police = q.negative_posts(s, account_uids=[A], start=START, end=END)
    assert set(police["account_uid"]) == {A}
    assert not police["text"].str.contains(B_SECRET[:6]).any()
    assert q.negative_posts(s, account_uids=[], start=START, end=END).empty


def test_case_detail_and_timeline_scoped(session) -> None:  # noqa: ANN001
    s, data = session
    d = q.case_detail(s, data.evil_case)
    assert d["post"]["text"] == EVIL_TEXT and d["account"]["uid"] == B
    assert {x["name"] for x in d["deadlines"]} >= {"forward_due", "first_response_due"}
    assert q.case_detail(s, data.evil_case, account_uids=[A]) is None
    assert q.case_detail(s, 999_999) is None
    tl = q.case_timeline(s, data.a_secret_case)
    assert list(tl["type"])[:2] == ["citizen_post", "opened"]
    assert {"account_repost", "forwarded", "overdue", "citizen_followup"} <= set(tl["type"])
    assert q.case_timeline(s, data.a_secret_case, account_uids=[B]).empty
    assert q.case_ids_in_scope(s, [data.a_secret_case, data.b_secret_case], account_uids=[A]) == [data.a_secret_case]


def test_account_summary_and_trends(session) -> None:  # noqa: ANN001
    s, _ = session
    summary = q.account_summary(s, START, END)
    row = summary.set_index("account_uid").loc[A]
    assert (row["cases"], row["overdue"], row["responded"]) == (4, 2, 2)
    assert set(q.account_summary(s, START, END, account_uids=[B])["account_uid"]) == {B}
    tr = q.trends(s, START, END)
    assert len(tr) == 7 and tr["cases"].sum() == 8
    assert tr["posts"].sum() > tr["cases"].sum()
    member = q.trends(s, START, END, account_uids=[A])
    assert member["cases"].sum() == 4
    at = q.account_trends(s, START, END, account_uids=[A])
    assert set(at["account_uid"]) == {A} and at["cases"].sum() == 4


def test_crawler_status_alarm_and_alerts(session, seeded) -> None:  # noqa: ANN001
    s, data = session
    status = q.crawler_status(s)
    assert len(status) == 3
    assert set(q.crawler_status(s, account_uids=[A])["source_key"]) == {f"timeline:{A}"}
    assert q.crawler_alarm(s, now=NOW) is None
    block_crawler(open_db(seeded[0]))
    alarm = q.crawler_alarm(s, now=NOW)
    assert alarm["state"] == "blocked" and alarm["http_status"] == 432
    log = q.alert_log(s)
    assert len(log) == 4
    assert set(q.alert_log(s, account_uids=[A])["account_uid"]) == {A}
    assert q.alert_log(s, account_uids=[]).empty
    assert set(q.alert_attempts(s, account_uids=[B])["account_uid"]) <= {B}
    assert COORD not in set(q.alert_log(s, account_uids=[A, B])["account_uid"])
