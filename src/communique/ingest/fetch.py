"""HTTP fetching for feeds and pages: one client, timeouts, size cap, errors as messages.

A conditional GET (`headers` with If-None-Match / If-Modified-Since) comes back as `status` 304 with no content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from communique import __version__


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


class FetchError(Exception):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # what a 429 or 503 asked for in Retry-After, in seconds


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None for a date or nothing (backoff decides)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class Fetcher:
    def __init__(self, timeout_s: float = 20.0, max_bytes: int = 5_000_000) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=True,
            headers={"User-Agent": f"Communique/{__version__} (+self-hosted news assistant)"},
        )

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Fetched:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} for {url}",
                                     retry_after(response.headers.get("retry-after")))
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) > self.max_bytes:
                        raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return Fetched(str(response.url), bytes(body), ctype, response.status_code,
                               response.headers.get("etag"), response.headers.get("last-modified"))
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()
