"""Requests the GitHub collector sends for a quarter of an organisation, against the minimum.

Run: /work/venv/bin/python benchmarks/github_requests.py [--runs 3000]

A local GitHub API (tests/sources/github/fake_github_api.py) serves an organisation of three
repositories with about 3,000 workflow runs in 2026-Q3, spread unevenly so that the largest
repository needs the 1,000-result cap split. The collector runs twice into one locker; the
second run must download no bodies.

The minimum the endpoints allow, per repository: the run pages (100 a page, within windows
under the cap) plus the one whole-period listing whose total_count the population reconciles
to when the cap forces windows; one jobs listing per run; the artefact listing pages down to
the period's start; one download per SARIF artefact; one code-scanning listing page and one
request per analysis in the period; per workflow file two commit listings (the version in
effect at the start, the changes in the period) and one request per version. Plus the
organisation's repository listing.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "sources" / "github"))

from fake_github_api import FakeGitHub  # noqa: E402

from auditpack.controls.matrix import load_matrix  # noqa: E402
from auditpack.controls.period import parse_period  # noqa: E402
from auditpack.evidence.locker import Locker  # noqa: E402
from auditpack.evidence.sources.github import GitHubCollector, GitHubScope  # noqa: E402
from auditpack.evidence.sources.github_client import GitHubApi  # noqa: E402

PERIOD = parse_period("2026-Q3")
SHARES = {"acme/api": 0.5, "acme/web": 1 / 3, "acme/infra": 1 / 6}
COLLECTED_AT = datetime(2026, 10, 2, tzinfo=UTC)
SARIF = ROOT / "tests" / "data" / "sarif"
WORKFLOW = ROOT / "tests" / "data" / "workflows" / "starter-workflows_trivy.yml"


def build(fake: FakeGitHub, runs: int, seed: int = 7) -> dict[str, dict[str, int]]:
    """Populate the fake organisation; returns per repository what the minimum depends on."""
    rng = random.Random(seed)
    trivy = _zip({"trivy.sarif": (SARIF / "trivy" / "trivy_image_single_vuln_v0.43.1.sarif")})
    checkov = _zip({"checkov.sarif": (SARIF / "checkov" / "checkov_2.3.55_docs_example.sarif")})
    codeql = (SARIF / "codeql" / "codeql-action_two_runs_lgtm_and_codeql.sarif").read_bytes()
    facts: dict[str, dict[str, int]] = {}
    seconds = int((PERIOD.end - PERIOD.start).total_seconds())
    for name, share in SHARES.items():
        repo = fake.repo(name, org="acme")
        count = round(runs * share)
        sarif = artefacts = analyses = 0
        # Busier in the last month, as teams ship before a quarter closes.
        moments = sorted(
            PERIOD.start + timedelta(seconds=int(seconds * rng.random() ** 0.7))
            for _ in range(count)
        )
        for moment in moments:
            failed = rng.random() < 0.1
            run = fake.add_run(
                repo,
                moment,
                conclusion="failure" if failed else "success",
                jobs=[
                    {
                        "name": "sast",
                        "steps": [("Run semgrep", "failure" if failed else "success")],
                    },
                    {"name": "build", "steps": [("Run make", "success")]},
                    {"name": "deploy", "steps": [("Run deploy", "success")]},
                ],
            )
            expired = moment < PERIOD.start + timedelta(days=5)  # past a short retention
            for label, content, share in (
                ("trivy-image-sarif", trivy, 0.3),
                ("checkov-sarif", checkov, 0.2),
            ):
                if rng.random() < share:
                    entry = fake.add_artifact(repo, run, label, content, expired=expired)
                    if expired:
                        entry["expires_at"] = (moment + timedelta(days=1)).strftime(
                            "%Y-%m-%dT%H:%M:%SZ"
                        )
                    sarif += 0 if expired else 1
                    artefacts += 1
            if rng.random() < 0.3:
                fake.add_artifact(repo, run, "build-output", b"PK\x05\x06" + b"\0" * 18)
                artefacts += 1
        for week in range(13):
            fake.add_analysis(repo, PERIOD.start + timedelta(days=7 * week, hours=3), codeql)
            analyses += 1
        versions = _workflow_history(fake, repo, changes=2 if name == "acme/api" else 0)
        facts[name] = {"runs": count, "artefacts": artefacts, "sarif": sarif, "analyses": analyses}
        facts[name].update(workflows=1, versions=versions)
    return facts


def _workflow_history(fake: FakeGitHub, repo: Any, changes: int) -> int:
    """The runs' security.yml: committed before the quarter, then `changes` times in it."""
    content = WORKFLOW.read_bytes()
    path = ".github/workflows/security.yml"
    fake.commit_file(repo, path, PERIOD.start - timedelta(days=40), content)
    for change in range(changes):
        moment = PERIOD.start + timedelta(days=30 * (change + 1))
        fake.commit_file(repo, path, moment, content + f"# change {change}\n".encode())
    return 1 + changes


