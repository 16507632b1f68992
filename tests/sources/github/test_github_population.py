"""The run population: Link pagination, the 1,000-result cap, windows that share no second."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from conftest import NOW
from fake_github_api import FakeGitHub

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind
from auditpack.evidence.sources.github import GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_client import GitHubApi

PERIOD = parse_period("2026-Q3")
START = PERIOD.start


# The tests shrink GitHub's cap of 1,000 to 250 so that they stay fast; the logic is the same.
CAP = 250


def collect(api: GitHubApi, locker: Locker, matrix: ControlMatrix) -> None:
    collector = GitHubCollector(api, locker, matrix, clock=lambda: NOW, listing_cap=CAP)
    collector.collect(GitHubScope(PERIOD, repositories=("acme/web",)))


def run_listings(fake: FakeGitHub) -> list[dict[str, str]]:
    return [entry.query for entry in fake.requests_to(r"/actions/runs$")]


def test_link_pagination_brings_every_page(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix
) -> None:
    repo = fake.repo("acme/web")
    for index in range(250):
        fake.add_run(repo, START + timedelta(hours=index))

    collect(api, locker, matrix)

    assert len(locker.runs()) == 250
    assert [query.get("page") for query in run_listings(fake)] == [None, "2", "3"]
    pages = [item for item in locker.items() if item.kind is ItemKind.WORKFLOW_RUNS]
    assert [parse_qs(urlsplit(item.source).query).get("page") for item in pages] == [
        None,
        ["2"],
        ["3"],
    ]
    [population] = locker.populations()
    assert (population.count, population.source_count) == (250, 250)
    # One jobs listing per run: the minimum the endpoint allows.
    assert len(fake.requests_to(r"/jobs$")) == 250


def test_the_cap_is_split_into_windows_that_reconcile(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix
) -> None:
    fake.runs_cap = CAP
    repo = fake.repo("acme/web")
    created = [START + timedelta(seconds=13336 * index) for index in range(596)]
    # The quarter splits in three at these seconds; runs on both sides of each edge.
    edge = datetime(2026, 7, 31, 16, 0, 0, tzinfo=UTC)
    created += [edge - timedelta(seconds=1), edge - timedelta(seconds=1), edge, edge]
    for moment in created:
        fake.add_run(repo, moment)

    collect(api, locker, matrix)

    assert len(locker.runs()) == 600
    [population] = locker.populations()
    assert (population.count, population.source_count) == (600, 600)
    assert locker.gaps() == []
    windows = [
        "2026-07-01T00:00:00Z..2026-07-31T15:59:59Z",
        "2026-07-31T16:00:00Z..2026-08-31T07:59:59Z",
        "2026-08-31T08:00:00Z..2026-09-30T23:59:59Z",
    ]
    in_window = [
        sum(1 for moment in created if low <= moment < high)
        for low, high in [
            (START, edge),
            (edge, datetime(2026, 8, 31, 8, tzinfo=UTC)),
            (datetime(2026, 8, 31, 8, tzinfo=UTC), PERIOD.end),
        ]
    ]
    assert in_window == [201, 201, 198]  # 199 + 2, 199 + 2, 198 by hand from the step
    # The whole period's first page (its total_count is the population's source count), each
    # window's first page (its total says whether to split again), then the other pages.
    expected = [("2026-07-01T00:00:00Z..2026-09-30T23:59:59Z", None)]
    expected += [(window, None) for window in windows]
    for window, count in zip(windows, in_window, strict=True):
        expected += [(window, str(page)) for page in range(2, math.ceil(count / 100) + 1)]
    assert [(query["created"], query.get("page")) for query in run_listings(fake)] == expected


def test_more_than_the_cap_in_one_second_is_an_incomplete_population(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix
) -> None:
    fake.runs_cap = CAP
    repo = fake.repo("acme/web")
    busy = datetime(2026, 8, 1, 12, 0, 0, tzinfo=UTC)
    for _ in range(CAP + 1):
        fake.add_run(repo, busy)

    collect(api, locker, matrix)

    assert len(locker.runs()) == CAP
    gaps = [(gap.kind, gap.source) for gap in locker.gaps()]
    assert gaps == [
        (
            GapKind.INCOMPLETE_POPULATION,
            "github-runs:acme/web:2026-08-01T12:00:00Z..2026-08-01T12:00:00Z",
        ),
        (GapKind.INCOMPLETE_POPULATION, "github-runs:acme/web"),
    ]
    [population] = locker.populations()
    assert (population.count, population.source_count) == (CAP, CAP + 1)
