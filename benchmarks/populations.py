"""Populations and samples at scale: 500 repositories, 20,000 runs, 2,000 SARIF items.

    /work/venv/bin/python benchmarks/populations.py [--repos 500] [--runs 20000] [--sarif 2000]

Builds a locker index directly (run listings as real blobs; job listings and SARIF as index
rows), then times each step of a pack's populations: reading them for every mapped control,
drawing the samples, and exporting each CI gate's population as CSV and XLSX, the files
`reports/attachments.py` embeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.population import (
    GatePopulation,
    control_populations,
    population_csv,
    population_xlsx,
)
from auditpack.controls.sampling import draw_samples
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import (
    EvidenceItem,
    GateExecution,
    GateId,
    ItemKind,
    Outcome,
    Repository,
    Sha256,
    WorkflowRun,
)

GATES = ("sast", "dependency-scan", "image-scan", "iac-scan", "secret-scanning")
START = datetime(2026, 7, 1, tzinfo=UTC)


def build(locker: Locker, repos: int, runs: int, sarif: int) -> int:
    """Returns how many executions were written."""
    per_repo = runs // repos
    executions = 0
    with locker.transaction() as writer:
        for r in range(repos):
            repository = Repository(f"bench/service-{r:03d}")
            listed = [_run(repository, r * per_repo + i) for i in range(per_repo)]
            listing = json.dumps(
                {"total_count": per_repo, "workflow_runs": [{"id": run.run_id} for run in listed]}
            ).encode()
            blob = locker.store_bytes(listing)
            item_id, _ = writer.add_item(_item(blob.sha256, ItemKind.WORKFLOW_RUNS, f"runs {r}"))
            writer.add_runs(item_id, listed)
            for run in listed:
                jobs_id, _ = writer.add_item(
                    _item(
                        _fake_sha(f"jobs {run.run_id}"),
                        ItemKind.WORKFLOW_JOBS,
                        f"jobs {run.run_id}",
                    )
                )
                executions += writer.add_executions(jobs_id, _executions(run))
        for n in range(sarif):
            run_id = 100_000 + n * (runs // sarif)
            gate = GATES[n % len(GATES)]
            item = _item(_fake_sha(f"sarif {n}"), ItemKind.SARIF, f"sarif {n}")
            sarif_id, _ = writer.add_item(
                EvidenceItem(**{**item.__dict__, "run_id": run_id, "gate": GateId(gate)})
            )
            writer.add_sarif_run(sarif_id, 0, "Tool", None, None, GateId(gate))
    return executions


def _run(repository: Repository, index: int) -> WorkflowRun:
    created = START + timedelta(minutes=6 * index % (91 * 24 * 60))
    return WorkflowRun(
        repository,
        100_000 + index,
        1,
        "Security",
        ".github/workflows/s.yml",
        "push",
        "main",
        "0" * 40,
        "completed",
        "success",
        created,
        created,
        f"https://github.com/{repository}/actions/runs/{100_000 + index}",
    )


def _executions(run: WorkflowRun) -> list[GateExecution]:
    return [
        GateExecution(
            run.repository,
            run.run_id,
            1,
            GateId(gate),
            run.run_id * 10 + g,
            gate,
            f"Run {gate}",
            Outcome.PASSED if run.run_id % 17 else Outcome.FAILED,
            run.created_at,
            run.created_at,
        )
        for g, gate in enumerate(GATES)
    ]


def _item(sha: str, kind: ItemKind, source: str) -> EvidenceItem:
    return EvidenceItem(Sha256(sha), kind, source, START, START, 100)


def _fake_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _export(kind: str, population: GatePopulation) -> bytes:
    return population_csv(population) if kind == "CSV" else population_xlsx(population, START)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--sarif", type=int, default=2_000)
    args = parser.parse_args()
    matrix, period = load_matrix(), parse_period("2026-Q3")
    with tempfile.TemporaryDirectory() as folder, Locker.open(Path(folder)) as locker:
        started = time.perf_counter()
        executions = build(locker, args.repos, args.runs, args.sarif)
        print(f"locker: {executions:,} executions in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        populations = control_populations(locker, matrix, period)
        rows = sum(p.count for p in populations.values())
        print(
            f"populations: {len(populations)} controls, {rows:,} rows, "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        samples = draw_samples(matrix, populations)
        print(
            f"samples: {sum(s.size for s in samples.values())} items, "
            f"{time.perf_counter() - started:.2f} s"
        )
        parts = {part.gate: part for p in populations.values() for part in p.parts}
        print(
            f"gate populations (one CSV and one XLSX each): {len(parts)}, "
            f"{sum(part.count for part in parts.values()):,} rows"
        )
        for name in ("CSV", "XLSX"):
            started = time.perf_counter()
            size = sum(len(_export(name, part)) for part in parts.values())
            print(f"{name}: {size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
