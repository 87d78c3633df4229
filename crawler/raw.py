"""One HTTP answer as Weibo sent it: the record every parser, the error types and the store share."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class RawResponse:
    """One HTTP answer as received (body bytes untouched). `fetched_at` is the server's Date."""

    url: str
    status: int
    content_type: str
    fetched_at: datetime
    body: bytes
    location: str = ""  # redirect target, for 3xx answers
    framed: bool = True  # False: no Content-Length/chunking, the body ended when the connection closed
    gzipped: bytes | None = None  # the body gzip-compressed, when whoever read it did that already (import)

    def __repr__(self) -> str:  # bodies can be large; never dump them into logs
        return (f"RawResponse(url={self.url!r}, status={self.status}, content_type={self.content_type!r}, "
                f"fetched_at={self.fetched_at.isoformat()}, body=<{len(self.body)} bytes>)")
