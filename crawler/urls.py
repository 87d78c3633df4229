"""Every endpoint URL the crawler asks, built from overridable base URLs (tests use a local server)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from crawler.constants import (
    DEFAULT_BASE_URL,
    DEFAULT_PC_BASE_URL,
    DEFAULT_SEARCH_BASE_URL,
    PROFILE_CONTAINER,
    SEARCH_CONTAINER,
    TIMELINE_CONTAINER,
)


@dataclass(frozen=True)
class Urls:
    base_url: str = DEFAULT_BASE_URL
    search_base_url: str = DEFAULT_SEARCH_BASE_URL
    pc_base_url: str = DEFAULT_PC_BASE_URL

    def __post_init__(self) -> None:
        for name in ("base_url", "search_base_url", "pc_base_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))

    def _index(self, params: dict) -> str:
        return f"{self.base_url}/api/container/getIndex?{urlencode(params, safe='%')}"

    def timeline(self, uid: str, since_id: str | int | None = None) -> str:
        params: dict = {"containerid": f"{TIMELINE_CONTAINER}{uid}"}
        if since_id:
            params["since_id"] = since_id
        return self._index(params)

    def profile(self, uid: str) -> str:
        return self._index({"containerid": f"{PROFILE_CONTAINER}{uid}"})

    def search(self, query: str, page: int = 1) -> str:
        container = quote(f"{SEARCH_CONTAINER}type=61&q={query}&t=0", safe="")
        params = {"containerid": container, "page_type": "searchall"}
        if page > 1:
            params["page"] = page
        return self._index(params)

    def resolve_name(self, screen_name: str) -> str:
        return f"{self.base_url}/n/{quote(screen_name)}"

    def comments(self, mid: str, max_id: int | str | None = None, max_id_type: int | str = 0) -> str:
        params: dict = {"id": mid, "mid": mid, "max_id_type": max_id_type}
        if max_id:
            params["max_id"] = max_id
        return f"{self.base_url}/comments/hotflow?{urlencode(params)}"

    def detail(self, mid: str) -> str:
        """The page a browser is on when it asks for comments (the Referer hotflow wants)."""
        return f"{self.base_url}/detail/{mid}"

    def user_page(self, uid: str) -> str:
        return f"{self.base_url}/u/{uid}"

    def reposts(self, mid: str, page: int = 1) -> str:
        return f"{self.base_url}/api/statuses/repostTimeline?{urlencode({'id': mid, 'page': page})}"

    def long_text(self, mid: str) -> str:
        return f"{self.base_url}/statuses/extend?{urlencode({'id': mid})}"

    def show(self, id_or_bid: str) -> str:
        return f"{self.base_url}/statuses/show?{urlencode({'id': id_or_bid})}"

    def config(self) -> str:
        return f"{self.base_url}/api/config"

    def search_html(self, query: str, page: int = 1, timescope: str | None = None) -> str:
        params: dict = {"q": query, "typeall": 1, "suball": 1}
        if timescope:
            params["timescope"] = timescope
        if page > 1:
            params["page"] = page
        return f"{self.search_base_url}/weibo?{urlencode(params)}"
