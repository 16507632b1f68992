"""The files a pack embeds: manifest, population exports, and evidence.zip holding the raw
evidence under a cap, with redacted copies of items that hold secrets (tests/data/local/acme
plus the Gitleaks sample)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditpack.controls.assessment import assess
from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local
from auditpack.reports.attachments import add_populations, build_attachments, redacted_copy
from auditpack.reports.pack import Pack, build_pack, manifest_bytes, pack_json
from auditpack.reports.pdf import PackAttachment

GENERATED_AT = datetime(2026, 10, 1, tzinfo=UTC)
GITLEAKS = "sarif/gitleaks/gitleaks_report_simple.sarif"


def acme_with_gitleaks(tmp_path: Path, data_dir: Path) -> Path:
    """acme/shop plus the Gitleaks sample as run 103's secret scan, dated inside Q3."""
    shop = tmp_path / "shop"
    for source in (data_dir / "local/acme/shop").rglob("*"):
        if source.is_file():
            target = shop / source.relative_to(data_dir / "local/acme/shop")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    report = shop / "runs/103/gitleaks.sarif"
    report.write_bytes((data_dir / GITLEAKS).read_bytes())
    moment = datetime(2026, 8, 3, 9, 5, tzinfo=UTC).timestamp()
    os.utime(report, (moment, moment))  # the sample has no invocation time: the file's counts
    return shop


def make_locker(tmp_path: Path, data_dir: Path) -> Locker:
    matrix = load_matrix()
    locker = Locker.open(tmp_path / "locker")
    collect_local(locker, matrix, acme_with_gitleaks(tmp_path, data_dir), Repository("acme/shop"))
    collect_local(locker, matrix, data_dir / "local/acme/infra")
    return locker


def make_pack(locker: Locker) -> Pack:
    matrix = load_matrix()
    assessment = assess(locker, matrix, parse_period("2026-Q3"))
    pack = build_pack(locker, assessment, "Acme", GENERATED_AT)
    return add_populations(pack, locker, matrix)


def archive_entries(files: tuple[PackAttachment, ...]) -> dict[str, bytes]:
    """The entries of the embedded evidence.zip, by name, in the archive's order."""
    (archive,) = [attachment for attachment in files if attachment.name == "evidence.zip"]
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        return {info.filename: zipped.read(info) for info in zipped.infolist()}


@pytest.fixture
def locker(tmp_path: Path, data_dir: Path) -> Locker:
    return make_locker(tmp_path, data_dir)


def test_redacted_copy_replaces_snippets_plain_or_gzipped(data_dir: Path) -> None:
    original = (data_dir / GITLEAKS).read_bytes()
    assert b"a secret" in original
    for data in (original, gzip.compress(original, mtime=0)):
        copy = redacted_copy(data)
        assert b"a secret" not in copy.data
        document = json.loads(copy.data)
        region = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
        assert region["snippet"]["text"] == "[REDACTED]"
        assert copy.description.startswith("1 snippet text(s) replaced by [REDACTED]")


def test_redacted_copy_of_json_lines_redacts_each_line() -> None:
    lines = (
        b'{"output": "curl -H \\"Authorization: Bearer abcdefghijklmnopqrstuvwx\\""}\nnot json\n'
    )
    copy = redacted_copy(lines)
    assert b"abcdefghijklmnopqrstuvwx" not in copy.data
    assert copy.data.splitlines()[1] == b"not json"


def test_manifest_says_what_is_attached_and_redacted(locker: Locker) -> None:
    pack, files = build_attachments(locker, make_pack(locker))
    entries = archive_entries(files)
    assert files[0].name == "manifest.json"
    assert files[0].data == manifest_bytes(pack.manifest, pack.files)
    assert hashlib.sha256(files[0].data).hexdigest() == pack.pack_id
    (secret,) = [entry for entry in pack.manifest if entry.item.redacted]
    assert secret.attached_as == f"evidence-{secret.item_id:06d}-gitleaks.sarif.redacted"
    assert secret.archive == "evidence.zip"
    copy = entries[secret.attached_as]
    assert b"a secret" not in copy
    assert secret.redacted_copy_sha256 == hashlib.sha256(copy).hexdigest()
    assert secret.redacted_copy_sha256 != secret.item.sha256
    assert secret.redaction is not None and "1 snippet" in secret.redaction
    plain = [entry for entry in pack.manifest if not entry.item.redacted]
    for entry in plain:
        assert entry.attached_as is not None and entry.archive == "evidence.zip"
        assert hashlib.sha256(entries[entry.attached_as]).hexdigest() == entry.item.sha256
    # one entry per item, in manifest order, and nothing else in the archive
    assert list(entries) == [entry.attached_as for entry in pack.manifest]
    entry_json = secret.as_json()
    assert entry_json["attached_as"] == secret.attached_as
    assert entry_json["archive"] == "evidence.zip"
    assert entry_json["redacted_copy_sha256"] == secret.redacted_copy_sha256


