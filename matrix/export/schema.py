"""What each exported table holds: Table Schema fields with Chinese and English descriptions.

Every timestamp column `x` (ISO 8601 with +08:00, Beijing time) comes with `x_unix` (whole seconds since
1970-01-01 UTC). Ids are strings: 16-digit Weibo ids do not fit a spreadsheet's number type.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True)
class Col:
    """One exported column. type is a Table Schema type; datetime columns also produce `<name>_unix`."""

    name: str
    type: str
    zh: str
    en: str
    title: str = ""
    pseudonymised: bool = False  # holds a citizen pseudonym unless the export is identified


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    description: str
    cols: tuple[Col, ...]
    primary_key: tuple[str, ...]
    # (fields, referenced table, referenced fields): declared only when that table is in the same package
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()
    applicable_filters: frozenset[str] = field(default_factory=frozenset)

    def out_names(self) -> list[str]:
        names: list[str] = []
        for c in self.cols:
            names.append(c.name)
            if c.type == "datetime":
                names.append(c.name + "_unix")
        return names

    def out_types(self) -> list[str]:
        types: list[str] = []
        for c in self.cols:
            types.append(c.type)
            if c.type == "datetime":
                types.append("integer")
        return types


def _dt(name: str, zh: str, en: str) -> Col:
    return Col(name, "datetime", f"{zh}（北京时间，ISO 8601，+08:00）", f"{en} (Beijing time, ISO 8601 with +08:00)")


S, I, N, B, A, O, D = "string", "integer", "number", "boolean", "array", "object", "date"

POSTS = TableSpec(
    name="posts",
    title="微博帖子、转发与评论 / Weibo posts, reposts and comments",
    description="每行一条被采集的微博内容。Each row is one item collected from Weibo: a post, a repost or a comment.",
    cols=(
        Col("id", S, "微博条目 ID（文本，避免 16 位数字被取整）", "Weibo item id (text, so 16-digit ids stay exact)"),
        Col("item_type", S, "类型：post 原创，repost 转发，comment 评论", "Kind of item: post, repost or comment"),
        Col("mid", S, "微博 mid", "Weibo mid"),
        Col("bid", S, "微博短链 bid", "Weibo short id (bid)"),
        Col("user_id", S, "作者 uid；市民为假名（u_ 开头）", "Author uid; citizens get a pseudonym (u_...)", pseudonymised=True),
        Col("screen_name", S, "作者昵称；市民为假名（n_ 开头）", "Author screen name; citizens get a pseudonym (n_...)", pseudonymised=True),
        Col("author_role", S, "作者身份：coordinator 牵头账号，member 成员账号，citizen 市民", "Author role: coordinator, member or citizen (not on the roster)"),
        Col("text", S, "正文（纯文本，保留换行；市民的 @ 提及已假名化）", "Text (plain, newlines kept; @mentions of citizens pseudonymised)", pseudonymised=True),
        _dt("created_at", "发布时间", "Time posted"),
        _dt("fetched_at", "采集时间", "Time collected"),
        Col("parent_id", S, "评论所在的微博 ID", "For comments: the post they sit under"),
        Col("reply_to_id", S, "评论回复的评论 ID", "For replies: the comment answered"),
        Col("reposted_id", S, "被转发的原微博 ID", "For reposts: the original post"),
        Col("mentions", A, "@ 提及的昵称列表（JSON 数组；市民为假名）", "Screen names @-mentioned (JSON array; citizens pseudonymised)", pseudonymised=True),
        Col("topics", A, "话题列表（JSON 数组）", "#Topics# (JSON array)"),
        Col("is_long_text", B, "是否长微博", "Whether the post is a long text"),
        Col("client", S, "发布客户端", "Client used to post"),
        Col("region", S, "IP 属地", "Region shown by Weibo (IP location)"),
        Col("reposts_count", I, "转发数（采集时）", "Reposts when collected"),
        Col("comments_count", I, "评论数（采集时）", "Comments when collected"),
        Col("attitudes_count", I, "点赞数（采集时）", "Likes when collected"),
        Col("source_url", S, "原文链接（市民条目去掉了 uid）", "Link to the item (for citizens, a form without the uid)", pseudonymised=True),
        Col("sentiment_label", S, "情感：negative / neutral / positive", "Sentiment label: negative, neutral or positive"),
        Col("sentiment_score", N, "情感分值 [-1, 1]", "Sentiment score in [-1, 1]"),
        Col("sentiment_confidence", N, "情感置信度 [0, 1]", "Sentiment confidence in [0, 1]"),
        Col("post_kind", S, "诉求类型：投诉 咨询 求助 建议 表扬 其他", "Request kind: 投诉 complaint, 咨询 question, 求助 help, 建议 suggestion, 表扬 praise, 其他 other"),
    ),
    primary_key=("id",),
    applicable_filters=frozenset({"since", "until", "accounts", "department", "kinds", "sentiments", "statuses"}),
)

CASES = TableSpec(
    name="cases",
    title="诉求工单 / Cases",
    description="每行一件需要答复的诉求及其时限和结果。Each row is one post that needs an answer: who owes it, by when, and whether they made it.",
    cols=(
        Col("id", S, "工单编号", "Case id"),
        Col("post_id", S, "引发诉求的微博 ID", "Post that opened the case"),
        Col("citizen_uid", S, "市民 uid 的假名", "Citizen uid (pseudonymised)", pseudonymised=True),
        Col("citizen_name", S, "市民昵称的假名", "Citizen screen name (pseudonymised)", pseudonymised=True),
        Col("addressed_uids", A, "被 @ 的成员账号 uid（JSON 数组）", "Member account uids the post addressed (JSON array)"),
        Col("account_uid", S, "当前承办账号 uid", "Account that owes the answer now"),
        Col("kind", S, "诉求类型", "Request kind (投诉 咨询 求助 建议 表扬 其他)"),
        Col("origin", S, "诉求来源：mention 网民@账号的微博，comment 成员账号本人微博下的评论",
            "Where the request was seen: mention (a post naming the account) or comment (a comment under a member's own post)"),
        Col("status", S, "状态：awaiting_forward 待转办，open 待答复，responded 已答复，closed 已办结，invalid 无效诉求，merged 已合并",
            "Status: awaiting_forward, open, responded, closed, invalid, merged"),
        _dt("opened_at", "立案时间", "Time the case opened"),
        _dt("forwarded_at", "转办时间", "Time the coordinator forwarded it"),
        _dt("first_response_at", "首次答复时间", "Time of the first response"),
        Col("first_response_id", S, "首次答复的微博 ID", "Item that was the first response"),
        _dt("last_response_at", "最近答复时间", "Time of the latest response"),
        _dt("last_citizen_at", "市民最近追问时间", "Time of the citizen's latest follow-up"),
        _dt("closed_at", "办结时间", "Time closed"),
        _dt("forward_due", "转办时限", "Deadline to forward"),
        _dt("response_clock_at", "答复计时起点", "When the response clock started"),
        _dt("closure_clock_at", "办结计时起点", "When the closure clock started"),
        _dt("first_response_due", "首次答复时限", "Deadline for the first response"),
        _dt("next_reply_due", "下次答复时限", "Deadline for the next reply"),
        _dt("closure_due", "办结时限", "Deadline to close"),
        Col("extension_working_days", I, "获批延期工作日", "Extension granted, in working days"),
        Col("first_response_working_minutes", I, "首次答复用时（工作分钟）", "Time to first response in working minutes"),
        Col("first_response_calendar_minutes", I, "首次答复用时（自然分钟）", "Time to first response in calendar minutes"),
        Col("overdue", B, "当前是否超期", "Overdue now"),
        Col("overdue_level", S, "超期级别：warning 预警，overdue 超期，催办，通报", "Escalation level: warning, overdue, 催办 reminder, 通报 public notice"),
        Col("overdue_deadline", S, "超期的时限：forward 转办，first_response 首次答复，closure 办结", "Which deadline is missed: forward, first_response or closure"),
        _dt("overdue_since", "超期起始时间", "Overdue since"),
        Col("sentiment_label", S, "诉求情感", "Sentiment of the request"),
        Col("merged_into", S, "合并到的工单编号", "Case this one was merged into"),
        Col("policy_version", S, "判定所用时限规则版本", "Policy version the case was judged by"),
        Col("provisional_dues", S, "按暂定日历（当年放假通知未发布，仅法定节假日、不含调休）推算的时限，逗号分隔",
            "Deadlines counted on a provisional calendar year (statutory holidays only, no 调休; comma-separated)"),
        Col("pending_dues", S, "时限待定：无法计算的时限及原因（JSON）",
            "Deadlines that could not be counted at all, with the reason (JSON), or empty"),
        _dt("evaluated_at", "最近评估时间", "Time last evaluated"),
    ),
    primary_key=("id",),
    foreign_keys=((("post_id",), "posts", ("id",)), (("account_uid",), "accounts", ("uid",))),
    applicable_filters=frozenset({"since", "until", "accounts", "department", "kinds", "sentiments", "statuses"}),
)

EVENTS = TableSpec(
    name="events",
    title="工单事件 / Case events",
    description="每行一次工单状态变化（审计日志）；时间筛选按所属工单的立案时间。Each row is one change to a case (the audit log); the period filter selects by the case's opening time so timelines stay whole.",
    cols=(
        Col("id", S, "事件编号", "Event id"),
        Col("case_id", S, "所属工单编号", "Case id"),
        _dt("at", "发生时间", "Time it happened"),
        _dt("recorded_at", "记录时间", "Time it was recorded"),
        Col("type", S, "事件类型（opened、forwarded、first_response、closed、overdue 等）", "Event type (opened, forwarded, first_response, closed, overdue, ...)"),
        Col("actor", S, "操作人（市民为假名）", "Who acted (citizens pseudonymised)", pseudonymised=True),
        Col("post_id", S, "相关微博 ID", "Related item id"),
        Col("account_uid", S, "相关账号 uid", "Related account uid"),
        Col("reason", S, "理由", "Reason given", pseudonymised=True),
        Col("detail", O, "详情（JSON 对象）", "Details (JSON object)", pseudonymised=True),
        Col("calendar_minutes", I, "立案以来自然分钟", "Calendar minutes since the case opened"),
        Col("working_minutes", I, "立案以来工作分钟", "Working minutes since the case opened"),
        Col("policy_version", S, "时限规则版本", "Policy version"),
    ),
    primary_key=("id",),
    foreign_keys=((("case_id",), "cases", ("id",)),),
    applicable_filters=frozenset({"since", "until", "accounts", "department", "kinds", "sentiments", "statuses"}),
)

ACCOUNTS = TableSpec(
    name="accounts",
    title="矩阵账号 / Matrix accounts",
    description="问政矩阵的牵头账号与成员账号（真实 uid 与名称；不含联系方式）。The coordinator and member accounts, with real ids and names (contacts left out).",
    cols=(
        Col("uid", S, "账号 uid", "Account uid"),
        Col("screen_name", S, "微博昵称", "Weibo screen name"),
        Col("name", S, "单位名称", "Name of the office"),
        Col("department", S, "所属部门/系统", "Department"),
        Col("category", S, "类别", "Category"),
        Col("role", S, "角色：coordinator 牵头，member 成员", "Role: coordinator or member"),
        Col("active_from", D, "纳入矩阵日期", "In the matrix from"),
        Col("active_to", D, "退出矩阵日期", "In the matrix until"),
        _dt("created_at", "登记时间", "Time added to the roster"),
        _dt("updated_at", "更新时间", "Time last changed"),
    ),
    primary_key=("uid",),
    applicable_filters=frozenset({"accounts", "department"}),
)

RANKINGS = TableSpec(
    name="rankings",
    title="账号答复排名 / Account rankings",
    description="统计期内各账号的响应率、按时率与超期情况（matrix.reading.rankings）。Per-account response and timeliness figures for the period.",
    cols=(
        Col("account_uid", S, "账号 uid", "Account uid"),
        Col("screen_name", S, "微博昵称", "Screen name"),
        Col("name", S, "单位名称", "Office name"),
        Col("department", S, "部门", "Department"),
        _dt("period_start", "统计期开始", "Period start"),
        _dt("period_end", "统计期结束（不含）", "Period end (exclusive)"),
        Col("cases", I, "诉求数", "Cases"),
        Col("responded", I, "已答复数", "Cases responded"),
        Col("response_rate", N, "响应率", "Response rate"),
        Col("on_time_responses", I, "按时答复数", "Responses on time"),
        Col("on_time_response_rate", N, "按时答复率", "On-time response rate"),
        Col("closed", I, "办结数", "Cases closed"),
        Col("on_time_closed", I, "按时办结数", "Cases closed on time"),
        Col("on_time_closure_rate", N, "按时办结率", "On-time closure rate"),
        Col("median_response_working_minutes", N, "答复用时中位数（工作分钟）", "Median time to respond, working minutes"),
        Col("p90_response_working_minutes", N, "答复用时 90 分位（工作分钟）", "90th percentile time to respond, working minutes"),
        Col("overdue_count", I, "超期数", "Overdue cases"),
        Col("days_overdue", N, "累计超期天数", "Days overdue in total"),
        Col("negative_share", N, "负面诉求占比", "Share of negative requests"),
        Col("mention_cases", I, "其中网民@账号的诉求数", "Of the cases: posts @-mentioning the account"),
        Col("comment_cases", I, "其中本人微博评论区的诉求数", "Of the cases: requests in the comments under its own posts"),
        Col("comment_on_time", I, "评论区诉求按时答复数", "Comment cases answered by their first-response deadline"),
    ),
    primary_key=("account_uid",),
    foreign_keys=((("account_uid",), "accounts", ("uid",)),),
    applicable_filters=frozenset({"since", "until", "accounts", "department"}),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (POSTS, CASES, EVENTS, ACCOUNTS, RANKINGS)}
