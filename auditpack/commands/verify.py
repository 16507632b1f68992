"""`auditpack verify`: check a pack's embedded files, its pack id, and the locker behind it."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from auditpack.commands.context import Context
from auditpack.reports.verify import Verification, verify_pack

_PROBLEMS_SHOWN = 10


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "verify",
        help="check that a pack was not changed: embedded files, pack id, locker blobs",
    )
    parser.add_argument("pdf", type=Path, help="the audit pack PDF")
    # Named here too, after the subcommand, as people write it: `verify pack.pdf --locker DIR`.
    parser.add_argument(
        "--locker",
        dest="verify_locker",
        type=Path,
        metavar="DIR",
        help="also check the items not embedded against this evidence locker",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    # `auditpack --locker DIR verify pack.pdf` means the same as `verify pack.pdf --locker DIR`.
    locker = args.verify_locker or context.locker_given
    result = verify_pack(args.pdf, locker)
    print(report_text(args.pdf, result, locker), end="")
    return 0 if result.ok else 1


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def report_text(pdf: Path, result: Verification, locker: Path | None) -> str:
    lines = [
        f"pack       {pdf}",
        f"PDF        SHA-256 {file_sha256(pdf)}",
        f"pack id    {result.pack_id or 'not stated'}",
        f"manifest   SHA-256 {result.computed_id}",
        f"embedded   {result.attachments} file(s) match the manifest",
        f"archived   {result.archived} evidence item(s) in the evidence archive match the manifest",
    ]
    if locker is not None:
        lines.append(f"locker     {result.locker_items} item(s) match their blobs in {locker}")
    else:
        lines.append("locker     not checked (give --locker DIR to check the items not embedded)")
    if result.ok:
        lines.append("verified: the embedded evidence, populations and manifest are as they were")
        lines.append("  made, and the pack id is their SHA-256. The pages are not covered: compare")
        lines.append(
            "  the PDF's SHA-256 above with the one the preparer sent apart from the file."
        )
        return "\n".join(lines) + "\n"
    lines.append(f"NOT VERIFIED: {len(result.problems)} problem(s)")
    lines += [f"  {problem}" for problem in result.problems[:_PROBLEMS_SHOWN]]
    if len(result.problems) > _PROBLEMS_SHOWN:
        lines.append(f"  and {len(result.problems) - _PROBLEMS_SHOWN} more")
    return "\n".join(lines) + "\n"
