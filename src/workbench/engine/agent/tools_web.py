"""``url_context`` (fetch allowed URLs) and ``google_search`` (unavailable offline).

``url_context`` follows the environment's network policy for every URL and every redirect
hop: a host the allowlist does not name gets an error result saying so; with the network
disabled every URL does. ``*`` means the public internet: loopback, private and link-local
addresses are only reached when the allowlist names that host exactly (e.g. ``127.0.0.1``).
Allowlist ``transform`` headers are added to the requests of their domain.

``google_search`` never invents results: there is no search engine offline, so it returns an
error result that says so (its one item's ``search_suggestions`` is that notice).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from workbench.engine.sandbox import NetworkPolicy

from .tools import AgentTool, ToolContext, ToolOutcome

MAX_URLS = 20
MAX_BYTES = 2 * 1024 * 1024
TEXT_PER_URL = 4000
MAX_REDIRECTS = 5

SEARCH_OFFLINE = (
    "Google Search is unavailable offline: the local engine has no search provider, so nothing "
    "was searched and there are no results."
)
"""What a ``google_search_result`` step says (its one result's ``search_suggestions``)."""
SEARCH_UNAVAILABLE = (
    "google_search is unavailable: the local engine has no search engine, so no results were "
    "produced. Answer from what you know or from url_context, and say that you could not search."
)


class _Text(HTMLParser):
    """Visible text of an HTML page (scripts, styles and markup dropped)."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_text(html: str) -> str:
    """The readable text of an HTML document (title first)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    body = parser.text()
    title = " ".join(parser.title.split())
    return f"{title}\n\n{body}" if title else body


def _is_private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_unspecified:
            return True
    return False


async def _allowed(url: str, policy: NetworkPolicy) -> tuple[bool, str, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False, "only http and https URLs can be fetched", {}
    host = parts.hostname.lower()
    rule = policy.rule_for(host)
    if rule is None:
        if policy.mode == "disabled":
            return False, "network access is disabled for this environment", {}
        return False, f"{host} is not in the environment's network allowlist", {}
    if rule.domain != host and await asyncio.to_thread(_is_private, host):
        return False, f"{host} is a local or private address; name it exactly in the allowlist", {}
    return True, "", dict(rule.headers)


async def fetch(url: str, policy: NetworkPolicy, limit_s: float) -> tuple[str, str]:
    """Fetch one URL under the policy: (status ``success``/``error``, text for the model)."""
    client = httpx.AsyncClient(timeout=limit_s, follow_redirects=False)
    async with client:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            ok, why, headers = await _allowed(current, policy)
            if not ok:
                return "error", f"Not fetched: {why}."
            try:
                async with client.stream("GET", current, headers=headers) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        current = urljoin(current, resp.headers["location"])
                        continue
                    body = bytearray()
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BYTES:
                            break
                    if resp.status_code >= 400:
                        return "error", f"HTTP {resp.status_code} from {current}."
                    kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    text = bytes(body[:MAX_BYTES]).decode(resp.encoding or "utf-8", "replace")
            except httpx.HTTPError as exc:
                return "error", f"Could not fetch {current}: {type(exc).__name__}: {exc}"
            if "html" in kind:
                text = html_text(text)
            elif not (kind.startswith("text/") or "json" in kind or "xml" in kind or not kind):
                return "error", f"{current} is {kind}, not a text document."
            if len(text) > TEXT_PER_URL:
                text = (
                    text[:TEXT_PER_URL] + f"\n[… {len(text) - TEXT_PER_URL} characters omitted …]"
                )
            return "success", text
    return "error", f"Too many redirects from {url}."


class UrlContextTool(AgentTool):
    """Fetch web pages the environment's network rules allow."""

    def __init__(self) -> None:
        super().__init__(
            name="url_context",
            description="Fetch web pages and read their text. Give the full URLs.",
            parameters={
                "type": "object",
                "properties": {
                    "urls": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "maxItems": MAX_URLS,
                    }
                },
                "required": ["urls"],
                "additionalProperties": False,
            },
            kind="url_context",
        )

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        urls = [str(u) for u in args["urls"]][:MAX_URLS]
        fetched = await asyncio.gather(*(fetch(u, ctx.network, ctx.http_timeout) for u in urls))
        records = [
            {"url": u, "status": status} for u, (status, _) in zip(urls, fetched, strict=True)
        ]
        text = "\n\n".join(
            f"## {u} ({status})\n{body}" for u, (status, body) in zip(urls, fetched, strict=True)
        )
        failed = all(status != "success" for status, _ in fetched)
        return ToolOutcome(text=text, result=records, is_error=failed)


class GoogleSearchTool(AgentTool):
    """Declared so the model can try it; always reports that search is unavailable."""

    def __init__(self) -> None:
        super().__init__(
            name="google_search",
            description="Web search. Not available in this offline engine (returns an error).",
            parameters={
                "type": "object",
                "properties": {
                    "queries": {"type": "array", "items": {"type": "string"}, "minItems": 1}
                },
                "required": ["queries"],
                "additionalProperties": False,
            },
            kind="google_search",
        )

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        notice = [{"search_suggestions": SEARCH_OFFLINE}]
        return ToolOutcome(text=SEARCH_UNAVAILABLE, result=notice, is_error=True)
