"""The `auditpack` command: parse arguments, run one subcommand, turn errors into one line.

Exit codes: 0 success, 1 a failure the message explains, 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from auditpack import __version__
from auditpack.commands import collect_local, demo, report
from auditpack.commands.context import Context
from auditpack.console import RichProgress, stderr
from auditpack.controls.matrix import MatrixError
from auditpack.controls.period import PeriodError
from auditpack.evidence.errors import CollectionError
from auditpack.reports.errors import RenderError

# Optional subcommands built in their own modules; each registers itself.
_COLLECT_SOURCES = ["auditpack.commands.collect_github", "auditpack.commands.collect_s3"]
_TOP_COMMANDS = ["auditpack.commands.verify", "auditpack.commands.sample"]

_FAILURES = (CollectionError, MatrixError, PeriodError, RenderError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditpack",
        description="Turn CI security gates into SOC 2 and ISO/IEC 27001 audit evidence.",
    )
    parser.add_argument("--version", action="version", version=f"auditpack {__version__}")
    parser.add_argument(
        "--locker",
        type=Path,
        help="evidence locker folder (default: ./auditpack-locker, or $AUDITPACK_LOCKER); "
        "give it before the command: auditpack --locker DIR report ...",
    )
    parser.add_argument(
        "--matrix", type=Path, help="control matrix YAML (default: the built-in matrix)"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="-v: info and tracebacks; -vv: debug"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    collect = commands.add_parser("collect", help="collect evidence into the locker")
    sources = collect.add_subparsers(dest="source", metavar="SOURCE", required=True)
    collect_local.register(sources)
    for name in _COLLECT_SOURCES:
        _register_optional(name, sources)
    report.register(commands)
    demo.register(commands)
    for name in _TOP_COMMANDS:
        _register_optional(name, commands)
    return parser


def _register_optional(module_name: str, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    try:
        module = __import__(module_name, fromlist=["register"])
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return
    module.register(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        with RichProgress() as progress:
            context = Context(_locker_dir(args.locker), args.matrix, progress, args.locker)
            code: int = args.handler(args, context)
            return code
    except _FAILURES as error:
        if args.verbose:
            raise
        stderr.print(f"auditpack: error: {error}", markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        stderr.print("auditpack: interrupted; what was collected so far is kept", markup=False)
        return 130


def _locker_dir(given: Path | None) -> Path:
    return given or Path(os.environ.get("AUDITPACK_LOCKER", "auditpack-locker"))


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    env_level = os.environ.get("AUDITPACK_LOG_LEVEL")
    logging.basicConfig(
        level=env_level.upper() if env_level else level,
        format="auditpack: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
