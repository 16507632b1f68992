"""Generate the evidence bundled for `auditpack demo`: a quarter of a fictional organisation.

Kestrel Payments (fictional) runs the article's gates on three repositories in 2026-Q3.
The workflow-run and job listings are generated in the GitHub REST API's shapes; the SARIF
files are real tool outputs from ../shared/samples (see SOURCES.md there), each with an
invocation end time added so that it falls inside the quarter, gzipped. Falco events are
written in Falco's json_output shape, one JSON line per event.

The story the pack should tell, so that every status appears:
  - dependency scanning blocks deploys on payments-api (failed runs, deploy skipped);
  - merchant-web builds an image but never scans it (image scanning gap);
  - platform-infra ran Checkov with soft_fail for two weeks: findings above the threshold
    while the gate passed (IaC gate not effective);
  - Gitleaks caught a secret once on merchant-web, and the run failed;
  - Falco was down for three days in August (runtime gap);
  - one SARIF upload is malformed (an evidence gap).

Run from the repository root: python scripts/make_demo_data.py [--samples ../shared/samples/sarif]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

OWNER = "kestrel-payments"
QUARTER_START = date(2026, 7, 1)
QUARTER_END = date(2026, 9, 30)
OUT = Path("auditpack/demo/data")

# repository -> (jobs with their gate step names, SARIF per month: (file, sample))
REPOSITORIES: dict[str, dict[str, Any]] = {
    "payments-api": {
        "jobs": [
            ("sast", "Run Semgrep SAST"),
            ("dependency-scan", "Run Trivy dependency scan"),
            ("build", "Build image"),
            ("image-scan", "Run Trivy image scan"),
            ("secrets", "Run gitleaks"),
            ("deploy", "Deploy to production"),
        ],
        "sarif": [
            ("semgrep.sarif.gz", "semgrep/semgrep_0.95.0_ci_output.sarif"),
            ("dependency-scan.sarif.gz", "grype/grype_directory_scan.sarif"),
            ("trivy-image.sarif.gz", "trivy/trivy_image_ci_output_v0.37.1.sarif"),
            ("gitleaks.sarif.gz", "DEMO/gitleaks_v8_clean_run.sarif"),
        ],
    },
    "merchant-web": {
        "jobs": [
            ("sast", "Run CodeQL analysis"),
            ("dependency-scan", "Run Trivy dependency scan"),
            ("build", "Build image"),
            ("secrets", "Run gitleaks"),
            ("deploy", "Deploy to production"),
        ],
        "sarif": [
            ("codeql.sarif.gz", "codeql/codeql_2.12.2_javascript_rules_in_extensions.sarif"),
            ("dependency-scan.sarif.gz", "grype/grype_directory_scan.sarif"),
            ("gitleaks.sarif.gz", "DEMO/gitleaks_v8_clean_run.sarif"),
        ],
    },
    "platform-infra": {
        "jobs": [
            ("iac-scan", "Run Checkov IaC scan"),
            ("secrets", "Run gitleaks"),
            ("sast", "Run Bandit"),
            ("deploy", "Terraform apply"),
        ],
        "sarif": [
            ("checkov.sarif.gz", "DEMO/checkov_3.3.30_k8s_ledger_worker.sarif"),
            ("trivy-config.sarif.gz", "trivy/trivy_config_terraform_misconfig.sarif"),
            ("bandit.sarif.gz", "bandit/bandit_1.8.6_output.sarif"),
            ("gitleaks.sarif.gz", "DEMO/gitleaks_v8_clean_run.sarif"),
        ],
    },
}
GATE_JOBS = {"sast", "dependency-scan", "image-scan", "iac-scan", "secrets"}
JOB_OF_GATE = {
    "sast": "sast",
    "dependency-scan": "dependency-scan",
    "image-scan": "image-scan",
    "iac-scan": "iac-scan",
    "secret-scanning": "secrets",
}
LAST_SCAN = date(2026, 9, 28)
# What was fixed by the end of the quarter: the last scan of these comes out clean.
FIXED_BY_QUARTER_END = {
    ("payments-api", "semgrep.sarif.gz"): "semgrep/semgrep_oss_1.66.2_empty.sarif",
    ("payments-api", "trivy-image.sarif.gz"): "trivy/trivy_image_ci_output_empty_v0.38.1.sarif",
    ("platform-infra", "checkov.sarif.gz"): "DEMO/checkov_3.3.30_k8s_ledger_worker_fixed.sarif",
}
DEMO_INPUTS = Path("scripts/demo_inputs")
SOFT_FAIL_WEEKS = {date(2026, 8, 3), date(2026, 8, 10)}  # Checkov passed whatever it found
FALCO_DOWN = {date(2026, 8, 14), date(2026, 8, 15), date(2026, 8, 16)}
NODES = ["ip-10-20-1-17.eu-west-1.compute.internal", "ip-10-20-2-41.eu-west-1.compute.internal"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("../shared/samples/sarif"))
    args = parser.parse_args()
    random.seed(20260701)
    if OUT.exists():
        shutil.rmtree(OUT)
    run_id = 9_100_000_000
    for index, (name, spec) in enumerate(REPOSITORIES.items()):
        run_id = write_repository(args.samples, name, spec, run_id + index * 100_000)
    write_falco()
    write_malformed(args.samples)
    (OUT / "README.md").write_text(_readme(), encoding="utf-8")


def write_repository(samples: Path, name: str, spec: dict[str, Any], run_id: int) -> int:
    folder = OUT / OWNER / name
    runs: list[dict[str, Any]] = []
    sarif_days = _sarif_days()
    job_id = run_id * 10
    for day in _weekdays():
        if name == "platform-infra" and day.weekday() in (1, 3):
            continue  # infrastructure changes twice a week less
        created = datetime(
            day.year,
            day.month,
            day.day,
            9,
            random.randint(0, 59),
            random.randint(0, 59),
            tzinfo=UTC,
        )
        blocking: set[str] = set()
        if day in sarif_days:
            for file_name, sample in spec["sarif"]:
                sample_name = _sample_for(name, file_name, sample, day)
                target = folder / "runs" / str(run_id) / file_name
                _write_sarif(_sample_path(samples, sample_name), target, created)
                blocking.update(_breached_jobs(target, file_name, day))
        jobs, conclusion = _jobs(name, spec["jobs"], day, run_id, job_id, created, blocking)
        job_id += len(jobs)
        runs.append(_run(name, run_id, created, conclusion))
        _write_json(folder / "jobs" / f"{run_id}.json", {"total_count": len(jobs), "jobs": jobs})
        run_id += 1
    _write_json(folder / "workflow-runs.json", {"total_count": len(runs), "workflow_runs": runs})
    return run_id


def _sample_for(repo: str, file_name: str, sample: str, day: date) -> str:
    if repo == "merchant-web" and file_name.startswith("gitleaks") and day == date(2026, 8, 10):
        return "gitleaks/gitleaks_report_simple.sarif"  # the secret Gitleaks caught
    if day == LAST_SCAN:
        return FIXED_BY_QUARTER_END.get((repo, file_name), sample)
    return sample


def _sample_path(samples: Path, name: str) -> Path:
    if name.startswith("DEMO/"):
        return DEMO_INPUTS / name.removeprefix("DEMO/")
    return samples / name


def _breached_jobs(sarif: Path, file_name: str, day: date) -> set[str]:
    """The gate jobs this scan fails, judged by auditpack's own matrix and parser."""
    from auditpack.controls.matrix import load_matrix
    from auditpack.evidence.sarif import iter_findings, read_sarif

    matrix = load_matrix()
    document = read_sarif(sarif)
    failing: set[str] = set()
    for run_index, finding in iter_findings(document):
        run = document.runs[run_index]
        gate_id = matrix.classify_sarif(run.tool, run.category, file_name, run.property_keys)
        if gate_id is None or not matrix.gate(gate_id).threshold.breached_by(finding):
            continue
        if gate_id == "iac-scan" and _monday(day) in SOFT_FAIL_WEEKS:
            continue  # soft_fail was on: Checkov reported, the job passed
        failing.add(JOB_OF_GATE[gate_id])
    return failing


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekdays() -> list[date]:
    days = []
    day = QUARTER_START
    while day <= QUARTER_END:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _sarif_days() -> list[date]:
    """A scan kept as evidence on the first Monday run of each month, and on the soft-fail week."""
    return [date(2026, 7, 6), date(2026, 8, 10), date(2026, 9, 7), date(2026, 9, 28)]


