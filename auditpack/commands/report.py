"""`auditpack report`: assess the locker for a period and write the audit pack."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from auditpack.commands.context import Context
from auditpack.commands.verify import file_sha256
from auditpack.controls.assessment import assess
from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import Period, parse_period
from auditpack.controls.population import DEFAULT_BRANCH
from auditpack.evidence.locker import Locker
from auditpack.reports.attachments import DEFAULT_ATTACH_LIMIT, add_populations, build_attachments
from auditpack.reports.errors import RenderError
from auditpack.reports.pack import build_pack
from auditpack.reports.writer import write_pack


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "report", help="assess the locker for a period and write the PDF audit pack"
    )
    add_pack_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="PDF to write (and its .json)")
    parser.set_defaults(handler=run)


def add_pack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", required=True, help="2026-Q3, 2026-08 or 2026-07-01..2026-09-30"
    )
    parser.add_argument(
        "--organisation", help="name on the cover (default: the repositories' owner)"
    )
    parser.add_argument(
        "--branch",
        default=DEFAULT_BRANCH,
        help="default branch whose runs make up the populations (default: main)",
    )
    parser.add_argument(
        "--attach-limit",
        type=int,
        default=DEFAULT_ATTACH_LIMIT,
        metavar="BYTES",
        help="raw evidence embedded in the PDF, in bytes (default: 25,000,000); larger items "
        "are listed with their hash and locker path",
    )
    parser.add_argument(
        "--generated-at",
        help="generation time to print (ISO 8601; default: $SOURCE_DATE_EPOCH or now), "
        "for byte-identical packs",
    )


def run(args: argparse.Namespace, context: Context) -> int:
    period = parse_period(args.period)
    matrix = context.load_matrix()
    with context.open_locker(create=False) as locker:
        pdf, json_out = make_pack(
            locker,
            matrix,
            period,
            args.out,
            args.organisation,
            generation_time(args.generated_at),
            branch=args.branch,
            attach_limit=args.attach_limit,
        )
    print(f"audit pack: {pdf}")
    print(f"its SHA-256 (send it to the auditor apart from the file): {file_sha256(pdf)}")
    print(f"figures and manifest: {json_out}")
    return 0


def make_pack(
    locker: Locker,
    matrix: ControlMatrix,
    period: Period,
    out: Path,
    organisation: str | None,
    generated_at: datetime,
    *,
    branch: str = DEFAULT_BRANCH,
    attach_limit: int = DEFAULT_ATTACH_LIMIT,
) -> tuple[Path, Path]:
    """Assess, gather populations and samples, choose the attachments, write PDF and JSON."""
    assessment = assess(locker, matrix, period)
    name = organisation or _owner_of(assessment.repositories)
    pack = build_pack(locker, assessment, name, generated_at)
    pack = add_populations(pack, locker, matrix, default_branch=branch)
    pack, attachments = build_attachments(locker, pack, attach_limit)
    return write_pack(pack, out, attachments)


def generation_time(text: str | None) -> datetime:
    if text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise RenderError(f"--generated-at {text!r}: not an ISO 8601 time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _owner_of(repositories: tuple[str, ...]) -> str:
    owners = sorted({repo.split("/")[0] for repo in repositories if "/" in repo})
    return owners[0] if len(owners) == 1 else "Organisation not named (use --organisation)"
