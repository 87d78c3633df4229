"""案件详情: one case — the post, follow-ups, forwarding, replies and events on one time line with the
deadlines drawn; sentiment, kind, policy version; office actions with a required reason.

The case id comes from ?case=N. A case outside the user's accounts reads exactly like a missing one.
"""
from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import actions_ui, data, ui

scope = ui.scope()
st.title("案件详情")

raw = st.query_params.get("case", "")
try:
    case_id = int(raw) if raw else None
except ValueError:
    case_id = None
    st.error("地址中的案件编号不是数字。")

c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
typed = c1.number_input("案件编号", min_value=1, step=1, value=case_id, key=f"case_box_{case_id}")
if c2.button("打开", key="case_open") and typed and typed != case_id:
    st.query_params["case"] = str(int(typed))
    st.rerun()
if case_id is None:
    st.info("从「总览」「超期」「负面」列表点选一行，或输入案件编号。")
    st.stop()

done = st.session_state.pop("act_done", None)
if done:
    st.success(done)

detail = data.fresh("case_detail", case_id, account_uids=scope)
if detail is None:
    st.error(f"没有案件 {case_id}，或您无权查看。")
    st.stop()

post = detail.get("post") or {}
account = detail.get("account") or {}
st.subheader(f"案件 #{case_id}")
m = st.columns(5)
m[0].metric("状态", ui.STATUS_ZH.get(detail["status"], detail["status"]))
m[1].metric("超期等级", ui.LEVEL_ZH.get(detail["overdue_level"], detail["overdue_level"]) or "—")
m[2].metric("类别", (detail["kind"] or "—") + ("（评论区诉求）" if detail.get("origin") == "comment" else ""))
senti = {"negative": "负面", "neutral": "中性", "positive": "正面"}.get(detail.get("sentiment_label") or "", "—")
m[3].metric("情感", senti)
m[4].metric("首次回复(工作分钟)", "—" if detail.get("first_response_working_minutes") is None
            else f"{detail['first_response_working_minutes']:,}")

_CLOCK_ZH = {"forward": "转办时限", "first_response": "首复时限", "next_reply": "续复时限", "closure": "办结时限"}
_pending = json.loads(detail["pending_dues"]) if detail.get("pending_dues") else {}
for _clock, _why in _pending.items():
    st.warning(f"时限待定：{_CLOCK_ZH.get(_clock, _clock)}无法计算（{ui.md_escape(_why)}）", icon=":material/event_busy:")
_prov = [c for c in (detail.get("provisional_dues") or "").split(",") if c]
if _prov:
    st.info("暂定时限：" + "、".join(_CLOCK_ZH.get(c, c) for c in _prov) + " 按法定节假日推算（尚无当年放假通知，未含调休），"
            "导入通知后自动重算。", icon=":material/event_upcoming:")


def _due_text(key: str, clock: str) -> str:
    text = ui.local_text(detail.get(key))
    if clock in _pending:
        return "时限待定"
    return f"{text}（暂定）" if text and clock in _prov else text


facts = {
    "承办账号": f"{account.get('screen_name', '')}（{account.get('name', '')} · {account.get('department', '')}）"
    if account else (detail.get("account_uid") or ""),
    "市民": detail.get("citizen_name", ""),
    "开启时间": ui.local_text(detail.get("opened_at")),
    "转办时间": ui.local_text(detail.get("forwarded_at")),
    "首次回复": ui.local_text(detail.get("first_response_at")),
    "办结时间": ui.local_text(detail.get("closed_at")),
    "转办时限": _due_text("forward_due", "forward"),
    "首复时限": _due_text("first_response_due", "first_response"),
    "续复时限": _due_text("next_reply_due", "next_reply"),
    "办结时限": _due_text("closure_due", "closure"),
    "延期(工作日)": str(detail.get("extension_working_days") or 0),
    "合并到": str(detail["merged_into"]) if detail.get("merged_into") else "",
    "被合并案件": ", ".join(str(i) for i in detail.get("merged_from", [])),
    "规则版本": str((detail.get("policy") or {}).get("version", "")),
    "原帖": post.get("source_url", "") or post.get("id", ""),
}
left, right = st.columns([3, 2])
with left:
    st.markdown("**原帖**")
    with st.container(border=True):
        st.text(f"{post.get('screen_name', '')}  ·  {ui.local_text(post.get('created_at'))}")
        st.text(post.get("text", "") or "（无正文）")
        if post.get("sentiment_score") is not None:
            st.caption(f"情感分 {post['sentiment_score']:.2f} · 置信度 {post.get('sentiment_confidence') or 0:.2f}")