def _zip(entries: dict[str, Path]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, path in entries.items():
            bundle.writestr(name, path.read_bytes())
    return buffer.getvalue()


def minimum(facts: dict[str, dict[str, int]], cap: int = 1000) -> int:
    total = 1  # the organisation's repository listing
    for repo in facts.values():
        runs = repo["runs"]
        total += math.ceil(runs / 100) + (1 if runs > cap else 0)
        total += runs  # one jobs listing per run
        total += max(1, math.ceil(repo["artefacts"] / 100)) + repo["sarif"]
        total += 1 + repo["analyses"]
        total += 2 * repo["workflows"] + repo["versions"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--keep", type=Path, help="keep the locker in this folder (for a pack)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    fake = FakeGitHub(ROOT / "tests" / "data")
    try:
        facts = build(fake, args.runs)
        if args.keep:
            report(fake, facts, args.keep)
        else:
            with tempfile.TemporaryDirectory() as folder:
                report(fake, facts, Path(folder))
    finally:
        fake.stop()


def report(fake: FakeGitHub, facts: dict[str, dict[str, int]], folder: Path) -> None:
    matrix = load_matrix()
    scope = GitHubScope(PERIOD, org="acme")
    with Locker.open(folder / "locker") as locker:
        for attempt in ("first", "second"):
            api = GitHubApi("ghp_benchmark", fake.url, sleep=lambda _: None)
            sent, downloads = len(fake.log), len(fake.storage_log)
            started = time.perf_counter()
            summary = GitHubCollector(api, locker, matrix, clock=lambda: COLLECTED_AT).collect(
                scope
            )
            elapsed = time.perf_counter() - started
            bodies = sum(1 for entry in fake.log[sent:] if entry.status == 200)
            print(
                f"{attempt} collection: {elapsed:.1f} s, {api.counter.sent} requests "
                f"({api.counter.not_modified} answered 304), {bodies} API bodies, "
                f"{len(fake.storage_log) - downloads} artefact downloads"
            )
            print(
                f"  runs {summary.runs}/{summary.runs_reported}, reconciled "
                f"{summary.reconciled}, artefacts {summary.artifacts_imported} imported, "
                f"{summary.artifacts_expired} expired, analyses {summary.analyses}"
            )
            if attempt == "first":
                floor = minimum(facts)
                print(
                    f"  minimum the endpoints allow: {floor}; sent {api.counter.sent} "
                    f"({100 * (api.counter.sent - floor) / floor:+.1f}%)"
                )
                print(f"  by kind: {dict(sorted(api.counter.by_kind.items()))}")
        print(
            f"locker: {len(locker.items())} items, {len(locker.runs())} runs, "
            f"{len(locker.executions())} gate executions, {len(locker.gaps())} gaps"
        )


if __name__ == "__main__":
    main()
