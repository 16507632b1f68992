"""A period's GitHub Actions evidence: runs, jobs, SARIF artefacts, code scanning, workflows.

Every REST page used is kept in the locker as an evidence item, so that each run, gate
execution and gap traces to the answer GitHub gave. Work is checkpointed in the locker as
it completes: an interrupted collection resumes without losing or duplicating anything,
and a collection repeated over the same period sends ETags and downloads nothing new.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import Period
from auditpack.evidence import actions
from auditpack.evidence.importer import (
    Origin,
    evidence_item,
    import_job_listing,
    import_run_listing,
    import_sarif,
)
from auditpack.evidence.locker import Locker, Population, StoredBlob
from auditpack.evidence.model import (
    EvidenceGap,
    GapKind,
    GateExecution,
    ItemKind,
    Outcome,
    Repository,
    Sha256,
)
from auditpack.evidence.progress import NoProgress, Progress
from auditpack.evidence.sources.github_artifacts import UnsafeArchive, ZipLimits, sarif_entries
from auditpack.evidence.sources.github_client import (
    PER_PAGE,
    Answer,
    GitHubApi,
    GitHubError,
    public_url,
)
from auditpack.evidence.sources.github_windows import LISTING_CAP, Window, leaf_windows
from auditpack.evidence.sources.github_workflows import WorkflowFiles, plan_workflow_files

log = logging.getLogger(__name__)

# Artefacts whose names suggest scanner output; others (builds, logs) are not downloaded.
DEFAULT_ARTIFACT_PATTERN = (
    r"(?i)sarif|scan|semgrep|trivy|checkov|gitleaks|codeql|bandit|grype|snyk|sast|secret|security"
)
MAX_ARTIFACT_BYTES = 512 << 20
CODE_SCANNING_NOTE = (
    "GitHub's code-scanning copy of the analysis: a subset of the SARIF originally uploaded"
)
_DONE = "done"
# Jobs that ship a change; a gate failing before one of them succeeds did not block it.
_DEPLOY_JOB = re.compile(r"(?i)deploy|release|publish")


@dataclass(frozen=True)
class GitHubScope:
    """What to collect: an organisation or named repositories, over one period."""

    period: Period
    org: str | None = None
    repositories: tuple[str, ...] = ()
    branch: str | None = None
    workflow: str | None = None  # a workflow file name (ci.yml) or id
    include_archived: bool = False
    artifact_pattern: str = DEFAULT_ARTIFACT_PATTERN


@dataclass
class CollectionSummary:
    """What one collection brought back, for the one-screen summary."""

    repositories: int = 0
    runs: int = 0
    runs_reported: int = 0
    job_listings: int = 0
    executions: int = 0
    artifacts_imported: int = 0
    artifacts_expired: int = 0
    artifacts_unsafe: int = 0
    sarif_files: int = 0
    analyses: int = 0
    workflow_versions: int = 0
    gaps: int = 0
    reconciled: list[str] = field(default_factory=list)
    unreconciled: list[str] = field(default_factory=list)


@dataclass
class RequestPlan:
    """What a collection would send, counted from listings' totals (`--dry-run`)."""

    repositories: int = 0
    runs: int = 0
    windows: int = 0
    requests: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + count

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@dataclass(frozen=True)
class Page:
    """A JSON page, fresh from GitHub or (after a 304) read back from the locker."""

    url: str
    body: bytes
    data: Any
    next_url: str | None
    etag: str | None
    fresh: bool