with right:
    shown = {k: v for k, v in facts.items() if v}
    st.dataframe(pd.DataFrame({"项目": list(shown), "值": list(shown.values())}), hide_index=True,
                 width="stretch", height=38 + 35 * len(shown))

timeline = data.fresh("case_timeline", case_id, account_uids=scope)
TYPE_ZH = {
    "citizen_post": "市民原帖", "citizen_followup": "市民追问", "account_reply": "账号回复", "account_repost": "转发/转办",
    "opened": "开启", "forwarded": "转办", "reassigned": "改派", "first_response": "首次回复", "reply": "回复",
    "citizen_followup_event": "市民追问", "closed": "办结", "warning": "预警", "overdue": "超期", "escalated": "升级",
    "merged": "合并", "invalid": "无效诉求", "extension_requested": "申请延期", "extension_granted": "批准延期",
    "extension_refused": "驳回延期", "reopened": "重新打开", "rework": "发回重办", "recomputed": "重新计算",
    "note": "备注",
}
st.subheader("时间线")
if not timeline.empty:
    tl = ui.localize(timeline)
    tl["事项"] = tl["type"].map(lambda t: TYPE_ZH.get(t, t))
    tl["轨道"] = tl.apply(
        lambda r: "市民" if str(r["type"]).startswith("citizen") else ("账号" if r["entry"] == "post" else "事件"), axis=1
    )
    tl["摘要"] = (tl["text"].fillna("").str.slice(0, 60) + " " + tl["reason"].fillna("")).str.strip()
    points = alt.Chart(tl).mark_circle(size=140).encode(
        x=alt.X("at:T", title="时间（北京时间）"),
        y=alt.Y("轨道:N", title=None, sort=["市民", "账号", "事件"]),
        color=alt.Color("事项:N", title="事项"),
        tooltip=[alt.Tooltip("at:T", title="时间", format="%Y-%m-%d %H:%M"), "事项:N", "actor:N", "摘要:N"],
    )
    layers = [points]
    dl = pd.DataFrame(detail.get("deadlines", []))
    if not dl.empty:
        names = {"forward_due": "转办时限", "first_response_due": "首复时限", "next_reply_due": "续复时限",
                 "closure_due": "办结时限"}
        dl["时限"] = dl["name"].map(names)
        dl["at"] = pd.to_datetime(dl["due"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        rules = alt.Chart(dl).mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
            x="at:T", color=alt.value("#d62728"), tooltip=["时限:N", alt.Tooltip("at:T", format="%Y-%m-%d %H:%M")]
        )
        labels = alt.Chart(dl).mark_text(angle=270, dx=-40, dy=-6, color="#d62728").encode(x="at:T", text="时限:N")
        layers += [rules, labels]
    st.altair_chart(alt.layer(*layers).properties(height=220), width="stretch")
    table = tl[["at", "事项", "actor", "text", "reason", "working_minutes", "calendar_minutes", "policy_version"]]
    st.dataframe(
        table.rename(columns={"at": "时间", "actor": "操作人/作者", "text": "内容", "reason": "理由",
                              "working_minutes": "工作分钟", "calendar_minutes": "自然分钟", "policy_version": "规则版本"}),
        hide_index=True, width="stretch",
        column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                       "内容": st.column_config.TextColumn(width="large")},
    )
else:
    st.info("这个案件还没有时间线记录。")

st.subheader("办理")
actions_ui.action_form(detail)
