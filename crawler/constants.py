"""Fixed facts about Weibo's public web endpoints that the crawler relies on.

Kept in one place so that when the site changes (it does), one file says what we assumed.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

DEFAULT_BASE_URL = "https://m.weibo.cn"
DEFAULT_SEARCH_BASE_URL = "https://s.weibo.com"
DEFAULT_PC_BASE_URL = "https://weibo.com"

COOKIE_ENV = "WZMON_WEIBO_COOKIE"
COOKIE_FILE_ENV = "WZMON_WEIBO_COOKIE_FILE"

MOBILE_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
BASE_HEADERS = {
    "User-Agent": MOBILE_USER_AGENT,
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "MWeibo-Pwa": "1",
    "X-Requested-With": "XMLHttpRequest",
}

# getIndex container id prefixes
TIMELINE_CONTAINER = "107603"  # + uid: a user's posts
PROFILE_CONTAINER = "100505"  # + uid: data.userInfo
SEARCH_CONTAINER = "100103"  # + "type=61&q=...&t=0": real-time search, newest first

POST_CARD_TYPE = 9  # cards that carry an `mblog`

# HTTP statuses Weibo uses to refuse a client (432 today, 418/403 earlier; 429 is the generic form)
BLOCK_STATUSES = frozenset({403, 418, 429, 432})
# Markers of a login wall / captcha in a redirect target or an HTML page
LOGIN_MARKERS = ("passport.weibo", "login.sina", "/signin", "captcha", "visitor.passport", "/login")

# Paging caps the site enforces (search stops near 50 pages, comments after a few dozen)
SEARCH_PAGE_CAP = 50
COMMENT_PAGE_CAP = 40
TIMELINE_PAGE_CAP = 200

# How many ids near the newest-seen time a cursor remembers, to dedupe overlapping windows
SEEN_IDS_CAP = 400

DEFAULT_TIMEOUT = 20.0