def _jobs(
    repo: str,
    jobs: list[tuple[str, str]],
    day: date,
    run_id: int,
    first_job: int,
    created: datetime,
    blocking: set[str],
) -> tuple[list[dict[str, Any]], str]:
    result = []
    failed = False
    moment = created + timedelta(seconds=20)
    for offset, (job_name, step_name) in enumerate(jobs):
        conclusion = "success"
        if job_name == "deploy" and failed:
            conclusion = "skipped"
        elif job_name in blocking:
            conclusion = "failure"  # the scan kept as evidence crossed the threshold
        elif job_name == "dependency-scan" and repo == "payments-api" and day.day in (9, 10, 22):
            conclusion = "failure"  # HIGH CVE with a fix: the deploy is blocked
        failed = failed or (conclusion == "failure" and job_name in GATE_JOBS)
        started = moment
        moment = moment + timedelta(seconds=random.randint(30, 240))
        result.append(
            _job(repo, run_id, first_job + offset, job_name, step_name, conclusion, started, moment)
        )
    return result, "failure" if failed else "success"


def _job(
    repo: str,
    run_id: int,
    job_id: int,
    name: str,
    step: str,
    conclusion: str,
    started: datetime,
    completed: datetime,
) -> dict[str, Any]:
    api = f"https://api.github.com/repos/{OWNER}/{repo}"
    # Step times carry an offset, as GitHub returns them; job times are UTC.
    local = timedelta(hours=2)
    steps = [
        ("Set up job", "success" if conclusion != "skipped" else "skipped"),
        ("Run actions/checkout@v4", "success" if conclusion != "skipped" else "skipped"),
        (step, conclusion),
        ("Complete job", "success" if conclusion != "skipped" else "skipped"),
    ]
    return {
        "id": job_id,
        "run_id": run_id,
        "run_url": f"{api}/actions/runs/{run_id}",
        "run_attempt": 1,
        "head_sha": f"{run_id:040x}"[-40:],
        "url": f"{api}/actions/jobs/{job_id}",
        "html_url": f"https://github.com/{OWNER}/{repo}/actions/runs/{run_id}/job/{job_id}",
        "status": "completed",
        "conclusion": conclusion,
        "started_at": _z(started),
        "completed_at": _z(completed),
        "name": name,
        "steps": [
            {
                "name": step_name,
                "status": "completed",
                "conclusion": step_conclusion,
                "number": number,
                "started_at": (started + local)
                .replace(tzinfo=UTC)
                .strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
                "completed_at": (completed + local)
                .replace(tzinfo=UTC)
                .strftime("%Y-%m-%dT%H:%M:%S.000+02:00"),
            }
            for number, (step_name, step_conclusion) in enumerate(steps, start=1)
        ],
        "labels": ["ubuntu-latest"],
        "runner_name": "GitHub Actions 2",
    }


