"""Drawing a control's sample from its population, reproducibly, with the checks for each item.

The size comes from how often the control operates (the matrix's sample size table); the
draw is `random.Random(seed)` over the population in a stable order, and the seed is
recorded, so that anyone holding the locker redraws the same sample. Without a seed given,
one is derived from the period and the control: the same pack, the same sample.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from auditpack.controls.matrix import ControlMatrix, Gate
from auditpack.controls.population import ControlPopulation, PopulationRow

# How often each named frequency operates, most often first; a frequency the matrix adds
# that is not named here ranks after these, in the order of the matrix's table.
FREQUENCY_ORDER = ("several-times-a-day", "daily", "weekly", "monthly", "quarterly", "annual")


@dataclass(frozen=True)
class SampledItem:
    """One sampled execution and what an auditor checks against its evidence."""

    row: PopulationRow
    evidence: tuple[tuple[str, str], ...]  # (what, where: URL, item number and SHA-256)
    checks: tuple[str, ...]


@dataclass(frozen=True)
class ControlSample:
    population: ControlPopulation
    seed: int
    frequency: str | None  # of the control's most frequent gate; None without a CI gate
    size: int  # from the frequency, never more than the population
    items: tuple[SampledItem, ...]


def default_seed(period_label: str, control_key: str) -> int:
    """A seed nobody chose: the first 64 bits of SHA-256 of `period|control`."""
    digest = hashlib.sha256(f"{period_label}|{control_key}".encode()).hexdigest()
    return int(digest[:16], 16)


def sample_size(matrix: ControlMatrix, population: ControlPopulation) -> tuple[str | None, int]:
    """The most frequent gate's frequency and its sample size, capped at the population."""
    gates = [matrix.gate(gate_id) for gate_id in population.gates]
    if not gates:
        return None, 0
    frequency = min((gate.frequency for gate in gates), key=lambda f: _rank(matrix, f))
    return frequency, min(matrix.sample_size(frequency), population.count)


def _rank(matrix: ControlMatrix, frequency: str) -> tuple[int, int]:
    if frequency in FREQUENCY_ORDER:
        return 0, FREQUENCY_ORDER.index(frequency)
    return 1, list(matrix.sample_sizes).index(frequency)


def draw_sample(
    matrix: ControlMatrix, population: ControlPopulation, seed: int | None = None
) -> ControlSample:
    """Draw without replacement; the items are listed in population order, not draw order."""
    if seed is None:
        seed = default_seed(population.period.label, population.control.key)
    frequency, size = sample_size(matrix, population)
    ordered = sorted(population.rows, key=lambda row: row.key)
    chosen = sorted(random.Random(seed).sample(range(len(ordered)), size))
    items = tuple(_item(matrix.gate(ordered[i].gate), ordered[i]) for i in chosen)
    return ControlSample(population, seed, frequency, size, items)


def draw_samples(
    matrix: ControlMatrix,
    populations: dict[str, ControlPopulation],
    seeds: dict[str, int] | None = None,
) -> dict[str, ControlSample]:
    """A sample per control, each with its given or derived seed; keyed like the populations."""
    seeds = seeds or {}
    return {
        key: draw_sample(matrix, population, seeds.get(key))
        for key, population in populations.items()
    }


def _item(gate: Gate, row: PopulationRow) -> SampledItem:
    evidence = [
        ("run", row.run_url),
        ("job listing", f"item {row.job_listing_item}, SHA-256 {row.job_listing_sha256}"),
    ]
    evidence += [
        ("SARIF", f"item {item}, SHA-256 {sha}")
        for item, sha in zip(row.sarif_items, row.sarif_sha256, strict=True)
    ]
    step = f", step {row.step_name!r}" if row.step_name else ""
    checks = [
        f"gate ran: job {row.job_name!r}{step} in run {row.run_id} attempt {row.attempt} "
        f"ended {row.outcome.value}, as the job listing says"
    ]
    if row.sarif_items:
        checks.append(
            f"outcome matches the SARIF against the threshold ({gate.threshold.describe()}): "
            "failed if and only if a finding crosses it"
        )
    else:
        checks.append("no SARIF kept for this run: the outcome cannot be checked against findings")
    return SampledItem(row, tuple(evidence), tuple(checks))
