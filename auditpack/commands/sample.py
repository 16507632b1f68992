"""`auditpack sample`: draw (or redraw) a control's sample for a period from the locker."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Sequence
from pathlib import Path

from auditpack.commands.context import Context
from auditpack.controls.matrix import FRAMEWORKS, Control, ControlMatrix, MatrixError
from auditpack.controls.period import parse_period
from auditpack.controls.population import COLUMNS, DEFAULT_BRANCH, control_population
from auditpack.controls.sampling import ControlSample, draw_sample
from auditpack.reports.errors import RenderError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sample",
        help="draw a control's sample for a period; the same seed gives the same sample",
    )
    parser.add_argument(
        "--period", required=True, help="2026-Q3, 2026-08 or 2026-07-01..2026-09-30"
    )
    parser.add_argument("--control", required=True, help="control id, e.g. CC7.1 or A.8.8")
    parser.add_argument(
        "--framework", choices=FRAMEWORKS, default="soc2", help="framework (default: soc2)"
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the draw (default: derived from period and control)"
    )
    parser.add_argument(
        "--branch", default=DEFAULT_BRANCH, help=f"default branch (default: {DEFAULT_BRANCH})"
    )
    parser.add_argument("--out", type=Path, help="also write the sampled rows as CSV")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    period = parse_period(args.period)
    matrix = context.load_matrix()
    control = _control(matrix, args.framework, args.control)
    with context.open_locker(create=False) as locker:
        population = control_population(locker, matrix, period, control, args.branch)
    sample = draw_sample(matrix, population, args.seed)
    print(sample_text(sample), end="")
    if args.out is not None:
        _write(args.out, sample_csv(sample))
    return 0


def _control(matrix: ControlMatrix, framework: str, control_id: str) -> Control:
    try:
        return matrix.control(framework, control_id)
    except KeyError:
        known = ", ".join(c.id for c in matrix.controls if c.framework == framework)
        raise MatrixError(
            f"{matrix.source}: no {framework} control {control_id!r} (known: {known})"
        ) from None


def sample_text(sample: ControlSample) -> str:
    """The sample as plain text: its provenance, a table, then what to check for each item."""
    population = sample.population
    lines = [
        f"control     {population.control.key}  {population.control.title}",
        f"period      {population.period}",
        f"population  {population.count} execution(s): {population.query}",
        f"source      {population.source}",
        f"reconciles  {_reconciles(population.reconciles)}",
        f"sample      {sample.size} ({sample.frequency or 'no CI gate'}), seed {sample.seed}",
        "",
    ]
    table = [("#", "repository", "run", "att", "gate", "outcome", "run created", "SARIF")]
    for number, item in enumerate(sample.items, 1):
        row = item.row
        table.append(
            (
                str(number),
                row.repository,
                str(row.run_id),
                str(row.attempt),
                row.gate,
                row.outcome.value,
                row.run_created_at.strftime("%Y-%m-%d %H:%M"),
                ", ".join(sha[:12] for sha in row.sarif_sha256) or "-",
            )
        )
    lines += _aligned(table)
    for number, item in enumerate(sample.items, 1):
        lines.append("")
        lines.append(f"{number}. {item.row.run_url}")
        lines += [f"   evidence: {what}: {where}" for what, where in item.evidence]
        lines += [f"   check: {check}" for check in item.checks]
    return "\n".join(lines) + "\n"


def _aligned(table: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]


def _reconciles(value: bool | None) -> str:
    if value is None:
        return "no run listing to reconcile against"
    return "yes, to the source's own count" if value else "NO: see the sources' counts"


def sample_csv(sample: ControlSample) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow((*COLUMNS, "seed", "checks"))
    for item in sample.items:
        writer.writerow((*item.row.cells(), sample.seed, " | ".join(item.checks)))
    return buffer.getvalue().encode("utf-8")


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as error:
        raise RenderError(f"cannot write {out}: {error.strerror}") from None
