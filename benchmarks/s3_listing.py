"""Peak memory of collecting from an S3 prefix of 100,000 keys (moto server in its own process).

    /work/venv/bin/python benchmarks/s3_listing.py [--keys 100000] [--in-period 100]

The S3 server runs in a child process, filled directly in its store before it serves, so
that only the collector's memory is measured here: listing every key page by page,
dating each by its falcosidekick folder, and downloading and importing the few objects of
the period. Prints the peak resident memory of this process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

LIMIT_MIB = 200

_SERVER = textwrap.dedent(
    """
    import sys, time
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    port, keys, in_period = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    event = open(sys.argv[4], "rb").read()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket("falco-bench", "us-east-1")
    for number in range(keys):
        day = "2026-07-15" if number >= keys - in_period else "2026-06-15"
        key = f"falco/{day}/{day}T10:00:00.{number:09d}Z.json"
        backend.put_object("falco-bench", key, event)
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    print("ready", flush=True)
    time.sleep(3600)
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--in-period", type=int, default=100)
    args = parser.parse_args()
    _environment()
    port = _free_port()
    event = Path(__file__).parents[1] / "tests/data/falco/falcosidekick_readme_example_event.json"
    handle, moved = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    Path(moved).write_bytes(event.read_bytes().replace(b"2019-05-17", b"2026-07-15"))
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port), str(args.keys), str(args.in_period), moved],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        print(f"server filled with {args.keys} keys in {time.perf_counter() - started:.1f} s")
        return _measure(f"http://127.0.0.1:{port}", args.keys, args.in_period)
    finally:
        server.terminate()
        server.wait()
        os.unlink(moved)


def _measure(endpoint: str, keys: int, in_period: int) -> int:
    from auditpack.controls.matrix import load_matrix
    from auditpack.controls.period import parse_period
    from auditpack.evidence.locker import Locker
    from auditpack.evidence.sources.s3 import S3Location, collect_s3, make_client

    client = make_client(endpoint_url=endpoint)
    matrix = load_matrix()
    before = _peak_mib()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, Locker.open(Path(folder)) as locker:
        location = S3Location("falco-bench", "falco/")
        summary = collect_s3(locker, matrix, client, [location], parse_period("2026-07"))
    elapsed = time.perf_counter() - started
    peak = _peak_mib()
    assert (summary.listed, summary.in_period, summary.new_items) == (keys, in_period, in_period)
    print(f"listed {summary.listed} keys, fetched {summary.downloaded}, in {elapsed:.1f} s")
    print(f"peak RSS: {before:.0f} MiB after imports, {peak:.0f} MiB after collecting")
    print(f"limit {LIMIT_MIB} MiB: {'met' if peak < LIMIT_MIB else 'EXCEEDED'}")
    return 0 if peak < LIMIT_MIB else 1


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _environment() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
