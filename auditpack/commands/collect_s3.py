"""`auditpack collect s3 s3://BUCKET/PREFIX ...`: SARIF archives and Falco alerts kept in S3."""

from __future__ import annotations

import argparse

from auditpack.commands.context import Context
from auditpack.controls.period import parse_period
from auditpack.evidence.sources.s3 import KeyTemplate, collect_s3, make_client, parse_s3_uri


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "s3",
        help="collect SARIF files and Falco alerts from S3 buckets",
        description=(
            "Collect the objects of the period under each S3 prefix: SARIF (plain or gzipped) "
            "and Falco events (falcosidekick objects, json_output lines), with each object's "
            "version id, ETag, checksum and Object Lock retention. Objects already in the "
            "locker are not downloaded again. Credentials come from the standard AWS chain."
        ),
    )
    parser.add_argument("uris", nargs="+", metavar="s3://BUCKET/PREFIX", help="where to look")
    parser.add_argument(
        "--period", required=True, help="2026-Q3, 2026-08 or 2026-07-01..2026-09-30 (UTC)"
    )
    parser.add_argument("--profile", help="AWS profile from ~/.aws/config (default: the chain)")
    parser.add_argument("--endpoint-url", help="an S3-compatible store's URL (MinIO, Ceph, R2)")
    parser.add_argument(
        "--key-template",
        help=(
            "how keys below the prefix name what they hold, e.g. '{repo}/{gate}/{date}/{name}'; "
            "fields: owner, repo, gate, date (YYYY-MM-DD), name, any"
        ),
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    period = parse_period(args.period)
    locations = [parse_s3_uri(uri) for uri in args.uris]
    template = KeyTemplate(args.key_template) if args.key_template else None
    matrix = context.load_matrix()
    client = make_client(args.profile, args.endpoint_url)
    with context.open_locker() as locker:
        summary = collect_s3(
            locker, matrix, client, locations, period, template=template, progress=context.progress
        )
    print(
        f"{summary.listed} objects listed, {summary.in_period} in {period}: "
        f"{summary.downloaded} downloaded ({summary.bytes} bytes), {summary.new_items} new "
        f"evidence items, {summary.already_collected} already in the locker, "
        f"{len(summary.gaps)} evidence gaps"
    )
    print(f"locker: {context.locker_dir}")
    return 0
