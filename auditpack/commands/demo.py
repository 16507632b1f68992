"""`auditpack demo`: a real audit pack from the evidence bundled with auditpack."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from auditpack.commands.context import Context
from auditpack.commands.report import generation_time, make_pack
from auditpack.commands.verify import file_sha256
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local

DEMO_PERIOD = "2026-Q3"
DEMO_ORGANISATION = "Kestrel Payments (fictional)"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "demo",
        help="collect the bundled demo evidence and render its audit pack",
        description=(
            "Collect a quarter of bundled evidence (real scanner outputs, generated run "
            "history of a fictional organisation) into a demo locker and render the pack."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the pack (default: here)"
    )
    parser.add_argument("--generated-at", help="generation time to print (ISO 8601)")
    parser.set_defaults(handler=run)


def demo_data() -> Path:
    return Path(str(resources.files("auditpack.demo").joinpath("data")))


def run(args: argparse.Namespace, context: Context) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    matrix = context.load_matrix()
    period = parse_period(DEMO_PERIOD)
    with Locker.open(out / "auditpack-demo-locker") as locker:
        for folder in sorted(path for path in (demo_data() / "kestrel-payments").iterdir()):
            repository = Repository(f"kestrel-payments/{folder.name}")
            collect_local(locker, matrix, folder, repository, context.progress)
        pdf, json_out = make_pack(
            locker,
            matrix,
            period,
            out / f"auditpack-demo-{period.label}.pdf",
            DEMO_ORGANISATION,
            generation_time(args.generated_at),
        )
    print(f"demo evidence collected into {out / 'auditpack-demo-locker'}")
    print("(one CodeQL upload in the demo evidence is malformed on purpose: the pack shows it")
    print(" as an evidence gap; the warning above is about that file)")
    print(f"audit pack: {pdf}")
    print(f"its SHA-256 (send it to the auditor apart from the file): {file_sha256(pdf)}")
    print(f"figures and manifest: {json_out}")
    return 0