class GitHubCollector:
    """One collection run into one locker."""

    def __init__(
        self,
        api: GitHubApi,
        locker: Locker,
        matrix: ControlMatrix,
        progress: Progress | None = None,
        *,
        zip_limits: ZipLimits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        listing_cap: int = LISTING_CAP,
    ) -> None:
        self.api = api
        self.locker = locker
        self.matrix = matrix
        self.progress = progress or NoProgress()
        self.zip_limits = zip_limits or ZipLimits()
        self.clock = clock
        self.listing_cap = listing_cap
        self.summary = CollectionSummary()
        self._workdir = Path(tempfile.mkdtemp(dir=locker.root / "tmp", prefix="github-"))

    # The whole collection ------------------------------------------------------------------

    def collect(self, scope: GitHubScope) -> CollectionSummary:
        last_gap = self._last_gap_id()
        try:
            repositories = self.repositories(scope)
            for repository in repositories:
                self.collect_repository(repository, scope)
                self.progress.advance("repositories", total=len(repositories))
        finally:
            _remove_tree(self._workdir)
        rows = self.locker.query("SELECT COUNT(*) FROM gaps WHERE id > ?", (last_gap,))
        self.summary.gaps = int(rows[0][0])
        return self.summary

    def _last_gap_id(self) -> int:
        return int(self.locker.query("SELECT COALESCE(MAX(id), 0) FROM gaps")[0][0])

    def repositories(self, scope: GitHubScope) -> list[Repository]:
        if not scope.org:
            return [Repository(name) for name in scope.repositories]
        url = self.api.url(f"/orgs/{scope.org}/repos", type="all", per_page=PER_PAGE)
        found = list(scope.repositories)
        for page in self.pages(url, "repos"):
            self.keep_response(page, None, None)
            found += [
                str(entry["full_name"])
                for entry in page.data
                if scope.include_archived or not entry.get("archived")
            ]
        return [Repository(name) for name in dict.fromkeys(found)]

    def collect_repository(self, repository: Repository, scope: GitHubScope) -> None:
        self.summary.repositories += 1
        runs = self.collect_runs(repository, scope)
        WorkflowFiles(self).collect(repository, scope.period, {run.workflow_path for run in runs})
        for run in runs:
            self.collect_jobs(repository, run)
            self.progress.advance("runs", total=len(runs))
        self.collect_artifacts(repository, scope, {run.run_id for run in runs})
        self.collect_code_scanning(repository, scope)

    def plan(self, scope: GitHubScope) -> RequestPlan:
        """Count the requests a collection needs, asking only for totals (one item a page)."""
        plan = RequestPlan()
        repositories = self.repositories(scope)
        plan.repositories = len(repositories)
        plan.add("repositories", self.api.counter.sent)
        for repository in repositories:
            self._plan_repository(repository, scope, plan)
        return plan

    def _plan_repository(
        self, repository: Repository, scope: GitHubScope, plan: RequestPlan
    ) -> None:
        def count(window: Window) -> int:
            plan.windows += 1
            url = self._runs_url(repository, scope, window).replace("per_page=100", "per_page=1")
            return int(self.api.get(url, kind="plan").json().get("total_count", 0))

        whole = Window(scope.period.start, scope.period.end)
        windows_before = plan.windows
        leaves = list(leaf_windows(whole, count(whole), count, self.listing_cap))
        runs = sum(total for _, total in leaves)
        # Each window's first page is also its probe; the other pages come on top.
        pages = plan.windows - windows_before
        pages += sum(
            max(0, -(-min(total, self.listing_cap) // PER_PAGE) - 1) for _, total in leaves
        )
        plan.runs += runs
        plan.add("runs", pages)
        plan.add("jobs", runs)
        url = self.api.url(f"/repos/{repository}/actions/artifacts", per_page=1)
        artefacts = int(self.api.get(url, kind="plan").json().get("total_count", 0))
        plan.add("artefact listings (at most)", max(1, -(-artefacts // PER_PAGE)))
        plan.add("code-scanning listings (at least)", 1)
        for kind, requests in plan_workflow_files(self.api, repository, scope).items():
            plan.add(kind, requests)

    # Runs ----------------------------------------------------------------------------------

    def collect_runs(self, repository: Repository, scope: GitHubScope) -> list[RunRef]:
        """List every run created in the period, window by window, and reconcile the count."""
        runs: dict[int, RunRef] = {}
        first_pages: dict[Window, Page] = {}

        def count(window: Window) -> int:
            first_pages[window] = self.runs_page(self._runs_url(repository, scope, window))
            self._take_runs(repository, first_pages[window], runs)
            return int(first_pages[window].data.get("total_count", 0))

        whole = Window(scope.period.start, scope.period.end)
        reported = count(whole)
        leaves = list(leaf_windows(whole, reported, count, self.listing_cap))
        for window, total in leaves:
            if total > self.listing_cap:
                self._record_capped(repository, window, total)
            next_url = first_pages[window].next_url
            while next_url:
                page = self.runs_page(next_url)
                self._take_runs(repository, page, runs)
                next_url = page.next_url
        self._reconcile(repository, scope, reported, sum(total for _, total in leaves), runs)
        return sorted(runs.values(), key=lambda run: run.run_id)

    def _runs_url(self, repository: Repository, scope: GitHubScope, window: Window) -> str:
        path = f"/repos/{repository}/actions/runs"
        if scope.workflow:
            path = f"/repos/{repository}/actions/workflows/{scope.workflow}/runs"
        return self.api.url(path, created=window.query(), branch=scope.branch, per_page=PER_PAGE)

    def runs_page(self, url: str) -> Page:
        page = self.page(url, "runs")
        if page.fresh:
            repository = _repository_in(url)
            origin = self.origin(url, repository=repository)
            with self._spilled(page.body) as path:
                import_run_listing(self.locker, path, origin)
            self.remember(page)
        return page

    def _take_runs(self, repository: Repository, page: Page, runs: dict[int, RunRef]) -> None:
        for entry in page.data.get("workflow_runs") or []:
            run = RunRef(
                int(entry["id"]),
                int(entry.get("run_attempt") or 1),
                str(entry.get("status") or ""),
                str(entry.get("path") or ""),
            )
            # Dedupe by run id: the same run may be listed twice if it was re-attempted while
            # the listing was paged; keep its latest attempt.
            if run.run_id not in runs or runs[run.run_id].attempt < run.attempt:
                runs[run.run_id] = run

    def _reconcile(
        self,
        repository: Repository,
        scope: GitHubScope,
        reported: int,
        windows_total: int,
        runs: dict[int, RunRef],
    ) -> None:
        url = public_url(
            self._runs_url(repository, scope, Window(scope.period.start, scope.period.end))
        )
        query = f"created={Window(scope.period.start, scope.period.end).query()}"
        query += f" branch={scope.branch}" if scope.branch else ""
        query += f" workflow={scope.workflow}" if scope.workflow else ""
        population = Population(
            name=f"github-runs:{repository}",
            source=url,
            query=query,
            extracted_at=self.clock(),
            count=len(runs),
            source_count=reported,
        )
        with self.locker.transaction() as writer:
            writer.set_population(population)
        self.summary.runs += len(runs)
        self.summary.runs_reported += reported
        if len(runs) == reported == windows_total:
            self.summary.reconciled.append(repository)
            return
        self.summary.unreconciled.append(repository)
        self.gap(
            GapKind.INCOMPLETE_POPULATION,
            f"github-runs:{repository}",
            f"{repository}: GitHub reported {reported} runs for {query}, the windows summed to "
            f"{windows_total} and {len(runs)} distinct runs were listed; collect again",
            repository=repository,
        )

    def _record_capped(self, repository: Repository, window: Window, total: int) -> None:
        self.gap(
            GapKind.INCOMPLETE_POPULATION,
            f"github-runs:{repository}:{window.query()}",
            f"{repository}: {total} runs were created within one second ({window.query()}); "
            f"GitHub lists at most {self.listing_cap} of them",
            repository=repository,
        )

    # Jobs ----------------------------------------------------------------------------------

    def collect_jobs(self, repository: Repository, run: RunRef) -> None:
        key = f"github:jobs:{repository}:{run.run_id}:{run.attempt}"
        if self.locker.checkpoint(key) == _DONE:
            return
        # filter=all: earlier attempts matter too (a gate that failed, then passed on re-run).
        url: str | None = self.api.url(
            f"/repos/{repository}/actions/runs/{run.run_id}/jobs", filter="all", per_page=PER_PAGE
        )
        jobs: list[dict[str, Any]] = []
        try:
            while url:
                page = self.page(url, "jobs")
                jobs += page.data.get("jobs") or []
                if page.fresh:
                    origin = self.origin(url, repository=repository, run_id=run.run_id)
                    with self._spilled(page.body) as path:
                        result = import_job_listing(self.locker, self.matrix, path, origin)
                    self.summary.job_listings += 1
                    self.summary.executions += result.records
                    self.remember(page)
                url = page.next_url
        except GitHubError as error:
            self._fetch_failed(url or "", error, repository, run.run_id)
            return
        self._deploys_after_failure(repository, run, jobs)
        # A run still in progress may gain jobs; only a finished one is done for good.
        if run.status == "completed":
            self.checkpoint(key, _DONE)

    def _deploys_after_failure(
        self, repository: Repository, run: RunRef, jobs: list[dict[str, Any]]
    ) -> None:
        """A deploy job that succeeded after a gate failed in the same attempt: the gate did
        not block the change, which is what an auditor tests a gate for."""
        executions = actions.executions_from_jobs({"jobs": jobs}, self.matrix, repository)
        failed = [e for e in executions if e.outcome is Outcome.FAILED and e.completed_at]
        for job in jobs:
            started = actions.parse_time(job.get("started_at"))
            if not _DEPLOY_JOB.search(str(job.get("name") or "")) or started is None:
                continue
            if job.get("conclusion") != "success":
                continue
            attempt = int(job.get("run_attempt") or 1)
            for gate in failed:
                if gate.attempt == attempt and gate.completed_at and gate.completed_at <= started:
                    self._deploy_gap(repository, run, job, gate, started)
                    break

    def _deploy_gap(
        self,
        repository: Repository,
        run: RunRef,
        job: dict[str, Any],
        gate: GateExecution,
        started: datetime,
    ) -> None:
        url = self.api.url(f"/repos/{repository}/actions/runs/{run.run_id}/jobs")
        assert gate.completed_at is not None
        self.gap(
            GapKind.DEPLOY_AFTER_FAILED_GATE,
            f"{url}#job-{job['id']}",
            f"{repository}: run {run.run_id} attempt {gate.attempt}: job {job.get('name')!r} "
            f"succeeded from {started.isoformat()} after gate {gate.gate} failed in job "
            f"{gate.job_name!r} at {gate.completed_at.isoformat()}",
            repository=repository,
            run_id=run.run_id,
            gate=gate.gate,
        )

    # Artefacts -----------------------------------------------------------------------------

    def collect_artifacts(
        self, repository: Repository, scope: GitHubScope, run_ids: set[int]
    ) -> None:
        """List artefacts once per repository (fewer calls than per run) and fetch SARIF ones."""
        pattern = re.compile(scope.artifact_pattern)
        url = self.api.url(f"/repos/{repository}/actions/artifacts", per_page=PER_PAGE)
        for page in self.pages(url, "artifacts"):
            self.keep_response(page, repository, None)
            entries = page.data.get("artifacts") or []
            for entry in entries:
                run_id = int((entry.get("workflow_run") or {}).get("id") or 0)
                if run_id in run_ids and pattern.search(str(entry.get("name") or "")):
                    self.collect_artifact(repository, run_id, entry)
            if _all_before(entries, scope.period.start):
                break  # newest first: the remaining pages predate the period

    def collect_artifact(self, repository: Repository, run_id: int, entry: dict[str, Any]) -> None:
        key = f"github:artifact:{repository}:{entry['id']}"
        if self.locker.checkpoint(key) == _DONE:
            return
        url = self.api.url(f"/repos/{repository}/actions/artifacts/{entry['id']}/zip")
        name = str(entry.get("name") or entry["id"])
        if entry.get("expired"):
            self._expired(repository, run_id, url, name, entry.get("expires_at"))
        else:
            try:
                self._fetch_artifact(repository, run_id, url, name, entry)
            except GitHubError as error:
                self._fetch_failed(url, error, repository, run_id)
                return
        self.checkpoint(key, _DONE)

    def _fetch_artifact(
        self, repository: Repository, run_id: int, url: str, name: str, entry: dict[str, Any]
    ) -> None:
        location = self.api.redirect_location(url)
        if location is None:  # 410: deleted or expired between listing and download
            self._expired(repository, run_id, url, name, entry.get("expires_at"))
            return
        archive = self._workdir / f"artifact-{entry['id']}.zip"
        with open(archive, "wb") as out:
            self.api.download(location, out, MAX_ARTIFACT_BYTES)
        produced = actions.parse_time(entry.get("created_at"))
        origin = self.origin(url, repository=repository, run_id=run_id, produced_at=produced)
        blob = self.locker.store_file(archive)
        self.add_item(origin, ItemKind.ARTIFACT_ZIP, blob.sha256, blob.size, f"artefact {name}")
        digest = str(entry.get("digest") or "")
        if digest.startswith("sha256:") and digest[7:] != blob.sha256:
            self._unsafe(
                repository, run_id, url, name, f"sha256 {blob.sha256} but GitHub says {digest}"
            )
            return
        self._import_archive(repository, run_id, url, name, archive, produced)
        self.progress.advance("artefacts")

    def _import_archive(
        self,
        repository: Repository,
        run_id: int,
        url: str,
        name: str,
        archive: Path,
        produced: datetime | None,
    ) -> None:
        workdir = Path(tempfile.mkdtemp(dir=self._workdir))
        try:
            entries = sarif_entries(archive, workdir, self.zip_limits)
        except UnsafeArchive as error:
            self._unsafe(repository, run_id, url, name, str(error))
            return
        finally:
            archive.unlink(missing_ok=True)
        for entry in entries:
            origin = self.origin(
                f"{url}#{entry.name}",
                repository=repository,
                run_id=run_id,
                produced_at=produced,
                classify_path=f"{name}/{entry.name}",
            )
            import_sarif(self.locker, self.matrix, entry.path, origin)
            self.summary.sarif_files += 1
        self.summary.artifacts_imported += 1
        _remove_tree(workdir)

    def _expired(
        self, repository: Repository, run_id: int, url: str, name: str, expires: object
    ) -> None:
        when = f" on {str(expires)[:10]}" if expires else ""
        self.summary.artifacts_expired += 1
        self.gap(
            GapKind.EXPIRED_ARTIFACT,
            url,
            f"{repository}: artefact {name!r} of run {run_id} expired{when} before it was "
            "collected; collect more often than the retention period (90 days by default)",
            repository=repository,
            run_id=run_id,
        )

    def _unsafe(self, repository: Repository, run_id: int, url: str, name: str, why: str) -> None:
        self.summary.artifacts_unsafe += 1
        self.gap(
            GapKind.UNSAFE_ARCHIVE,
            public_url(url),
            f"{repository}: artefact {name!r} of run {run_id} was not unpacked: {why}",
            repository=repository,
            run_id=run_id,
        )

    # Code scanning -------------------------------------------------------------------------

    def collect_code_scanning(self, repository: Repository, scope: GitHubScope) -> None:
        ref = f"refs/heads/{scope.branch}" if scope.branch else None
        url = self.api.url(
            f"/repos/{repository}/code-scanning/analyses", ref=ref, per_page=PER_PAGE
        )
        try:
            for page in self.pages(url, "code-scanning"):
                self.keep_response(page, repository, None)
                for entry in page.data:
                    created = actions.parse_time(entry.get("created_at"))
                    if created is not None and scope.period.contains(created):
                        self.collect_analysis(repository, entry, created)
                if _all_before(page.data, scope.period.start):
                    break
        except GitHubError as error:
            if error.status == 404:  # code scanning not enabled: there is nothing to collect
                log.info("%s: no code scanning analyses (%s)", repository, error)
                return
            self._fetch_failed(url, error, repository, None)

    def collect_analysis(
        self, repository: Repository, entry: dict[str, Any], created: datetime
    ) -> None:
        key = f"github:analysis:{repository}:{entry['id']}"
        if self.locker.checkpoint(key) == _DONE:
            return
        url = self.api.url(f"/repos/{repository}/code-scanning/analyses/{entry['id']}")
        answer = self.api.get(url, kind="code-scanning", accept="application/sarif+json")
        origin = self.origin(
            url, repository=repository, produced_at=created, note=CODE_SCANNING_NOTE
        )
        with self._spilled(answer.body.encode("utf-8")) as path:
            import_sarif(self.locker, self.matrix, path, origin, kind=ItemKind.CODE_SCANNING_SARIF)
        self.summary.analyses += 1
        self.checkpoint(key, _DONE)

    # Pages, ETags and items ----------------------------------------------------------------

    def pages(self, url: str, kind: str) -> Iterator[Page]:
        next_url: str | None = url
        while next_url:
            page = self.page(next_url, kind)
            yield page
            next_url = page.next_url

    def page(self, url: str, kind: str) -> Page:
        """GET a JSON page, sending the ETag of the copy already in the locker."""
        cached = self._cached(url)
        answer = self.api.get(url, kind=kind, etag=cached.get("etag") if cached else None)
        if answer.not_modified and cached:
            body = self.locker.blob_path(cached["sha256"]).read_bytes()
            return Page(url, body, json.loads(body), cached.get("next"), cached["etag"], False)
        return _fresh_page(url, answer)

    def _cached(self, url: str) -> dict[str, Any] | None:
        value = self.locker.checkpoint(_etag_key(url))
        if value is None:
            return None
        cached: dict[str, Any] = json.loads(value)
        return cached if self.locker.has_blob(cached["sha256"]) else None

    def remember(self, page: Page) -> None:
        """After a page's evidence is in the locker: its ETag, for the next collection."""
        if page.etag:
            blob = self.locker.store_bytes(page.body)
            value = {"etag": page.etag, "sha256": blob.sha256, "next": page.next_url}
            self.checkpoint(_etag_key(page.url), json.dumps(value))

    def keep_response(self, page: Page, repository: Repository | None, run_id: int | None) -> None:
        """Keep a listing that no importer indexes (repositories, artefacts, analyses)."""
        if not page.fresh:
            return
        blob = self.locker.store_bytes(page.body)
        origin = self.origin(page.url, repository=repository, run_id=run_id)
        self.add_item(origin, ItemKind.API_RESPONSE, blob.sha256, blob.size, "")
        self.remember(page)

    def add_item(self, origin: Origin, kind: ItemKind, sha256: str, size: int, note: str) -> None:
        blob = StoredBlob(Sha256(sha256), size)
        item = evidence_item(blob, kind, replace(origin, note=note), None, None, False)
        with self.locker.transaction() as writer:
            writer.add_item(item)
            writer.resolve_gaps(origin.source)

    def origin(self, url: str, **fields: Any) -> Origin:
        return Origin(source=public_url(url), retrieved_at=self.clock(), **fields)

    def checkpoint(self, key: str, value: str) -> None:
        with self.locker.transaction() as writer:
            writer.set_checkpoint(key, value)

    def gap(self, kind: GapKind, source: str, reason: str, **fields: Any) -> None:
        gap = EvidenceGap(kind, public_url(source), reason, self.clock(), **fields)
        with self.locker.transaction() as writer:
            writer.add_gap(gap)
        log.warning("%s", reason)

    def _fetch_failed(
        self, url: str, error: GitHubError, repository: Repository, run_id: int | None
    ) -> None:
        self.gap(GapKind.FETCH_FAILED, url, str(error), repository=repository, run_id=run_id)

    @contextmanager
    def _spilled(self, body: bytes) -> Iterator[Path]:
        """The importer reads files: a body lives on disk only while it is imported."""
        with tempfile.NamedTemporaryFile(dir=self._workdir, delete=False, suffix=".json") as out:
            out.write(body)
        try:
            yield Path(out.name)
        finally:
            Path(out.name).unlink(missing_ok=True)


@dataclass(frozen=True)
class RunRef:
    """What collection needs to remember of a listed run."""

    run_id: int
    attempt: int
    status: str
    workflow_path: str = ""


def _fresh_page(url: str, answer: Answer) -> Page:
    body = answer.body.encode("utf-8")
    return Page(url, body, json.loads(body), answer.next_url, answer.etag, True)


def _etag_key(url: str) -> str:
    return f"github:etag:{public_url(url)}"


_REPO_IN_PATH = re.compile(r"/repos/([^/]+/[^/]+)/")


def _repository_in(url: str) -> Repository | None:
    match = _REPO_IN_PATH.search(url)
    return Repository(match[1]) if match else None


def _all_before(entries: list[dict[str, Any]], start: datetime) -> bool:
    """True when a page, newest first, holds only entries created before `start`."""
    times = [actions.parse_time(entry.get("created_at")) for entry in entries]
    known = [moment for moment in times if moment is not None]
    ordered = all(later >= earlier for later, earlier in itertools.pairwise(known))
    return bool(known) and ordered and known[0] < start


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
