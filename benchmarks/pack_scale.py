"""How long a quarter of a large organisation takes to assess and render, and how many pages.

Generates 500 repositories with 40 workflow runs each (20,000 runs, one job listing per
run, as GitHub returns them) and 4 SARIF files each (2,000), collects them into a fresh
locker, then times `auditpack report`'s work: assessment, pack, PDF and JSON.

    python benchmarks/pack_scale.py [--repos 500] [--runs 40] [--sarif 4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditpack.commands.report import make_pack
from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local

SAMPLE = Path(__file__).parents[1] / "tests/data/sarif/trivy/trivy_image_single_vuln_v0.43.1.sarif"
START = datetime(2026, 7, 1, tzinfo=UTC)
JOBS = [
    ("dependency-scan", "Run Trivy dependency scan"),
    ("sast", "Run Semgrep SAST"),
    ("image-scan", "Run Trivy image scan"),
    ("secrets", "Run gitleaks"),
    ("deploy", "Deploy"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40, help="runs per repository")
    parser.add_argument("--sarif", type=int, default=4, help="SARIF files per repository")
    parser.add_argument("--keep", type=Path, help="keep the data and locker here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="auditpack-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args.repos, args.runs, args.sarif)
    finally:
        if args.keep is None:
            shutil.rmtree(work)


def run(work: Path, repos: int, runs: int, sarif: int) -> None:
    started = time.perf_counter()
    data = work / "data"
    for index in range(repos):
        _write_repository(data / f"repo-{index:03d}", index, runs, sarif)
    generated = time.perf_counter()
    matrix = load_matrix()
    with Locker.open(work / "locker") as locker:
        for index in range(repos):
            name = f"repo-{index:03d}"
            collect_local(locker, matrix, data / name, Repository(f"scale-org/{name}"))
        collected = time.perf_counter()
        pdf, _ = make_pack(
            locker,
            matrix,
            parse_period("2026-Q3"),
            work / "pack.pdf",
            "Scale Org",
            datetime(2026, 10, 1, tzinfo=UTC),
        )
        rendered = time.perf_counter()
    pages = _pages(pdf)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "| repositories | runs | SARIF files | generate s | collect s | report s | pages "
        "| PDF MB | peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {repos} | {repos * runs} | {repos * sarif} | {generated - started:.1f} | "
        f"{collected - generated:.1f} | {rendered - collected:.1f} | {pages} | "
        f"{pdf.stat().st_size / 1e6:.1f} | {peak:.0f} |"
    )


def _write_repository(folder: Path, index: int, runs: int, sarif: int) -> None:
    repo = f"scale-org/{folder.name}"
    listing = []
    step = timedelta(days=91) / runs
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for number in range(runs):
        run_id = 10_000_000 + index * 1000 + number
        created = START + step * number + timedelta(minutes=index % 600)
        listing.append(_run(repo, run_id, created))
        failed = (index + number) % 17 == 0
        jobs = [
            _job(
                repo,
                run_id,
                run_id * 10 + n,
                name,
                step_name,
                "failure" if failed and name == "dependency-scan" else "success",
                created,
            )
            for n, (name, step_name) in enumerate(JOBS)
            if not (name == "image-scan" and index % 9 == 0)
        ]
        _write(folder / "jobs" / f"{run_id}.json", {"total_count": len(jobs), "jobs": jobs})
        if number % max(1, runs // sarif) == 0 and number // max(1, runs // sarif) < sarif:
            sample["runs"][0]["invocations"] = [
                {"executionSuccessful": True, "endTimeUtc": _z(created + timedelta(minutes=3))}
            ]
            _write(folder / "runs" / str(run_id) / "trivy-image.sarif", sample)
    _write(folder / "workflow-runs.json", {"total_count": len(listing), "workflow_runs": listing})


def _run(repo: str, run_id: int, created: datetime) -> dict[str, object]:
    return {
        "id": run_id,
        "name": "Security",
        "path": ".github/workflows/security.yml",
        "head_branch": "main",
        "head_sha": f"{run_id:040d}",
        "run_attempt": 1,
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "workflow_id": 1,
        "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
        "created_at": _z(created),
        "updated_at": _z(created + timedelta(minutes=8)),
        "repository": {"full_name": repo},
    }


def _job(
    repo: str, run_id: int, job_id: int, name: str, step: str, conclusion: str, created: datetime
) -> dict[str, object]:
    return {
        "id": job_id,
        "run_id": run_id,
        "run_attempt": 1,
        "run_url": f"https://api.github.com/repos/{repo}/actions/runs/{run_id}",
        "status": "completed",
        "conclusion": conclusion,
        "name": name,
        "started_at": _z(created + timedelta(minutes=1)),
        "completed_at": _z(created + timedelta(minutes=2)),
        "steps": [
            {
                "name": step,
                "status": "completed",
                "conclusion": conclusion,
                "number": 1,
                "started_at": _z(created + timedelta(minutes=1)),
                "completed_at": _z(created + timedelta(minutes=2)),
            }
        ],
    }


def _write(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
