"""Retries and rate limits, answered by a local server in GitHub's recorded shapes."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import NOW, TOKEN, make_api
from fake_github_api import FakeGitHub

from auditpack.evidence.sources.github_client import GitHubApi, GitHubError, public_url

PATH = "/repos/acme/web/actions/artifacts"


class Statuses:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        return None

    def status(self, text: str) -> None:
        self.lines.append(text)


def recorded(data_dir: Path, name: str, **values: str) -> tuple[int, dict[str, str], str]:
    """A WireMock mapping from hub4j/github-api, its {{templates}} filled in for the clock."""
    response = json.loads((data_dir / "github" / name).read_text(encoding="utf-8"))["response"]
    headers = {
        key: values.get(key, value)
        for key, value in response["headers"].items()
        if isinstance(value, str) and ("{{" not in value or key in values)
    }
    return response["status"], headers, response["body"]


@pytest.fixture
def web(fake: FakeGitHub) -> str:
    fake.repo("acme/web")
    return fake.url + PATH


def test_primary_limit_waits_until_reset(
    fake: FakeGitHub, data_dir: Path, sleeps: list[float], web: str
) -> None:
    reset = str(int((NOW + timedelta(seconds=3)).timestamp()))
    answer = recorded(
        data_dir,
        "error_403_primary_rate_limit_exhausted.wiremock.json",
        **{"X-RateLimit-Reset": reset},
    )
    fake.fail(PATH, answer)
    statuses = Statuses()
    api = GitHubApi(TOKEN, fake.url, progress=statuses, sleep=sleeps.append, clock=lambda: NOW)

    assert api.get(web).status == 200

    # Three seconds to the reset, one more because GitHub may not have passed it yet.
    assert sleeps == [4.0]
    assert statuses.lines == ["GitHub rate limit: waiting 4 s", ""]
    assert [entry.status for entry in fake.requests_to(PATH)] == [403, 200]


def test_secondary_limit_without_retry_after_waits_a_minute(
    fake: FakeGitHub, data_dir: Path, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    fake.fail(PATH, recorded(data_dir, "error_403_secondary_rate_limit.wiremock.json"))

    assert api.get(web).status == 200
    assert sleeps == [60.0]


def test_secondary_limit_429_with_retry_after_as_http_date(
    fake: FakeGitHub, data_dir: Path, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    when = format_datetime(NOW + timedelta(seconds=8), usegmt=True)
    answer = recorded(
        data_dir,
        "error_429_secondary_rate_limit_retry_after.wiremock.json",
        **{"Retry-After": when},
    )
    fake.fail(PATH, answer)

    assert api.get(web).status == 200
    assert sleeps == [8.0]


def test_retry_after_in_seconds(
    fake: FakeGitHub, data_dir: Path, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    fake.fail(PATH, recorded(data_dir, "error_403_abuse_retry_after_seconds.wiremock.json"))

    assert api.get(web).status == 200
    assert sleeps == [2.0]


def test_502_then_success_backs_off_once(
    fake: FakeGitHub, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    fake.fail(PATH, (502, {}, '{"message": "Server Error"}'))

    assert api.get(web).status == 200
    assert sleeps == [1.0]
    assert api.counter.sent == 2


def test_5xx_until_the_attempts_run_out(
    fake: FakeGitHub, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    fake.fail(PATH, *[(502, {}, "Bad Gateway")] * 4)

    with pytest.raises(GitHubError, match=r"/repos/acme/web/actions/artifacts: 502"):
        api.get(web)
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_plain_403_is_a_permission_problem_not_a_wait(
    fake: FakeGitHub, api: GitHubApi, sleeps: list[float], web: str
) -> None:
    headers = {"X-RateLimit-Remaining": "4000", "X-RateLimit-Limit": "5000"}
    fake.fail(PATH, (403, headers, '{"message": "Resource not accessible by integration"}'))

    with pytest.raises(GitHubError, match="403 Resource not accessible by integration; check"):
        api.get(web)
    assert sleeps == []


def test_401_names_the_variable_and_never_the_token(
    fake: FakeGitHub, api: GitHubApi, web: str
) -> None:
    fake.fail(PATH, (401, {}, '{"message": "Bad credentials"}'))

    with pytest.raises(GitHubError) as raised:
        api.get(web)
    assert "check GITHUB_TOKEN" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_token_goes_to_the_api_and_per_page_pacing_is_off(
    fake: FakeGitHub, api: GitHubApi, web: str
) -> None:
    api.get(web)

    [request] = fake.requests_to(PATH)
    assert request.headers["Authorization"] == f"token {TOKEN}"
    assert api.counter.remaining == 4999


def test_public_url_drops_credentials_and_signatures() -> None:
    assert public_url("https://x:secret@host:8443/a/b?page=2&sig=abc&access_token=t#run0") == (
        "https://host:8443/a/b?page=2#run0"
    )


def test_make_api_uses_the_fake(fake: FakeGitHub, sleeps: list[float]) -> None:
    assert make_api(fake, sleeps).api_url == fake.url
