"""`auditpack collect github`: a period's workflow runs, jobs, SARIF artefacts and code scanning."""

from __future__ import annotations

import argparse
import os

from auditpack.commands.context import Context
from auditpack.controls.period import parse_period
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.sources.github import (
    DEFAULT_ARTIFACT_PATTERN,
    CollectionSummary,
    GitHubCollector,
    GitHubScope,
    RequestPlan,
)
from auditpack.evidence.sources.github_client import DEFAULT_API_URL, GitHubApi, RequestCounter


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "github",
        help="collect workflow runs, jobs, SARIF artefacts and code scanning from GitHub",
        description=(
            "Collect every workflow run created in the period with its jobs, the SARIF inside "
            "its artefacts, the code-scanning analyses and the workflow files in effect (each "
            "version once), into the evidence locker. The token "
            "is read from GITHUB_TOKEN (scopes: repo, actions:read, security_events); it is "
            "never printed, logged or stored. Run it again to resume or to bring a period up "
            "to date: what the locker holds is not downloaded again."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--org", help="every repository of this organisation")
    source.add_argument(
        "--repo", action="append", metavar="OWNER/NAME", help="a repository (repeatable)"
    )
    parser.add_argument(
        "--period", required=True, help="2026-Q3, 2026-08 or 2026-07-01..2026-09-30"
    )
    parser.add_argument("--branch", help="only runs on this branch (such as main)")
    parser.add_argument("--workflow", help="only runs of this workflow file (security.yml) or id")
    parser.add_argument(
        "--api-url",
        default=DEFAULT_API_URL,
        help="GitHub Enterprise Server: https://HOST/api/v3 (default: %(default)s)",
    )
    parser.add_argument(
        "--include-archived", action="store_true", help="also collect archived repositories"
    )
    parser.add_argument(
        "--artifact-pattern",
        default=DEFAULT_ARTIFACT_PATTERN,
        help="regular expression on artefact names worth downloading for SARIF",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count the requests needed; download nothing"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise CollectionError("GitHub: GITHUB_TOKEN is not set; export a token with repo scope")
    scope = GitHubScope(
        period=parse_period(args.period),
        org=args.org,
        repositories=tuple(args.repo or ()),
        branch=args.branch,
        workflow=args.workflow,
        include_archived=args.include_archived,
        artifact_pattern=args.artifact_pattern,
    )
    api = GitHubApi(token, args.api_url, progress=context.progress)
    with context.open_locker() as locker:
        collector = GitHubCollector(api, locker, context.load_matrix(), context.progress)
        if args.dry_run:
            print(plan_text(collector.plan(scope), api.counter))
            return 0
        summary = collector.collect(scope)
    print(summary_text(summary, api.counter, scope))
    print(f"locker: {context.locker_dir}")
    return 0


def plan_text(plan: RequestPlan, counter: RequestCounter) -> str:
    lines = [
        f"{plan.repositories} repositories, {plan.runs} runs in {plan.windows} listing windows",
        *(f"  {kind}: {count}" for kind, count in plan.requests.items()),
        "  plus one per SARIF artefact and per code-scanning analysis in the period",
        f"about {plan.total} requests; this dry run used {counter.sent}" + _left(counter),
    ]
    return "\n".join(lines)


def summary_text(summary: CollectionSummary, counter: RequestCounter, scope: GitHubScope) -> str:
    reconciled = (
        "reconciled"
        if not summary.unreconciled
        else ("NOT reconciled for " + ", ".join(summary.unreconciled))
    )
    lines = [
        f"GitHub, {scope.period}:",
        f"  repositories  {summary.repositories}",
        f"  runs          {summary.runs} of {summary.runs_reported} reported ({reconciled})",
        f"  jobs          {summary.job_listings} new listings, "
        f"{summary.executions} gate executions",
        f"  artefacts     {summary.artifacts_imported} imported ({summary.sarif_files} SARIF), "
        f"{summary.artifacts_expired} expired, {summary.artifacts_unsafe} refused as unsafe",
        f"  analyses      {summary.analyses} code-scanning analyses",
        f"  workflows     {summary.workflow_versions} new workflow file versions",
        f"  gaps          {summary.gaps} new evidence gaps",
        f"  requests      {counter.sent} sent ({counter.not_modified} unchanged: 304)"
        + _left(counter),
    ]
    if summary.artifacts_expired:
        lines.append(
            "  expired artefacts are lost evidence: collect more often than the retention period"
        )
    return "\n".join(lines)


def _left(counter: RequestCounter) -> str:
    if counter.remaining is None:
        return ""
    return f", {counter.remaining} of {counter.limit} left this hour"
