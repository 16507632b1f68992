"""Talking to the GitHub REST API: PyGithub's requester, our retry and rate-limit policy, paging.

PyGithub is built with `retry=None` and no pause between requests: its own `GithubRetry`
sleeps inside urllib3 (nothing can show the wait or replace the clock in tests) and only
recognises a primary rate limit by the message "API rate limit exceeded", while GitHub also
answers a plain 403 whose only sign is `x-ratelimit-remaining: 0`. Every request goes
through `GitHubApi.get`, which applies one policy to all of them.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from github import Auth, Github

from auditpack.evidence.errors import CollectionError
from auditpack.evidence.progress import NoProgress, Progress

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100  # the most GitHub serves in one page; requests are the scarce resource

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_SECONDARY_LIMIT = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)
_SECRET_QUERY_KEYS = frozenset({"access_token", "token", "sig", "signature", "se", "sp", "sv"})


class GitHubError(CollectionError):
    """GitHub answered with an error that retrying does not cure."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: 5xx and dropped connections back off exponentially."""

    attempts: int = 6
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    secondary_wait_seconds: float = 60.0  # GitHub's advice when a secondary limit names no time

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_seconds * 2**attempt, self.max_backoff_seconds))


@dataclass(frozen=True)
class Answer:
    """One API answer: status 200 with a body, or 304 when the ETag still holds."""

    url: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def next_url(self) -> str | None:
        match = _NEXT_LINK.search(self.headers.get("link", ""))
        return match[1] if match else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RequestCounter:
    """Requests sent to the API (retries included), and what GitHub says is left."""

    sent: int = 0
    not_modified: int = 0
    downloads: int = 0  # bodies fetched from storage hosts after a redirect
    remaining: int | None = None
    limit: int | None = None
    by_kind: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str) -> None:
        self.sent += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


