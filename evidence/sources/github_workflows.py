"""Workflow files in effect during a period: each version kept once, runs linked to theirs.

Per workflow file a collection asks for the commit in effect at the period's start, the
commits in the period that changed the file, and the file at each of those commits it does
not hold yet: a few requests per workflow, whatever the number of runs. The versions are
design evidence: `gate_settings` reads, from one version, how each gate step is configured
to block (Trivy's exit-code and severity, Checkov's soft_fail, Semgrep's config).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import yaml

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import Period
from auditpack.evidence import actions
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.importer import evidence_item
from auditpack.evidence.model import (
    GapKind,
    GateId,
    ItemKind,
    Repository,
    WorkflowRun,
    WorkflowVersion,
)
from auditpack.evidence.sources.github_client import PER_PAGE, Answer, GitHubApi, GitHubError

if TYPE_CHECKING:
    from auditpack.evidence.sources.github import GitHubCollector, GitHubScope

log = logging.getLogger(__name__)

WORKFLOWS_FOLDER = ".github/workflows/"
_DONE = "done"
_SECOND = timedelta(seconds=1)
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_LAST_PAGE = re.compile(r'<([^>]+)>\s*;\s*rel="last"')

# The inputs that decide whether a scanner action blocks, per action (owner/repo, lower case).
_GATE_INPUTS: dict[str, tuple[str, ...]] = {
    "aquasecurity/trivy-action": (
        "scan-type",
        "scan-ref",
        "image-ref",
        "exit-code",
        "severity",
        "ignore-unfixed",
        "vuln-type",
        "trivyignores",
    ),
    "bridgecrewio/checkov-action": (
        "soft_fail",
        "soft_fail_on",
        "hard_fail_on",
        "check",
        "skip_check",
        "framework",
        "config_file",
    ),
    "returntocorp/semgrep-action": ("config",),
    "semgrep/semgrep-action": ("config",),
    "gitleaks/gitleaks-action": (),
    "anchore/scan-action": ("fail-build", "severity-cutoff"),
}
_ALL_GATE_INPUTS = tuple(dict.fromkeys(key for keys in _GATE_INPUTS.values() for key in keys))
# Inputs that only a scanner takes: they make a local or unknown action (`uses: ./`) a gate step.
_BLOCKING_INPUTS = frozenset(
    {"exit-code", "soft_fail", "soft_fail_on", "hard_fail_on", "fail-build", "severity-cutoff"}
)


class WorkflowError(CollectionError):
    """A workflow file that cannot be read as a GitHub Actions workflow."""


@dataclass(frozen=True)
class WorkflowCommit:
    """A commit that changed a workflow file, as the commits listing names it."""

    sha: str
    committed_at: datetime


@dataclass(frozen=True)
class StepSetting:
    """How one gate step of a workflow version is configured.

    `step` is the name GitHub lists for the step (its `name:`, else `Run <uses>`), so that
    it lines up with the gate executions of the runs. `settings` holds the step's inputs
    that decide whether it blocks, in file order, as text, plus `continue-on-error` when the
    step or its job sets it (a step that continues on error never blocks).
    """

    job: str
    job_name: str
    step: str
    action: str
    ref: str | None
    gate: GateId | None
    settings: tuple[tuple[str, str], ...]

    @property
    def pinned(self) -> bool:
        """Pinned to a full commit SHA: the action's code cannot change under the workflow."""
        return self.ref is not None and _FULL_SHA.match(self.ref) is not None

    def setting(self, key: str) -> str | None:
        return dict(self.settings).get(key)

    def blocks(self) -> bool | None:
        """Whether findings fail the step, by its inputs and the action's documented defaults
        (Trivy's exit-code 0, Checkov's soft_fail false, Anchore's fail-build true); None when
        an expression decides or the action is not one auditpack knows."""
        values = dict(self.settings)
        decided = [_switch(values.get("continue-on-error", "false"), inverted=True)]
        if self.action == "aquasecurity/trivy-action" or "exit-code" in values:
            decided.append(_nonzero(values.get("exit-code", "0")))
        if self.action == "bridgecrewio/checkov-action" or "soft_fail" in values:
            decided.append(_switch(values.get("soft_fail", "false"), inverted=True))
        if self.action == "anchore/scan-action" or "fail-build" in values:
            decided.append(_switch(values.get("fail-build", "true")))
        if False in decided:
            return False
        if None in decided or (self.action not in _GATE_INPUTS and len(decided) == 1):
            return None
        return True