def _run(repo: str, run_id: int, created: datetime, conclusion: str) -> dict[str, Any]:
    api = f"https://api.github.com/repos/{OWNER}/{repo}"
    return {
        "id": run_id,
        "name": "Security",
        "path": ".github/workflows/security.yml",
        "head_branch": "main",
        "head_sha": f"{run_id:040x}"[-40:],
        "run_number": run_id % 100_000,
        "run_attempt": 1,
        "event": "push",
        "status": "completed",
        "conclusion": conclusion,
        "workflow_id": 61_000_001,
        "url": f"{api}/actions/runs/{run_id}",
        "html_url": f"https://github.com/{OWNER}/{repo}/actions/runs/{run_id}",
        "created_at": _z(created),
        "updated_at": _z(created + timedelta(minutes=9)),
        "repository": {"full_name": f"{OWNER}/{repo}", "name": repo},
    }


def _write_sarif(sample: Path, target: Path, run_time: datetime) -> None:
    document = json.loads(sample.read_bytes().decode("utf-8-sig"))
    ended = run_time + timedelta(minutes=3)
    for run in document.get("runs", []):
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": _z(ended)}]
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, indent=1).encode()
    with gzip.GzipFile(target, "wb", mtime=0) as out:
        out.write(data)


def write_falco() -> None:
    day = QUARTER_START
    month_lines: dict[str, list[str]] = {}
    while day <= QUARTER_END:
        if day not in FALCO_DOWN:
            for event in _falco_day(day):
                month_lines.setdefault(day.strftime("%Y-%m"), []).append(json.dumps(event))
        day += timedelta(days=1)
    for month, lines in month_lines.items():
        path = OUT / OWNER / "falco" / f"falco-events-{month}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _falco_day(day: date) -> list[dict[str, Any]]:
    events = []
    for hour in (0, 6, 12, 18):  # metrics snapshots: the detector's heartbeat
        for node in NODES:
            events.append(
                _falco_event(
                    day,
                    hour,
                    "Informational",
                    "Falco internal: metrics snapshot",
                    "Falco metrics snapshot",
                    node,
                    "internal",
                )
            )
    if day.weekday() == 2:
        events.append(
            _falco_event(
                day,
                14,
                "Notice",
                "Terminal shell in container",
                "A shell was spawned in a container with an attached terminal "
                "(user=root k8s.ns=payments k8s.pod=payments-api-7d9f container=5892b41bcf46 "
                "shell=sh parent=runc cmdline=sh terminal=34817)",
                NODES[0],
                "syscall",
            )
        )
    if day == date(2026, 7, 21):
        events.append(
            _falco_event(
                day,
                3,
                "Warning",
                "Write below etc",
                "File below /etc opened for writing (user=root command=sh -c echo "
                "nameserver 1.1.1.1 > /etc/resolv.conf file=/etc/resolv.conf "
                "container=a81f3c2d9e10 image=merchant-web)",
                NODES[1],
                "syscall",
            )
        )
    if day == date(2026, 9, 2):
        events.append(
            _falco_event(
                day,
                22,
                "Critical",
                "Launch Privileged Container",
                "Privileged container started (user=system:serviceaccount:ci:deployer "
                "command=container:debug-shell k8s.ns=payments image=busybox:latest)",
                NODES[0],
                "k8s_audit",
            )
        )
        events.append(
            _falco_event(
                day,
                22,
                "Error",
                "Read sensitive file untrusted",
                "Sensitive file opened for reading by non-trusted program (user=root "
                "command=mysql -h db.internal -u admin --password=Hunter2Kestrel! "
                "file=/etc/shadow container=debug-shell)",
                NODES[0],
                "syscall",
            )
        )
    return events


