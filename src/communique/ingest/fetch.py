"""HTTP fetching for feeds and pages: one client, timeouts, size cap, errors as messages."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from communique import __version__


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str


class FetchError(Exception):
    pass


class Fetcher:
    def __init__(self, timeout_s: float = 20.0, max_bytes: int = 5_000_000) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=True,
            headers={"User-Agent": f"Communique/{__version__} (+self-hosted news assistant)"},
        )

    def get(self, url: str) -> Fetched:
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} for {url}")
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) > self.max_bytes:
                        raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return Fetched(str(response.url), bytes(body), ctype)
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {exc.__class__.__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()
