"""Samples per control: size from the matrix's frequency table, a recorded seed, the same draw.

On tests/data/local/acme, soc2 CC7.1 has a population of 4 (three dependency-scan, one iac)
and CC8.1 of 3 (dependency-scan); see test_population.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from auditpack.controls.matrix import ControlMatrix, default_matrix_text, load_matrix, parse_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.population import ControlPopulation, control_population
from auditpack.controls.sampling import default_seed, draw_sample, sample_size
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local

Q3 = parse_period("2026-Q3")


def with_frequencies(**frequencies: str) -> ControlMatrix:
    """The built-in matrix with some gates' frequencies changed (gate id with _ for -)."""
    text = default_matrix_text()
    for gate, frequency in frequencies.items():
        gate_id = gate.replace("_", "-")
        text, count = re.subn(
            rf"(  - id: {gate_id}\n(?:    .*\n)*?    frequency: )\S+",
            rf"\g<1>{frequency}",
            text,
        )
        assert count == 1, gate_id
    return parse_matrix(text, "test matrix")


@pytest.fixture
def locker(tmp_path: Path, data_dir: Path) -> Locker:
    matrix = load_matrix()
    locker = Locker.open(tmp_path / "locker")
    collect_local(locker, matrix, data_dir / "local/acme/shop", Repository("acme/shop"))
    collect_local(locker, matrix, data_dir / "local/acme/infra")
    return locker


def population(locker: Locker, matrix: ControlMatrix, control: str) -> ControlPopulation:
    return control_population(locker, matrix, Q3, matrix.control("soc2", control))


def test_default_seed_is_derived_from_period_and_control() -> None:
    expected = int(hashlib.sha256(b"2026-Q3|soc2:CC7.1").hexdigest()[:16], 16)
    assert default_seed("2026-Q3", "soc2:CC7.1") == expected
    assert default_seed("2026-Q4", "soc2:CC7.1") != expected


def test_size_follows_the_most_frequent_gate_capped_at_the_population(locker: Locker) -> None:
    # CC7.1's gates: image quarterly (2), iac annual (1), dependency monthly (3): monthly wins
    matrix = with_frequencies(image_scan="quarterly", iac_scan="annual", dependency_scan="monthly")
    assert sample_size(matrix, population(locker, matrix, "CC7.1")) == ("monthly", 3)
    # several times a day is 25, but the population holds only 4
    assert sample_size(load_matrix(), population(locker, load_matrix(), "CC7.1")) == (
        "several-times-a-day",
        4,
    )
    quarterly = with_frequencies(image_scan="quarterly", dependency_scan="quarterly")
    sample = draw_sample(quarterly, population(locker, quarterly, "CC8.1"), seed=1)
    # CC8.1 also maps sast, several times a day: 25, capped at 3
    assert (sample.frequency, sample.size, len(sample.items)) == ("several-times-a-day", 3, 3)


def test_same_seed_same_sample_and_seeds_differ(locker: Locker) -> None:
    matrix = with_frequencies(
        image_scan="quarterly", iac_scan="annual", dependency_scan="quarterly"
    )
    cc71 = population(locker, matrix, "CC7.1")
    assert sample_size(matrix, cc71) == ("quarterly", 2)

    def drawn(seed: int | None) -> list[tuple[str, int]]:
        sample = draw_sample(matrix, cc71, seed)
        return [(item.row.repository, item.row.run_id) for item in sample.items]

    assert drawn(42) == drawn(42)
    assert len({tuple(drawn(seed)) for seed in range(12)}) > 1  # 6 possible pairs
    default = draw_sample(matrix, cc71)
    assert default.seed == default_seed("2026-Q3", "soc2:CC7.1")
    assert drawn(None) == drawn(default.seed)
    # listed in population order, whatever the draw order
    keys = [item.row.key for item in default.items]
    assert keys == sorted(keys)


def test_each_item_lists_its_evidence_and_checks(locker: Locker) -> None:
    matrix = load_matrix()
    sample = draw_sample(matrix, population(locker, matrix, "CC8.1"), seed=3)
    by_run = {item.row.run_id: item for item in sample.items}
    run_103 = by_run[103]
    kinds = [what for what, _ in run_103.evidence]
    assert kinds == ["run", "job listing", "SARIF"]
    assert run_103.evidence[0][1] == "https://github.com/acme/shop/actions/runs/103"
    assert run_103.row.sarif_sha256[0] in run_103.evidence[2][1]
    assert run_103.checks[0].startswith("gate ran: job 'dependency-scan'")
    assert "threshold (high and above, with a fix available)" in run_103.checks[1]
    assert "no SARIF kept" in by_run[102].checks[1]


def test_control_without_ci_gate_has_an_empty_sample(locker: Locker) -> None:
    matrix = load_matrix()
    sample = draw_sample(matrix, population(locker, matrix, "CC7.2"))
    assert (sample.frequency, sample.size, sample.items) == (None, 0, ())


def test_drawn_over_the_union_of_the_gates_populations(locker: Locker) -> None:
    # CC7.1 in population order: infra 201 (iac-scan), then shop 101, 102, 103 (dependency).
    # random.Random(42).sample(range(4), 2) picks positions 3 and 0: from both gates' files.
    matrix = with_frequencies(
        image_scan="quarterly", iac_scan="annual", dependency_scan="quarterly"
    )
    cc71 = population(locker, matrix, "CC7.1")
    sample = draw_sample(matrix, cc71, seed=42)
    assert [(item.row.gate, item.row.run_id) for item in sample.items] == [
        ("iac-scan", 201),
        ("dependency-scan", 103),
    ]
    assert {f"population-{item.row.gate}" for item in sample.items} <= set(cc71.files)
