"""Listing a large bucket page by page, and the `auditpack collect s3` command end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto_s3 import S3

from auditpack.cli import main
from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.sources.s3 import S3Location, collect_s3

OBJECTS = 20_000
IN_PERIOD = 10


def _fill_large_bucket(s3: S3, event: bytes) -> None:
    """20,000 falcosidekick keys; only the last ten fall in July 2026.

    The objects go straight into moto's store (one HTTP PUT each would take a minute);
    everything the collector does still crosses HTTP.
    """
    s3.setup.create_bucket(Bucket="falco-large")
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for number in range(OBJECTS):
        day = "2026-07-15" if number >= OBJECTS - IN_PERIOD else "2026-06-15"
        key = f"falco/{day}/{day}T10:{number // 60 % 60:02d}:{number % 60:02d}.{number:05d}Z.json"
        backend.put_object("falco-large", key, event)


def test_twenty_thousand_keys_listed_in_pages_only_the_period_fetched(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    event = (data_dir / "falco" / "falcosidekick_readme_example_event.json").read_bytes()
    _fill_large_bucket(s3, event.replace(b"2019-05-17", b"2026-07-15"))
    location = S3Location("falco-large", "falco/")

    with Locker.open(tmp_path / "locker") as locker:
        summary = collect_s3(locker, load_matrix(), s3.client, [location], parse_period("2026-07"))
        [population] = locker.populations()
        events = locker.falco_events()

    assert (summary.listed, summary.in_period, summary.downloaded) == (
        OBJECTS,
        IN_PERIOD,
        IN_PERIOD,
    )
    # The ten objects hold the same bytes under ten keys: ten items, one blob.
    assert summary.new_items == IN_PERIOD
    assert len(events) == IN_PERIOD
    assert (population.count, population.source_count) == (IN_PERIOD, IN_PERIOD)
    assert (s3.calls["ListObjectsV2"], s3.calls["GetObject"]) == (OBJECTS // 1000, IN_PERIOD)


def test_the_command_collects_and_says_what_it_did(
    s3: S3, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.setup.create_bucket(Bucket="evidence")
    sarif = (data_dir / "sarif" / "checkov" / "checkov_2.3.55_docs_example.sarif").read_bytes()
    s3.setup.put_object(Bucket="evidence", Key="ci/acme/iac-scan/2026-08-03/out.sarif", Body=sarif)
    s3.setup.put_object(Bucket="evidence", Key="ci/acme/iac-scan/2026-10-03/out.sarif", Body=sarif)
    arguments = ["--locker", str(tmp_path / "locker"), "collect", "s3", "s3://evidence/ci"]
    arguments += ["--period", "2026-Q3", "--endpoint-url", s3.endpoint]
    arguments += ["--key-template", "{repo}/{gate}/{date}/{name}"]

    code = main(arguments)

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == (
        f"2 objects listed, 1 in 2026-Q3 (2026-07-01 to 2026-09-30 UTC): 1 downloaded "
        f"({len(sarif)} bytes), 1 new evidence items, 0 already in the locker, 0 evidence gaps"
    )
    with Locker.open(tmp_path / "locker") as locker:
        [item] = locker.items()
    assert (item.gate, item.repository) == ("iac-scan", "acme")


def test_the_command_refuses_a_bad_uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--locker", str(tmp_path), "collect", "s3", "bucket/ci", "--period", "2026-Q3"])

    assert code == 1
    assert "'bucket/ci': expected an S3 URI such as s3://bucket/prefix" in capsys.readouterr().err