def test_raw_evidence_is_one_archive_with_fixed_metadata(locker: Locker) -> None:
    pack = make_pack(locker)
    built, files = build_attachments(locker, pack)
    assert [a.name for a in files if not a.name.startswith("population-")] == [
        "manifest.json",
        "evidence.zip",
    ]
    archive = files[-1]
    assert archive.relationship == "Data"
    listed = built.files[-1]
    assert (listed.name, listed.size) == ("evidence.zip", len(archive.data))
    assert listed.sha256 == hashlib.sha256(archive.data).hexdigest()
    assert "attached_as" in listed.description and "redacted_copy_sha256" in listed.description
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        infos = zipped.infolist()
    assert len(infos) == 8  # the 8 items of Q3
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr == 0o100644 << 16
        assert (info.create_system, info.compress_type) == (3, zipfile.ZIP_DEFLATED)
    # built again, the same bytes
    assert build_attachments(locker, pack)[1][-1].data == archive.data


def test_population_files_are_per_gate_and_in_the_manifest(locker: Locker) -> None:
    pack, files = build_attachments(locker, make_pack(locker))
    # the five CI gates, each a CSV and an XLSX, in the order the controls first name them
    # (soc2:CC6.1: sast, image, dependency, secret; then CC6.6: iac); runtime has no file
    gates = ["sast", "image-scan", "dependency-scan", "secret-scanning", "iac-scan"]
    assert [file.name for file in pack.files] == [
        *(f"population-{gate}.{kind}" for gate in gates for kind in ("csv", "xlsx")),
        "evidence.zip",
    ]
    by_name = {attachment.name: attachment.data for attachment in files}
    for file in pack.files:
        assert hashlib.sha256(by_name[file.name]).hexdigest() == file.sha256
    manifest = json.loads(files[0].data)
    assert sorted(manifest) == ["files", "items"]
    assert [entry["name"] for entry in manifest["files"]] == [file.name for file in pack.files]
    # every control's files are embedded, and together hold its rows once each
    for population in pack.populations_by_control.values():
        assert {f"{stem}.xlsx" for stem in population.files} <= set(by_name)
        rows = sum(by_name[f"{stem}.csv"].count(b"\n") - 1 for stem in population.files)
        assert rows == population.count
    iac = next(f for f in pack.files if f.name == "population-iac-scan.csv")
    assert iac.description == (
        "Population of iac-scan for soc2:CC6.6, soc2:CC7.1, iso27001_2013:A.12.6.1, "
        "iso27001_2013:A.13.1.1, iso27001_2022:A.8.9, iso27001_2022:A.8.20: 1 gate executions "
        "of iac-scan on branch main, runs created 2026-07-01..2026-09-30"
    )
    document = json.loads(pack_json(pack))
    cc71 = next(p for p in document["control_populations"] if p["control"] == "soc2:CC7.1")
    assert cc71["files"] == [
        "population-image-scan.csv",
        "population-image-scan.xlsx",
        "population-iac-scan.csv",
        "population-iac-scan.xlsx",
        "population-dependency-scan.csv",
        "population-dependency-scan.xlsx",
    ]


def test_items_over_the_cap_are_listed_not_attached(locker: Locker) -> None:
    pack = make_pack(locker)
    sizes = [entry.item.size for entry in pack.manifest]
    limit = sizes[0] + sizes[1]  # the first two items fit, exactly
    capped, files = build_attachments(locker, pack, attach_limit=limit)
    attached = [entry for entry in capped.manifest if entry.attached_as]
    # manifest order is greedy: the first two, then only smaller ones that still fit (none)
    assert [entry.item_id for entry in attached] == [
        pack.manifest[0].item_id,
        pack.manifest[1].item_id,
    ]
    assert sum(len(data) for data in archive_entries(files).values()) == limit
    listed = json.loads(files[0].data)["items"]
    assert all(item["locker_path"].endswith(item["sha256"]) for item in listed)
    assert [item["archive"] for item in listed[:3]] == ["evidence.zip", "evidence.zip", None]
    assert capped.pack_id != build_attachments(locker, pack)[0].pack_id


def test_no_archive_when_nothing_fits(locker: Locker) -> None:
    pack, files = build_attachments(locker, make_pack(locker), attach_limit=0)
    assert "evidence.zip" not in {a.name for a in files}
    assert "evidence.zip" not in {file.name for file in pack.files}
    assert not [entry for entry in pack.manifest if entry.attached_as or entry.archive]
    # the Gitleaks report's copy is still described, though it travels in no archive
    (secret,) = [entry for entry in pack.manifest if entry.item.redacted]
    assert secret.redacted_copy_sha256 is not None
