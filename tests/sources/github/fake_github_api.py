"""A local GitHub REST API for tests and benchmarks: the documented shapes, on a real socket.

Entries are built from the recorded GitHub answers in tests/data/github/ (a run, a job, an
artefact, an analysis), changed only where a test needs other values. The server filters
runs by `created` like GitHub (inclusive `A..B`), stops a filtered listing at 1,000 results
while `total_count` tells the truth, pages with absolute `Link` URLs, answers ETags with 304,
and redirects artefact downloads to a second "storage" server on another port. Workflow
files have a commit history: the commits listing filters by path and committer date
(`since`/`until`, inclusive), and the contents endpoint serves a file at a commit.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

RUNS_CAP = 1000
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0


@dataclass
class Fault:
    """Answer the next matching requests with these (status, headers, body) instead."""

    pattern: re.Pattern[str]
    answers: list[tuple[int, dict[str, str], str]]


@dataclass(frozen=True)
class FakeCommit:
    """A commit that changed one file: its new content, or None when it deleted the file."""

    sha: str
    committed_at: datetime
    content: bytes | None


@dataclass
class FakeRepo:
    full_name: str
    archived: bool = False
    runs: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    zips: dict[int, bytes] = field(default_factory=dict)
    analyses: list[dict[str, Any]] | None = None  # None: code scanning is not enabled (404)
    analysis_sarif: dict[int, bytes] = field(default_factory=dict)
    files: dict[str, list[FakeCommit]] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Server:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeGitHub:
    """State of a pretend GitHub, plus the log of every request it received."""

    def __init__(self, data_dir: Path, runs_cap: int = RUNS_CAP) -> None:
        self.runs_cap = runs_cap
        self._templates = _Templates(data_dir / "github")
        self.repos: dict[str, FakeRepo] = {}
        self.orgs: dict[str, list[str]] = {}
        self.faults: list[Fault] = []
        self.log: list[Recorded] = []
        self.storage_log: list[Recorded] = []
        self.remaining = 5000
        self._ids = 9_000_000_000
        self._lock = threading.Lock()
        self._api = _Server(self._wsgi)
        self._storage = _Server(self._storage_wsgi)

    # Lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._api.url

    def stop(self) -> None:
        self._api.stop()
        self._storage.stop()

    # Building state --------------------------------------------------------------------------

    def repo(self, full_name: str, *, org: str | None = None, archived: bool = False) -> FakeRepo:
        repo = FakeRepo(full_name, archived)
        self.repos[full_name] = repo
        if org:
            self.orgs.setdefault(org, []).append(full_name)
        return repo

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_run(
        self,
        repo: FakeRepo,
        created: datetime,
        *,
        conclusion: str = "success",
        branch: str = "main",
        attempt: int = 1,
        status: str = "completed",
        jobs: list[dict[str, Any]] | None = None,
        run_id: int | None = None,
    ) -> dict[str, Any]:
        run = self._templates.run(repo.full_name, run_id or self.next_id(), created)
        run.update(head_branch=branch, conclusion=conclusion, run_attempt=attempt, status=status)
        repo.runs.append(run)
        repo.jobs[run["id"]] = [
            self._templates.job(repo.full_name, run["id"], attempt, self.next_id(), spec)
            for spec in (jobs if jobs is not None else [])
        ]
        return run

    def add_artifact(
        self,
        repo: FakeRepo,
        run: dict[str, Any],
        name: str,
        content: bytes,
        *,
        expired: bool = False,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        artifact_id = self.next_id()
        when = created or _parse(run["created_at"])
        entry = self._templates.artifact(repo.full_name, artifact_id, name, run["id"], when)
        entry.update(expired=expired, size_in_bytes=len(content))
        entry["expires_at"] = _stamp(when + timedelta(days=90))
        entry["digest"] = "sha256:" + hashlib.sha256(content).hexdigest()
        repo.artifacts.append(entry)
        repo.zips[artifact_id] = content
        return entry

    def add_analysis(
        self, repo: FakeRepo, created: datetime, sarif: bytes, ref: str = "refs/heads/main"
    ) -> dict[str, Any]:
        analysis_id = self.next_id()
        entry = self._templates.analysis(repo.full_name, analysis_id, created, ref)
        if repo.analyses is None:
            repo.analyses = []
        repo.analyses.append(entry)
        repo.analysis_sarif[analysis_id] = sarif
        return entry

    def commit_file(
        self, repo: FakeRepo, path: str, committed: datetime, content: bytes | None
    ) -> str:
        """Change (or, with None, delete) a file in a new commit; returns the commit's SHA."""
        sha = hashlib.sha1(f"{repo.full_name} {path} {self.next_id()}".encode()).hexdigest()
        repo.files.setdefault(path, []).append(FakeCommit(sha, committed, content))
        return sha

    def fail(self, path_pattern: str, *answers: tuple[int, dict[str, str], str]) -> None:
        self.faults.append(Fault(re.compile(path_pattern), list(answers)))

    # Reading the log -------------------------------------------------------------------------

    def requests_to(self, pattern: str) -> list[Recorded]:
        regex = re.compile(pattern)
        return [entry for entry in self.log if regex.search(entry.path)]

    # The API ---------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        record = Recorded(
            request.method, request.path, dict(request.args), dict(request.headers.items())
        )
        with self._lock:
            self.log.append(record)
            response = self._fault(request) or self._route(request)
        record.status = response.status_code
        return response(environ, start_response)

    def _fault(self, request: Request) -> Response | None:
        for fault in self.faults:
            if fault.answers and fault.pattern.search(request.path):
                status, headers, body = fault.answers.pop(0)
                return Response(body, status, headers, content_type="application/json")
        return None

    def _route(self, request: Request) -> Response:
        path = request.path
        routes: list[tuple[str, Callable[..., Response]]] = [
            (r"^/orgs/([^/]+)/repos$", self._org_repos),
            (r"^/repos/([^/]+/[^/]+)/actions/runs$", self._runs),
            (r"^/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs$", self._workflow_runs),
            (r"^/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs$", self._jobs),
            (r"^/repos/([^/]+/[^/]+)/actions/artifacts$", self._artifacts),
            (r"^/repos/([^/]+/[^/]+)/actions/artifacts/(\d+)/zip$", self._zip),
            (r"^/repos/([^/]+/[^/]+)/code-scanning/analyses$", self._analyses),
            (r"^/repos/([^/]+/[^/]+)/code-scanning/analyses/(\d+)$", self._analysis),
            (r"^/repos/([^/]+/[^/]+)/actions/workflows$", self._workflows),
            (r"^/repos/([^/]+/[^/]+)/commits$", self._commits),
            (r"^/repos/([^/]+/[^/]+)/contents/(.+)$", self._contents),
        ]
        for pattern, handler in routes:
            match = re.match(pattern, path)
            if match:
                return handler(request, *match.groups())
        return self._json(request, {"message": "Not Found"}, 404)

    def _org_repos(self, request: Request, org: str) -> Response:
        names = self.orgs.get(org, [])
        entries = [{"full_name": name, "archived": self.repos[name].archived} for name in names]
        return self._page(request, entries, lambda chunk, total: chunk)

    def _runs(self, request: Request, name: str, workflow: str | None = None) -> Response:
        repo = self.repos.get(name)
        if repo is None:
            return self._json(request, {"message": "Not Found"}, 404)
        runs = [run for run in repo.runs if _run_matches(run, request.args, workflow)]
        runs.sort(key=lambda run: (run["created_at"], run["id"]), reverse=True)
        filtered = any(key in request.args for key in ("created", "branch", "status", "event"))
        return self._page(
            request,
            runs,
            lambda chunk, total: {"total_count": total, "workflow_runs": chunk},
            cap=self.runs_cap if filtered else None,
        )

    def _workflow_runs(self, request: Request, name: str, workflow: str) -> Response:
        return self._runs(request, name, workflow)

    def _jobs(self, request: Request, name: str, run_id: str) -> Response:
        jobs = self.repos[name].jobs.get(int(run_id))
        if jobs is None:
            return self._json(request, {"message": "Not Found"}, 404)
        return self._page(request, jobs, lambda chunk, total: {"total_count": total, "jobs": chunk})

    def _artifacts(self, request: Request, name: str) -> Response:
        entries = sorted(
            self.repos[name].artifacts, key=lambda entry: entry["created_at"], reverse=True
        )
        return self._page(
            request, entries, lambda chunk, total: {"total_count": total, "artifacts": chunk}
        )

    def _zip(self, request: Request, name: str, artifact_id: str) -> Response:
        repo = self.repos[name]
        entry = next(item for item in repo.artifacts if item["id"] == int(artifact_id))
        if entry["expired"]:
            return self._json(request, {"message": "Artifact has expired"}, 410)
        location = f"{self._storage.url}/blob/{name}/{artifact_id}?sig=signed-for-one-minute"
        return Response("", 302, {"Location": location})

    def _analyses(self, request: Request, name: str) -> Response:
        entries = self.repos[name].analyses
        if entries is None:
            message = "no analysis found"
            return self._json(request, {"message": message}, 404)
        ref = request.args.get("ref")
        chosen = [entry for entry in entries if ref is None or entry["ref"] == ref]
        chosen.sort(key=lambda entry: entry["created_at"], reverse=True)
        return self._page(request, chosen, lambda chunk, total: chunk)

    def _analysis(self, request: Request, name: str, analysis_id: str) -> Response:
        body = self.repos[name].analysis_sarif[int(analysis_id)]
        if request.headers.get("Accept") != "application/sarif+json":
            entry = next(e for e in self.repos[name].analyses or [] if e["id"] == int(analysis_id))
            return self._json(request, entry)
        return self._respond(request, body, "application/sarif+json")

    def _workflows(self, request: Request, name: str) -> Response:
        repo = self.repos[name]
        paths = sorted({str(run["path"]) for run in repo.runs} | set(repo.files))
        entries = [
            self._templates.workflow(name, number, path) for number, path in enumerate(paths)
        ]
        return self._page(
            request, entries, lambda chunk, total: {"total_count": total, "workflows": chunk}
        )

    def _commits(self, request: Request, name: str) -> Response:
        repo = self.repos[name]
        since, until = request.args.get("since"), request.args.get("until")
        commits = [
            commit
            for commit in repo.files.get(request.args.get("path", ""), [])
            if (since is None or commit.committed_at >= _parse(since))
            and (until is None or commit.committed_at <= _parse(until))
        ]
        commits.sort(key=lambda commit: commit.committed_at, reverse=True)
        entries = [_commit_entry(name, commit) for commit in commits]
        return self._page(request, entries, lambda chunk, total: chunk)

    def _contents(self, request: Request, name: str, path: str) -> Response:
        history = self.repos[name].files.get(path, [])
        commit = next((c for c in history if c.sha == request.args.get("ref")), None)
        if commit is None or commit.content is None:
            return self._json(request, {"message": "Not Found"}, 404)
        if request.headers.get("Accept") == "application/vnd.github.raw":
            return self._respond(request, commit.content, "application/vnd.github.raw")
        return self._json(request, _contents_entry(name, path, commit.sha, commit.content))

    # Pages, ETags and headers ----------------------------------------------------------------

    def _page(
        self,
        request: Request,
        entries: list[Any],
        wrap: Callable[[list[Any], int], Any],
        cap: int | None = None,
    ) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), 100)
        page = int(request.args.get("page", 1))
        reachable = entries[:cap] if cap is not None else entries
        chunk = reachable[(page - 1) * per_page : page * per_page]
        response = self._json(request, wrap(chunk, len(entries)))
        last = max(1, -(-len(reachable) // per_page))
        if page < last and response.status_code == 200:
            response.headers["Link"] = ", ".join(
                [
                    f'<{self._page_url(request, page + 1)}>; rel="next"',
                    f'<{self._page_url(request, last)}>; rel="last"',
                ]
            )
        return response

    def _page_url(self, request: Request, page: int) -> str:
        query = dict(request.args)
        query["page"] = str(page)
        return f"{self.url}{request.path}?{urlencode(query)}"

    def _json(self, request: Request, document: Any, status: int = 200) -> Response:
        body = json.dumps(document, indent=2).encode("utf-8")
        if status != 200:
            return Response(body, status, content_type="application/json; charset=utf-8")
        return self._respond(request, body, "application/json; charset=utf-8")

    def _respond(self, request: Request, body: bytes, content_type: str) -> Response:
        etag = 'W/"' + hashlib.sha256(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            # A 304 to a conditional request costs nothing against the rate limit.
            return Response(b"", 304, {"ETag": etag, **self._rate_headers(False)})
        headers = {"ETag": etag, **self._rate_headers(True)}
        return Response(body, 200, headers, content_type=content_type)

    def _rate_headers(self, spend: bool) -> dict[str, str]:
        if spend:
            self.remaining -= 1
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": "1790000000",
            "X-RateLimit-Resource": "core",
        }

    # The storage host ------------------------------------------------------------------------

    def _storage_wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        record = Recorded(
            request.method, request.path, dict(request.args), dict(request.headers.items())
        )
        self.storage_log.append(record)
        match = re.match(r"^/blob/([^/]+/[^/]+)/(\d+)$", request.path)
        if not match or request.args.get("sig") != "signed-for-one-minute":
            response = Response(b"<Error>AuthenticationFailed</Error>", 403)
        else:
            content = self.repos[match[1]].zips[int(match[2])]
            response = Response(content, 200, content_type="application/zip")
        record.status = response.status_code
        return response(environ, start_response)


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _commit_entry(repo: str, commit: FakeCommit) -> dict[str, Any]:
    """A commits-listing entry in the documented shape (GET /repos/{owner}/{repo}/commits)."""
    api = f"https://api.github.com/repos/{repo}"
    person = {"name": "Example Author", "email": "author@example.com"}
    return {
        "sha": commit.sha,
        "node_id": "C_" + commit.sha[:20],
        "commit": {
            "author": {**person, "date": _stamp(commit.committed_at)},
            "committer": {**person, "date": _stamp(commit.committed_at)},
            "message": "Update workflow",
            "tree": {"sha": commit.sha[::-1], "url": f"{api}/git/trees/{commit.sha[::-1]}"},
            "url": f"{api}/git/commits/{commit.sha}",
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned"},
        },
        "url": f"{api}/commits/{commit.sha}",
        "html_url": f"https://github.com/{repo}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "author": None,
        "committer": None,
        "parents": [],
    }


def _contents_entry(repo: str, path: str, ref: str, content: bytes) -> dict[str, Any]:
    """A file in the documented shape (GET /repos/{owner}/{repo}/contents/{path}): base64 in
    lines of 60 characters, as GitHub sends it."""
    encoded = base64.b64encode(content).decode("ascii")
    lines = "\n".join(encoded[index : index + 60] for index in range(0, len(encoded), 60))
    blob = _git_blob_sha(content)
    api = f"https://api.github.com/repos/{repo}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(content),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": lines + "\n",
        "sha": blob,
        "url": f"{api}/contents/{path}?ref={ref}",
        "git_url": f"{api}/git/blobs/{blob}",
        "html_url": f"https://github.com/{repo}/blob/{ref}/{path}",
        "download_url": f"https://raw.githubusercontent.com/{repo}/{ref}/{path}",
        "_links": {
            "self": f"{api}/contents/{path}?ref={ref}",
            "git": f"{api}/git/blobs/{blob}",
            "html": f"https://github.com/{repo}/blob/{ref}/{path}",
        },
    }


def _run_matches(run: dict[str, Any], args: Any, workflow: str | None) -> bool:
    created = args.get("created")
    if created:
        low, high = created.split("..")
        if not _parse(low) <= _parse(run["created_at"]) <= _parse(high):
            return False
    if args.get("branch") and run["head_branch"] != args["branch"]:
        return False
    return workflow is None or str(run["path"]).endswith(f"/{workflow}")


class _Templates:
    """Recorded GitHub answers, one entry each, copied and changed per use."""

    def __init__(self, folder: Path) -> None:
        def first(name: str, key: str | None) -> dict[str, Any]:
            document = json.loads((folder / name).read_text(encoding="utf-8"))
            entry: dict[str, Any] = document[key][0] if key else document[0]
            return entry

        self._run = first("actions_runs_list_paginated.json", "workflow_runs")
        self._job = first("actions_run_jobs_list.json", "jobs")
        self._artifact = first("actions_repo_artifacts_list.json", "artifacts")
        self._analysis = first("code_scanning_analyses_list.json", None)
        self._workflow = first("actions_workflows_list.json", "workflows")

    def run(self, repo: str, run_id: int, created: datetime) -> dict[str, Any]:
        run = copy.deepcopy(self._run)
        api = f"https://api.github.com/repos/{repo}/actions/runs/{run_id}"
        run.update(
            id=run_id,
            name="security",
            path=".github/workflows/security.yml",
            created_at=_stamp(created),
            updated_at=_stamp(created),
            run_started_at=_stamp(created),
            url=api,
            html_url=f"https://github.com/{repo}/actions/runs/{run_id}",
            jobs_url=f"{api}/jobs",
        )
        run["repository"] = dict(run["repository"], full_name=repo)
        return run

    def job(
        self, repo: str, run_id: int, attempt: int, job_id: int, spec: dict[str, Any]
    ) -> dict[str, Any]:
        job = copy.deepcopy(self._job)
        step_template = job["steps"][0]
        job.update(
            id=job_id,
            run_id=run_id,
            run_attempt=attempt,
            name=spec["name"],
            conclusion=spec.get("conclusion", "success"),
            started_at=spec.get("started_at", job["started_at"]),
            completed_at=spec.get("completed_at", job["completed_at"]),
            run_url=f"https://api.github.com/repos/{repo}/actions/runs/{run_id}",
        )
        times = {"started_at": job["started_at"], "completed_at": job["completed_at"]}
        job["steps"] = [
            dict(step_template, name=name, conclusion=conclusion, number=number, **times)
            for number, (name, conclusion) in enumerate(spec.get("steps", []), start=1)
        ]
        return job

    def artifact(
        self, repo: str, artifact_id: int, name: str, run_id: int, created: datetime
    ) -> dict[str, Any]:
        entry = copy.deepcopy(self._artifact)
        api = f"https://api.github.com/repos/{repo}/actions/artifacts/{artifact_id}"
        entry.update(
            id=artifact_id,
            name=name,
            url=api,
            archive_download_url=f"{api}/zip",
            created_at=_stamp(created),
            updated_at=_stamp(created),
        )
        entry["workflow_run"] = dict(entry["workflow_run"], id=run_id)
        return entry

    def analysis(self, repo: str, analysis_id: int, created: datetime, ref: str) -> dict[str, Any]:
        entry = copy.deepcopy(self._analysis)
        entry.update(
            id=analysis_id,
            ref=ref,
            created_at=_stamp(created),
            url=f"https://api.github.com/repos/{repo}/code-scanning/analyses/{analysis_id}",
        )
        return entry

    def workflow(self, repo: str, number: int, path: str) -> dict[str, Any]:
        entry = copy.deepcopy(self._workflow)
        workflow_id = 6_817_859 + number
        entry.update(
            id=workflow_id,
            name=path.rsplit("/", 1)[-1],
            path=path,
            url=f"https://api.github.com/repos/{repo}/actions/workflows/{workflow_id}",
            html_url=f"https://github.com/{repo}/blob/main/{path}",
        )
        return entry
