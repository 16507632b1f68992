"""GitHub Actions REST shapes (workflow runs, jobs, steps) read into runs and gate executions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.model import GateExecution, GateId, Outcome, Repository, WorkflowRun

_REPO_IN_URL = re.compile(r"/repos/([^/]+/[^/]+)/actions/")

# GitHub's conclusions, folded to what an auditor asks: did the gate pass, fail, or not run.
_OUTCOMES = {
    "success": Outcome.PASSED,
    "failure": Outcome.FAILED,
    "timed_out": Outcome.FAILED,
    "startup_failure": Outcome.FAILED,
    "action_required": Outcome.FAILED,
    "skipped": Outcome.SKIPPED,
    "neutral": Outcome.SKIPPED,
    "cancelled": Outcome.CANCELLED,
    "stale": Outcome.CANCELLED,
}


def parse_time(text: str | None) -> datetime | None:
    """GitHub times: jobs in UTC with `Z`, steps sometimes with an offset. Always returns UTC."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def outcome(conclusion: str | None) -> Outcome:
    return _OUTCOMES.get(conclusion or "", Outcome.UNKNOWN)


def runs_from_listing(document: Any) -> list[WorkflowRun]:
    """Read `{"workflow_runs": [...]}` (a listing) or one run object."""
    if isinstance(document, dict) and "workflow_runs" in document:
        entries = document["workflow_runs"]
    elif _looks_like_run(document):
        entries = [document]
    else:
        raise CollectionError("not a workflow run listing (no 'workflow_runs' key)")
    if not isinstance(entries, list):
        raise CollectionError("'workflow_runs' is not a list")
    return [run_from_json(entry) for entry in entries]


def _looks_like_run(document: Any) -> bool:
    return isinstance(document, dict) and "head_sha" in document and "workflow_id" in document


def run_from_json(entry: dict[str, Any]) -> WorkflowRun:
    try:
        created = parse_time(entry["created_at"])
        assert created is not None
        return WorkflowRun(
            repository=Repository(_repository_of(entry)),
            run_id=int(entry["id"]),
            attempt=int(entry.get("run_attempt") or 1),
            workflow_name=str(entry.get("name") or ""),
            workflow_path=str(entry.get("path") or ""),
            event=str(entry.get("event") or ""),
            branch=str(entry.get("head_branch") or ""),
            head_sha=str(entry.get("head_sha") or ""),
            status=str(entry.get("status") or ""),
            conclusion=entry.get("conclusion"),
            created_at=created,
            updated_at=parse_time(entry.get("updated_at")),
            url=str(entry.get("html_url") or entry.get("url") or ""),
        )
    except (KeyError, TypeError, ValueError, AssertionError) as error:
        raise CollectionError(
            f"workflow run {entry.get('id')!r} is incomplete ({error!r})"
        ) from None


def _repository_of(entry: dict[str, Any]) -> str:
    repository = entry.get("repository")
    if isinstance(repository, dict) and repository.get("full_name"):
        return str(repository["full_name"])
    for key in ("url", "run_url", "html_url"):
        match = _REPO_IN_URL.search(str(entry.get(key) or ""))
        if match:
            return match[1]
    raise CollectionError(f"cannot tell the repository of run or job {entry.get('id')!r}")


def executions_from_jobs(
    document: Any, matrix: ControlMatrix, repository: Repository | None = None
) -> list[GateExecution]:
    """Read `{"jobs": [...]}`: each job or step that the matrix names as a gate."""
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise CollectionError("not a job listing (no 'jobs' list)")
    return [
        execution
        for job in document["jobs"]
        for execution in _job_executions(job, matrix, repository)
    ]


def _job_executions(
    job: dict[str, Any], matrix: ControlMatrix, repository: Repository | None
) -> Iterator[GateExecution]:
    repo = Repository(repository or _repository_of(job))
    job_name = str(job.get("name") or "")
    seen: set[GateId] = set()
    for step in job.get("steps") or []:
        step_name = str(step.get("name") or "")
        gate = matrix.classify_step(job_name, step_name)
        if gate is None:
            continue
        seen.add(gate)
        yield _execution(job, repo, gate, step_name, step)
    # A job is judged by its name only when none of its steps is a recognised gate: a job
    # called "image-scan" whose Trivy step was already classified is not a second gate.
    job_gate = matrix.classify_job(job_name)
    if job_gate is not None and not seen:
        yield _execution(job, repo, job_gate, None, job)


def _execution(
    job: dict[str, Any],
    repository: Repository,
    gate: GateId,
    step_name: str | None,
    source: dict[str, Any],
) -> GateExecution:
    return GateExecution(
        repository=repository,
        run_id=int(job["run_id"]),
        attempt=int(job.get("run_attempt") or 1),
        gate=gate,
        job_id=int(job["id"]),
        job_name=str(job.get("name") or ""),
        step_name=step_name,
        outcome=outcome(source.get("conclusion")),
        started_at=parse_time(source.get("started_at")),
        completed_at=parse_time(source.get("completed_at")),
    )


def listing_time(document: Any) -> datetime | None:
    """When a listing's content was produced: its newest run creation or job completion."""
    times: list[datetime] = []
    if isinstance(document, dict):
        for entry in document.get("workflow_runs") or []:
            moment = parse_time(entry.get("updated_at") or entry.get("created_at"))
            times.extend([moment] if moment else [])
        for entry in document.get("jobs") or []:
            moment = parse_time(entry.get("completed_at") or entry.get("started_at"))
            times.extend([moment] if moment else [])
    return max(times) if times else None