# Reading workflow files -----------------------------------------------------------------------


class _WorkflowLoader(yaml.SafeLoader):
    """YAML as GitHub reads workflows (1.2): only true/false are booleans.

    PyYAML follows YAML 1.1, where `on`, `yes` and `no` are booleans too: the key `on:`
    would read as True, and `ignore-unfixed: yes` as true where the action sees "yes".
    """


_WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_workflow(text: str, source: str = "workflow file") -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_WorkflowLoader)  # a SafeLoader: no objects
    except yaml.YAMLError as error:
        raise WorkflowError(f"{source}: not YAML ({_one_line(error)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
        raise WorkflowError(f"{source}: not a GitHub Actions workflow (no 'jobs' mapping)")
    return document


def workflow_triggers(text: str, source: str = "workflow file") -> tuple[str, ...]:
    """The events that start the workflow (`on:`), such as push and pull_request."""
    document = read_workflow(text, source)
    events = document.get("on")
    if isinstance(events, str):
        return (events,)
    if isinstance(events, (list, dict)):
        return tuple(str(event) for event in events)
    return ()


def gate_settings(
    workflow_yaml: str, matrix: ControlMatrix, source: str = "workflow file"
) -> list[StepSetting]:
    """The gate steps of a workflow, in file order, with the settings that make them block."""
    document = read_workflow(workflow_yaml, source)
    found: list[StepSetting] = []
    for job_id, job in document["jobs"].items():
        if isinstance(job, dict):
            found += _job_settings(str(job_id), job, matrix)
    return found


def _job_settings(job_id: str, job: dict[str, Any], matrix: ControlMatrix) -> list[StepSetting]:
    job_name = str(job.get("name") or job_id)
    found = []
    for step in job.get("steps") or []:
        if not isinstance(step, dict) or not step.get("uses"):
            continue  # `run:` steps: their gate behaviour is in a command line, not read here
        setting = _step_setting(job_id, job_name, job, step, matrix)
        if setting is not None:
            found.append(setting)
    return found


def _step_setting(
    job_id: str, job_name: str, job: dict[str, Any], step: dict[str, Any], matrix: ControlMatrix
) -> StepSetting | None:
    uses = str(step["uses"]).strip()
    action, ref = split_uses(uses)
    inputs = step.get("with")
    inputs = inputs if isinstance(inputs, dict) else {}
    known = _GATE_INPUTS.get(action)
    if known is None and not _BLOCKING_INPUTS & set(map(str, inputs)):
        return None
    step_name = str(step.get("name") or f"Run {uses}")
    # As the gate executions of its runs are classified; a named step may still be known by
    # the action it uses.
    gate = matrix.classify_step(job_name, step_name) or matrix.classify_step(job_name, uses)
    keys = known if known is not None else _ALL_GATE_INPUTS
    settings = [(str(key), _text(value)) for key, value in inputs.items() if str(key) in keys]
    blocking = step.get("continue-on-error", job.get("continue-on-error"))
    if blocking is not None:
        settings.append(("continue-on-error", _text(blocking)))
    return StepSetting(job_id, job_name, step_name, action, ref, gate, tuple(settings))


def split_uses(uses: str) -> tuple[str, str | None]:
    """`owner/repo[/path]@ref` as (owner/repo[/path] in lower case, ref); local and docker
    actions (`./action`, `docker://image`) have no ref."""
    if uses.startswith(("./", "docker://")):
        return uses, None
    action, _, ref = uses.partition("@")
    return action.strip().lower(), (ref.strip() or None)


def _switch(text: str, *, inverted: bool = False) -> bool | None:
    if "${{" in text:
        return None
    return (text.strip().lower() == "true") != inverted


def _nonzero(text: str) -> bool | None:
    if "${{" in text:
        return None
    return text.strip().strip("'\"") not in ("", "0")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


# Linking runs to versions ---------------------------------------------------------------------


def workflow_file(path: str) -> str | None:
    """The file a run's `path` names, or None for GitHub's dynamic workflows (CodeQL default
    setup, Dependabot), which have no file in the repository."""
    path = path.partition("@")[0]
    return path if path.startswith(WORKFLOWS_FOLDER) else None


def version_for(run: WorkflowRun, versions: Iterable[WorkflowVersion]) -> WorkflowVersion | None:
    """The version of its workflow file that a run ran.

    The commit the run was triggered on, when it changed the file; otherwise the latest
    version committed before the run was created. Without a version (the file exists only
    on a branch the default branch never saw), None.
    """
    path = workflow_file(run.workflow_path)
    mine = [v for v in versions if v.repository == run.repository and v.path == path]
    for version in mine:
        if version.commit_sha == run.head_sha:
            return version
    earlier = [version for version in mine if version.committed_at <= run.created_at]
    return max(earlier, key=lambda version: version.committed_at, default=None)


# Collecting -----------------------------------------------------------------------------------


def commits_from(document: Any) -> list[WorkflowCommit]:
    """Read a commits listing (`[{"sha", "commit": {"committer": {"date"}}}]`)."""
    if not isinstance(document, list):
        raise CollectionError("not a commit listing (expected a JSON array)")
    commits = []
    for entry in document:
        committed = actions.parse_time(
            ((entry.get("commit") or {}).get("committer") or {}).get("date")
        )
        if committed is None:
            raise CollectionError(f"commit {entry.get('sha')!r} has no committer date")
        commits.append(WorkflowCommit(str(entry["sha"]), committed))
    return commits


def file_content(document: Any, source: str) -> bytes:
    """The bytes of a contents answer, checked against the git blob SHA GitHub gives."""
    if not isinstance(document, dict) or document.get("type") != "file":
        raise CollectionError(f"{source}: not a file")
    if document.get("encoding") != "base64":
        raise CollectionError(
            f"{source}: content not given inline (encoding {document.get('encoding')!r})"
        )
    content = base64.b64decode(str(document.get("content") or ""))
    if document.get("sha") and git_blob_sha(content) != document["sha"]:
        raise CollectionError(f"{source}: content does not hash to git blob {document['sha']}")
    return content


def git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class WorkflowFiles:
    """The collection step that keeps a repository's workflow files for a period."""

    def __init__(self, collector: GitHubCollector) -> None:
        self.collector = collector
        self.api = collector.api
        self.locker = collector.locker

    def collect(self, repository: Repository, period: Period, run_paths: Iterable[str]) -> None:
        paths = sorted({path for run in run_paths if (path := workflow_file(run))})
        for path in paths:
            self.collect_path(repository, period, path)

    def collect_path(self, repository: Repository, period: Period, path: str) -> None:
        key = f"github:workflow:{repository}:{path}:{period.start.isoformat()}"
        if self.locker.checkpoint(key) == _DONE:
            return
        start = self.api.url(
            f"/repos/{repository}/commits", path=path, until=_stamp(period.start), per_page=1
        )
        changes = self.api.url(
            f"/repos/{repository}/commits",
            path=path,
            since=_stamp(period.start),
            until=_stamp(period.end - _SECOND),
            per_page=PER_PAGE,
        )
        # The commit in effect at the start is the newest of the `until` listing: one page.
        at_start = self._commits(repository, start, first_page_only=True)
        in_period = self._commits(repository, changes, first_page_only=False)
        if at_start is None or in_period is None:
            return
        known = {v.commit_sha for v in self.locker.workflow_versions(repository) if v.path == path}
        complete = True
        for commit in {commit.sha: commit for commit in at_start + in_period}.values():
            if commit.sha not in known:
                complete &= self.fetch_version(repository, path, commit)
        # While the period is still open, later commits may change the file again.
        if complete and period.end <= self.collector.clock():
            self.collector.checkpoint(key, _DONE)

    def _commits(
        self, repository: Repository, url: str, *, first_page_only: bool
    ) -> list[WorkflowCommit] | None:
        """The commits a listing names, or None when it could not be read (a gap)."""
        commits: list[WorkflowCommit] = []
        try:
            for page in self.collector.pages(url, "workflow-files"):
                commits += commits_from(page.data)
                self.collector.keep_response(page, repository, None)
                if first_page_only:
                    break
        except GitHubError as error:
            self.collector.gap(GapKind.FETCH_FAILED, url, str(error), repository=repository)
            return None
        except CollectionError as error:
            self.collector.gap(GapKind.MALFORMED, url, f"{url}: {error}", repository=repository)
            return None
        return commits

    def fetch_version(self, repository: Repository, path: str, commit: WorkflowCommit) -> bool:
        """Store the file at `commit`; False when it could not be fetched (a gap, asked again)."""
        url = self.api.url(f"/repos/{repository}/contents/{quote(path)}", ref=commit.sha)
        try:
            answer = self.api.get(url, kind="workflow-files")
            content = file_content(answer.json(), url)
        except GitHubError as error:
            if error.status == 404:  # the commit deleted the file: no version to keep
                log.info("%s: %s removed at %s", repository, path, commit.sha)
                return True
            self.collector.gap(GapKind.FETCH_FAILED, url, str(error), repository=repository)
            return False
        except CollectionError as error:
            self.collector.gap(GapKind.MALFORMED, url, str(error), repository=repository)
            return False
        self._store(repository, path, commit, url, content)
        return True

    def _store(
        self, repository: Repository, path: str, commit: WorkflowCommit, url: str, content: bytes
    ) -> None:
        blob = self.locker.store_bytes(content)
        origin = self.collector.origin(url, repository=repository, note=f"{path} at {commit.sha}")
        item = evidence_item(blob, ItemKind.WORKFLOW_FILE, origin, commit.committed_at, None, False)
        with self.locker.transaction() as writer:
            item_id, _ = writer.add_item(item)
            writer.resolve_gaps(item.source)
            writer.add_workflow_version(
                WorkflowVersion(repository, path, commit.sha, commit.committed_at, item_id)
            )
        self.collector.summary.workflow_versions += 1
        self.collector.progress.advance("workflow files")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Planning -------------------------------------------------------------------------------------


def plan_workflow_files(
    api: GitHubApi, repository: Repository, scope: GitHubScope
) -> dict[str, int]:
    """Requests the workflow files need: two commit listings per workflow file and one per
    version (the one in effect at the start, at most, and each change in the period)."""
    paths = _workflow_paths(api, repository, scope.workflow)
    changes = 0
    for path in paths:
        url = api.url(
            f"/repos/{repository}/commits",
            path=path,
            since=_stamp(scope.period.start),
            until=_stamp(scope.period.end - _SECOND),
            per_page=1,
        )
        changes += listed_total(api.get(url, kind="plan"))
    return {
        "workflow-file listings": 2 * len(paths),
        "workflow-file versions (at most)": len(paths) + changes,
    }


def _workflow_paths(api: GitHubApi, repository: Repository, workflow: str | None) -> list[str]:
    url = api.url(f"/repos/{repository}/actions/workflows", per_page=PER_PAGE)
    paths = []
    for answer in api.pages(url, kind="plan"):
        for entry in answer.json().get("workflows") or []:
            path = workflow_file(str(entry.get("path") or ""))
            if path and workflow in (None, str(entry.get("id")), path.rsplit("/", 1)[-1]):
                paths.append(path)
    return paths


def listed_total(answer: Answer) -> int:
    """How many entries a listing holds, from a one-entry page: the last page's number."""
    match = _LAST_PAGE.search(answer.headers.get("link", ""))
    if match:
        return int(parse_qs(urlsplit(match[1]).query)["page"][0])
    return len(answer.json())