def _falco_event(
    day: date, hour: int, priority: str, rule: str, output: str, host: str, source: str
) -> dict[str, Any]:
    moment = datetime(
        day.year, day.month, day.day, hour, random.randint(0, 59), random.randint(0, 59), tzinfo=UTC
    )
    nanos = random.randint(0, 999_999_999)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
    return {
        "uuid": f"{random.getrandbits(128):032x}",
        "output": f"{moment.strftime('%H:%M:%S')}.{nanos:09d}: {priority} {output}",
        "priority": priority,
        "rule": rule,
        "time": stamp,
        "output_fields": {
            "evt.time": int(moment.timestamp()) * 1_000_000_000 + nanos,
            "hostname": host,
        },
        "source": source,
        "tags": ["container", "mitre_execution"] if source != "internal" else [],
        "hostname": host,
    }


def write_malformed(samples: Path) -> None:
    target = OUT / OWNER / "merchant-web" / "uploads" / "codeql-upload-2026-08-24.sarif"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(samples / "edge/codeql-action_invalid_results_is_number.sarif", target)


def _readme() -> str:
    return (
        "# Demo evidence (generated)\n\n"
        "Written by scripts/make_demo_data.py for `auditpack demo`. Kestrel Payments is "
        "fictional. The SARIF files are real tool outputs from the samples listed in "
        "tests/data/SOURCES.md, each given an invocation end time inside 2026-Q3; the "
        "workflow runs, jobs and Falco events are generated in GitHub's and Falco's shapes.\n"
    )


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