Sleep = Callable[[float], None]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class GitHubApi:
    """A GitHub REST API endpoint with a token, seen through PyGithub's requester."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        policy: RetryPolicy = RetryPolicy(),
        progress: Progress | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = _now,
        timeout: int = 60,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._github = Github(
            base_url=self.api_url,
            auth=Auth.Token(token),
            per_page=PER_PAGE,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            timeout=timeout,
        )
        self._requester = self._github.requester
        self._policy = policy
        self._progress = progress or NoProgress()
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._storage = requests.Session()  # no credentials ever: storage URLs are pre-signed
        self.counter = RequestCounter()

    @property
    def github(self) -> Github:
        return self._github

    def url(self, path: str, /, **parameters: object) -> str:
        """An absolute API URL; parameters with None values are left out."""
        query = {key: str(value) for key, value in parameters.items() if value is not None}
        return self.api_url + path + (f"?{urlencode(query)}" if query else "")

    def get(
        self, url: str, *, kind: str = "api", etag: str | None = None, accept: str | None = None
    ) -> Answer:
        """GET with the retry policy; 304 is an answer when `etag` was sent."""
        headers = {"Accept": accept or "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        for attempt in range(self._policy.attempts):
            answer = self._send(url, dict(headers), kind)
            if answer is not None and (answer.status < 300 or answer.not_modified):
                return answer
            wait = self._wait_for(answer, attempt)
            if wait is None:
                break
            self._pause(wait, answer)
        raise self._failure(url, answer)

    def redirect_location(self, url: str, *, kind: str = "download") -> str | None:
        """Ask for a 302 (artefact zips): its Location, or None when GitHub says 410 Gone."""
        for attempt in range(self._policy.attempts):
            answer = self._send(url, {"Accept": "application/vnd.github+json"}, kind)
            if answer is not None and answer.status in (301, 302, 303, 307, 308):
                location = answer.headers.get("location")
                if location:
                    return location
            if answer is not None and answer.status == 410:
                return None
            wait = self._wait_for(answer, attempt)
            if wait is None:
                break
            self._pause(wait, answer)
        raise self._failure(url, answer)

    def download(self, location: str, out: IO[bytes], limit: int) -> int:
        """Stream a pre-signed storage URL into `out`, without the token, up to `limit` bytes.

        The storage host is another host: GitHub's signed URL carries its own authorisation,
        and sending the token there would hand it to a third party.
        """
        for attempt in range(self._policy.attempts):
            try:
                return self._stream(location, out, limit)
            except (requests.ConnectionError, requests.Timeout, _RetryableStatus) as error:
                if attempt + 1 == self._policy.attempts:
                    raise GitHubError(
                        f"{public_url(location)}: download failed ({error})"
                    ) from None
                out.seek(0)
                out.truncate()
                self._pause(self._policy.backoff(attempt), None)
        raise AssertionError("unreachable")

    def _stream(self, location: str, out: IO[bytes], limit: int) -> int:
        self.counter.downloads += 1
        with self._storage.get(location, stream=True, timeout=self._timeout) as response:
            if response.status_code >= 500:
                raise _RetryableStatus(response.status_code)
            if response.status_code != 200:
                raise GitHubError(
                    f"{public_url(location)}: storage answered {response.status_code}",
                    response.status_code,
                )
            size = 0
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise GitHubError(f"artefact larger than the {limit}-byte limit", 413)
                out.write(chunk)
            return size

    def pages(self, url: str, *, kind: str = "api") -> Iterator[Answer]:
        """Follow `Link: rel="next"` from `url`; no ETags (callers that want them page by hand)."""
        next_url: str | None = url
        while next_url:
            answer = self.get(next_url, kind=kind)
            yield answer
            next_url = answer.next_url

    def _send(self, url: str, headers: dict[str, str], kind: str) -> Answer | None:
        self.counter.record(kind)
        try:
            status, response_headers, body = self._requester.requestJson(
                "GET", url, headers=headers
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            log.info("GitHub request failed (%s); retrying", type(error).__name__)
            return None
        lowered = {str(key).lower(): str(value) for key, value in response_headers.items()}
        self._note_rate(lowered)
        if status == 304:
            self.counter.not_modified += 1
        return Answer(url, status, lowered, body)

    def _note_rate(self, headers: dict[str, str]) -> None:
        if "x-ratelimit-remaining" in headers:
            self.counter.remaining = int(float(headers["x-ratelimit-remaining"]))
        if "x-ratelimit-limit" in headers:
            self.counter.limit = int(float(headers["x-ratelimit-limit"]))

    def _wait_for(self, answer: Answer | None, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when trying again cannot help."""
        if attempt + 1 >= self._policy.attempts:
            return None
        if answer is None or answer.status >= 500:
            return self._policy.backoff(attempt)
        if answer.status not in (403, 429):
            return None
        return rate_limit_wait(answer, self._clock(), self._policy)

    def _pause(self, seconds: float, answer: Answer | None) -> None:
        reason = "rate limit" if answer is not None and answer.status in (403, 429) else "retry"
        self._progress.status(f"GitHub {reason}: waiting {round(seconds)} s")
        log.info("GitHub %s: waiting %.0f s", reason, seconds)
        self._sleep(seconds)
        self._progress.status("")

    def _failure(self, url: str, answer: Answer | None) -> GitHubError:
        where = public_url(url)
        if answer is None:
            return GitHubError(f"{where}: GitHub could not be reached; check the network")
        message = _message(answer)
        if answer.status == 401:
            return GitHubError(f"{where}: GitHub refused the token (401); check GITHUB_TOKEN", 401)
        if answer.status in (403, 404) and not _is_rate_limit(answer):
            advice = "check the token's scopes (repo, actions:read, security_events)"
            return GitHubError(f"{where}: {answer.status} {message}; {advice}", answer.status)
        return GitHubError(f"{where}: {answer.status} {message}", answer.status)


class _RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"storage answered {status}")


def rate_limit_wait(answer: Answer, now: datetime, policy: RetryPolicy) -> float | None:
    """How long GitHub asks us to wait after a 403 or 429, or None when it is no rate limit.

    Order as GitHub documents it: `retry-after` (seconds or an HTTP date) wins; then an
    exhausted primary limit waits for `x-ratelimit-reset`; then a secondary-limit message
    waits a minute. A 403 with none of these is a permission problem.
    """
    retry_after = answer.headers.get("retry-after")
    if retry_after:
        return _seconds_until(retry_after, now)
    if answer.headers.get("x-ratelimit-remaining") == "0":
        reset = answer.headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            # One second more: the reset second itself may not have passed on GitHub's side.
            return max(0.0, int(reset) - now.timestamp()) + 1
        return policy.secondary_wait_seconds
    if answer.status == 429 or _is_rate_limit(answer):
        return policy.secondary_wait_seconds
    return None


def _seconds_until(retry_after: str, now: datetime) -> float:
    text = retry_after.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 60.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _is_rate_limit(answer: Answer) -> bool:
    message = _message(answer)
    return bool(_SECONDARY_LIMIT.search(message)) or "rate limit exceeded" in message.lower()


def _message(answer: Answer) -> str:
    try:
        document = json.loads(answer.body)
    except ValueError:
        return answer.body[:200]
    if isinstance(document, dict):
        return str(document.get("message") or "")
    return ""


def public_url(url: str) -> str:
    """The URL as it may be shown and stored: no user info, no signature or token parameters."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and pair.split("=", 1)[0].lower() not in _SECRET_QUERY_KEYS
    )
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))
