"""告警: the alert outbox (what was queued for whom, and its state) and the delivery log."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

scope = ui.scope()
start, end = ui.period()
st.title("告警")
c1, c2, c3 = st.columns(3)
status = c1.multiselect("状态", ["pending", "sent", "failed", "dead"], key="alert_status")
level = c2.multiselect("等级", ["warning", "overdue", "催办", "通报", "digest", "test"], key="alert_level")
use_period = c3.toggle("只看统计期间", value=False, key="alert_period")
kw = {"start": start, "end": end} if use_period else {}
outbox = data.q("alert_log", account_uids=scope, status=tuple(status), level=tuple(level), limit=2000, **kw)
STATUS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败(将重试)", "dead": "放弃"}
if outbox.empty:
    st.info("没有告警。")
else:
    counts = outbox["status"].value_counts()
    m = st.columns(4)
    for i, s in enumerate(("pending", "sent", "failed", "dead")):
        m[i].metric(STATUS[s], int(counts.get(s, 0)))
    view = ui.localize(outbox)
    view["status"] = view["status"].map(lambda s: STATUS.get(s, s))
    view["level"] = view["level"].map(lambda s: ui.LEVEL_ZH.get(s, s))
    picked = ui.case_table(
        view.rename(columns={"alert_id": "告警"}), "alerts_table",
        ["告警", "created_at", "case_id", "screen_name", "level", "channel", "address", "subject", "status",
         "attempts", "sent_at", "last_error"],
    )
    if picked:
        ui.open_case(picked)
st.subheader("投递日志")
attempts = data.q("alert_attempts", account_uids=scope, limit=2000)
if attempts.empty:
    st.info("还没有投递记录。")
else:
    st.dataframe(
        ui.localize(attempts).rename(columns={"at": "时间", "alert_id": "告警", "case_id": "案件", "account_uid": "账号UID",
                                              "channel": "渠道", "ok": "成功", "error": "错误", "duration_ms": "耗时(ms)"}),
        hide_index=True, width="stretch",
        column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
