"""Measures the streaming SARIF reader against json.load on one large generated log.

Usage: python benchmarks/sarif_ingest.py [--mb 200] [--keep DIR]

Each measurement runs in its own interpreter so that peak RSS (ru_maxrss) belongs to it
alone. Not part of the test suite: it writes hundreds of MB and takes minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_RULES = 400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the generated log in MB")
    parser.add_argument("--keep", type=Path, help="write the log here and keep it")
    parser.add_argument("--measure", choices=["imports", "auditpack", "json.load"])
    parser.add_argument("path", nargs="?", type=Path)
    args = parser.parse_args()

    if args.measure:
        print(json.dumps(_measure(args.measure, args.path)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = (args.keep or Path(tmp)) / "large.sarif"
        results = _generate(path, args.mb * 1_000_000)
        size = path.stat().st_size
        print(f"{path}: {size / 1e6:.1f} MB, {results} results", file=sys.stderr)
        rows = [_run(mode, path) for mode in ("imports", "auditpack", "json.load")]
    _print_table(size, rows)


def _measure(mode: str, path: Path) -> dict[str, object]:
    from auditpack.evidence.sarif import iter_findings, read_sarif

    started = time.perf_counter()
    figures: dict[str, object] = {"mode": mode}
    if mode == "auditpack":
        doc = read_sarif(path)
        figures["pass1_s"] = time.perf_counter() - started
        figures["results"] = sum(1 for _ in iter_findings(doc))
    elif mode == "json.load":
        with path.open("rb") as file:
            log = json.load(file)
        figures["results"] = sum(len(run.get("results", [])) for run in log["runs"])
    figures["seconds"] = time.perf_counter() - started
    figures["max_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )  # KiB on Linux
    return figures


def _run(mode: str, path: Path) -> dict[str, object]:
    command = [sys.executable, __file__, "--measure", mode, str(path)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, object] = json.loads(out)
    print(figures, file=sys.stderr)
    return figures


def _print_table(size: int, rows: list[dict[str, object]]) -> None:
    mb = size / 1e6
    print("| reader | file size | results | seconds | MB/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        seconds = float(str(row["seconds"]))
        name = {
            "imports": "interpreter + imports only",
            "auditpack": "read_sarif + iter_findings",
            "json.load": "json.load",
        }[str(row["mode"])]
        if row["mode"] == "auditpack":
            name += f" (pass 1: {float(str(row['pass1_s'])):.1f} s)"
        rate = f"{mb / seconds:.1f}" if row["mode"] != "imports" else "-"
        results = row.get("results", "-")
        print(
            f"| {name} | {mb:.0f} MB | {results} | {seconds:.1f} | {rate} "
            f"| {float(str(row['max_rss_mb'])):.0f} |"
        )


def _generate(path: Path, size: int) -> int:
    """Writes a CodeQL-shaped log of about `size` bytes; returns its result count."""
    rules = [_rule(n) for n in range(_RULES)]
    head = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    }
    tool = {"driver": {"name": "CodeQL", "semanticVersion": "2.15.0", "rules": rules}}
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head)[:-1] + ', "runs": [{"tool": ' + json.dumps(tool))
        out.write(', "results": [')
        for count, text in enumerate(_results(), start=1):
            out.write(("," if count > 1 else "") + text)
            if out.tell() >= size:
                break
        out.write("]}]}")
    return count


def _rule(n: int) -> dict[str, object]:
    return {
        "id": f"lang/rule-{n}",
        "name": f"lang/rule-{n}",
        "shortDescription": {"text": f"Rule number {n}"},
        "fullDescription": {"text": "A description of what the rule finds. " * 5},
        "defaultConfiguration": {"level": ("error", "warning", "note")[n % 3]},
        "help": {"text": "# Help\n" + "Explains the rule in detail. " * 40},
        "properties": {
            "tags": ["security", f"external/cwe/cwe-{n}"],
            "precision": "high",
            "security-severity": f"{(n % 100) / 10:.1f}",
        },
    }


def _results() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        rule = n % _RULES
        yield json.dumps(
            {
                "ruleId": f"lang/rule-{rule}",
                "ruleIndex": rule,
                "rule": {"id": f"lang/rule-{rule}", "index": rule},
                "message": {"text": f"Tainted data from [user input](1) reaches sink {n}."},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": f"src/module{n % 997}/file{n % 101}.js",
                                "uriBaseId": "%SRCROOT%",
                                "index": n % 5000,
                            },
                            "region": {
                                "startLine": n % 3000 + 1,
                                "startColumn": 5,
                                "endColumn": 40,
                            },
                        }
                    }
                ],
                "partialFingerprints": {
                    "primaryLocationLineHash": f"{n:016x}:1",
                    "primaryLocationStartColumnFingerprint": "4",
                },
                "relatedLocations": [
                    {
                        "id": 1,
                        "physicalLocation": {
                            "artifactLocation": {"uri": f"src/input{n % 13}.js", "index": 1},
                            "region": {"startLine": 10, "startColumn": 1, "endColumn": 20},
                        },
                        "message": {"text": "user input"},
                    }
                ],
            }
        )


if __name__ == "__main__":
    main()
