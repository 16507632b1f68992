"""`auditpack collect local DIR`: import SARIF files and saved Actions listings from a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditpack.commands.context import Context
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "local",
        help="import SARIF files and GitHub Actions listings saved in a folder",
        description=(
            "Import SARIF files (.sarif, .sarif.json, gzipped too), GitHub workflow-run "
            "and job listings saved as JSON in the REST API's shapes, and Falco json_output "
            "events (.jsonl, one event a line). A folder named by digits gives the run id of "
            "the files below it."
        ),
    )
    parser.add_argument("folder", type=Path, help="folder to import, searched recursively")
    parser.add_argument("--repo", help="OWNER/NAME of files that do not name their repository")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    matrix = context.load_matrix()
    repository = Repository(args.repo) if args.repo else None
    with context.open_locker() as locker:
        summary = collect_local(locker, matrix, args.folder, repository, context.progress)
    print(
        f"{_count(summary.files, 'file')} read: {_count(summary.new_items, 'new evidence item')}, "
        f"{summary.already_held} already in the locker, {_count(summary.gaps, 'evidence gap')}, "
        f"{summary.ignored} ignored (run with -v to see which)"
    )
    if summary.records:
        print(", ".join(f"{count} {kind}" for kind, count in sorted(summary.records.items())))
    print(f"locker: {context.locker_dir}")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
