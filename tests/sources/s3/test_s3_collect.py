"""Collecting SARIF and Falco objects from a real S3 API (moto server) into a locker."""

from __future__ import annotations

import base64
import gzip
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError
from moto_s3 import S3

from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.worm import WormStatus, worm_summary
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind
from auditpack.evidence.sources.s3 import (
    KeyTemplate,
    S3Error,
    S3Summary,
    collect_s3,
    parse_s3_uri,
)

NOW = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
Q3 = parse_period("2026-Q3")
TEMPLATE = KeyTemplate("{repo}/{gate}/{date}/{name}")
COMPLIANCE_UNTIL = datetime(2029, 1, 1, tzinfo=UTC)
GOVERNANCE_UNTIL = datetime(2028, 6, 30, 12, 0, tzinfo=UTC)
SEMGREP = "ci/acme-web/sast/2026-07-14/semgrep.sarif"
TRIVY = "ci/acme-web/image-scan/2026-08-02/trivy.sarif.gz"
GRYPE = "ci/acme-api/dependency-scan/2026-09-30/grype.sarif"


def _sarif(data_dir: Path, name: str) -> bytes:
    return (data_dir / "sarif" / name).read_bytes()


def _falco(data_dir: Path, name: str) -> bytes:
    return (data_dir / "falco" / name).read_bytes()


def _fill_evidence_bucket(s3: S3, data_dir: Path) -> dict[str, bytes]:
    """A versioned bucket under Object Lock, as CI jobs would fill it over a quarter."""
    s3.setup.create_bucket(Bucket="evidence-locked", ObjectLockEnabledForBucket=True)
    trivy = gzip.compress(_sarif(data_dir, "trivy/trivy_image_ci_output_v0.37.1.sarif"), mtime=0)
    bodies = {
        SEMGREP: _sarif(data_dir, "semgrep/semgrep_0.95.0_ci_output.sarif"),
        TRIVY: trivy,
        GRYPE: _sarif(data_dir, "grype/grype_directory_scan.sarif"),
        "ci/acme-web/sast/2026-06-30/semgrep.sarif": _sarif(
            data_dir, "semgrep/semgrep_oss_1.66.2_empty.sarif"
        ),
        "ci/acme-web/sast/2026-07-20/broken.sarif.gz": trivy[: len(trivy) // 2],
        "ci/acme-web/sast/2026-07-21/error.sarif": b"<html><body>Bad Gateway</body></html>",
        "ci/acme-web/sast/2026-07-22/empty.sarif": b"",
    }
    lock = {
        SEMGREP: {
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": COMPLIANCE_UNTIL,
            "ChecksumAlgorithm": "SHA256",
        },
        TRIVY: {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": GOVERNANCE_UNTIL},
    }
    for key, body in bodies.items():
        s3.setup.put_object(Bucket="evidence-locked", Key=key, Body=body, **lock.get(key, {}))
    return bodies


def _fill_falco_bucket(s3: S3, data_dir: Path) -> None:
    """falcosidekick's layout: <prefix>/<YYYY-MM-DD>/<upload time>.json, one event each."""
    s3.setup.create_bucket(Bucket="falco-alerts")
    critical = _falco(data_dir, "website_docs_outputs_channels.jsonl").replace(
        b"2023-05-25T13:44:05.478445995Z", b"2026-07-01T09:59:59.999999999Z"
    )
    heartbeat = _falco(data_dir, "website_docs_metrics_snapshot_internal.json").replace(
        b"2025-05-29T22:19:58.960296886Z", b"2026-07-02T07:59:58.5Z"
    )
    objects = {
        "falco/2026-07-01/2026-07-01T10:00:00.123456789Z.json": critical,
        "falco/2026-07-02/2026-07-02T08:00:00+02:00.json": heartbeat,
        "falco/2026-07-03/2026-07-03T11:00:00Z.json": _falco(
            data_dir, "website_blog_sidekick_test_event_bad_time.json"
        ),
        "falco/2026-10-01/2026-10-01T00:00:01Z.json": critical,
    }
    for key, body in objects.items():
        s3.setup.put_object(Bucket="falco-alerts", Key=key, Body=body)


def _collect(
    locker: Locker,
    s3: S3,
    *uris: str,
    template: KeyTemplate | None = TEMPLATE,
    client: Any = None,
) -> S3Summary:
    locations = [parse_s3_uri(uri) for uri in uris]
    client = client or s3.client
    return collect_s3(
        locker, load_matrix(), client, locations, Q3, template=template, clock=lambda: NOW
    )


def test_sarif_objects_become_items_with_their_lock_facts(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    bodies = _fill_evidence_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://evidence-locked/ci")
        items = {item.source: item for item in locker.items()}
        findings = list(locker.findings())

    assert (summary.listed, summary.in_period, summary.downloaded) == (7, 6, 6)
    assert summary.new_items == 3
    assert summary.bytes == sum(len(bodies[key]) for key in bodies if "06-30" not in key)
    assert sorted(items) == [
        f"s3://evidence-locked/{GRYPE}",
        f"s3://evidence-locked/{TRIVY}",
        f"s3://evidence-locked/{SEMGREP}",
        "s3://evidence-locked/ci/acme-web/sast/2026-07-20/broken.sarif.gz",
        "s3://evidence-locked/ci/acme-web/sast/2026-07-21/error.sarif",
        "s3://evidence-locked/ci/acme-web/sast/2026-07-22/empty.sarif",
    ]
    unreadable = [item for item in items.values() if item.note.startswith("unreadable: ")]
    assert len(unreadable) == 3
    semgrep = items[f"s3://evidence-locked/{SEMGREP}"]
    assert semgrep.kind is ItemKind.SARIF
    assert (semgrep.gate, semgrep.repository) == ("sast", "acme-web")
    assert semgrep.sha256 == hashlib.sha256(bodies[SEMGREP]).hexdigest()
    assert (
        semgrep.checksum_sha256
        == base64.b64encode(hashlib.sha256(bodies[SEMGREP]).digest()).decode()
    )
    assert (semgrep.object_lock_mode, semgrep.object_lock_retain_until) == (
        "COMPLIANCE",
        COMPLIANCE_UNTIL,
    )
    assert semgrep.version_id is not None
    assert semgrep.etag == hashlib.md5(bodies[SEMGREP]).hexdigest()
    assert semgrep.retrieved_at == NOW
    assert semgrep.produced_at == datetime(2026, 7, 14, tzinfo=UTC)  # the key's date
    trivy = items[f"s3://evidence-locked/{TRIVY}"]
    assert (trivy.gate, trivy.object_lock_mode) == ("image-scan", "GOVERNANCE")
    assert trivy.object_lock_retain_until == GOVERNANCE_UNTIL
    assert trivy.checksum_sha256 is None  # uploaded with boto3's default CRC32 only
    grype = items[f"s3://evidence-locked/{GRYPE}"]
    assert (grype.gate, grype.repository, grype.object_lock_mode) == (
        "dependency-scan",
        "acme-api",
        None,
    )
    assert len(findings) == 1 + 42 + 2


def test_invalid_objects_are_gaps_naming_their_key(s3: S3, data_dir: Path, tmp_path: Path) -> None:
    _fill_evidence_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://evidence-locked/ci")
        gaps = locker.gaps()

    base = "s3://evidence-locked/ci/acme-web/sast/2026-07-2"
    assert [(gap.kind, gap.source, gap.reason) for gap in gaps] == [
        (
            GapKind.MALFORMED,
            f"{base}0/broken.sarif.gz",
            f"{base}0/broken.sarif.gz: cannot be read "
            "(Compressed file ended before the end-of-stream marker was reached)",
        ),
        (
            GapKind.MALFORMED,
            f"{base}1/error.sarif",
            f"{base}1/error.sarif: is not JSON (lexical error: invalid char in json text.)",
        ),
        (
            GapKind.MALFORMED,
            f"{base}2/empty.sarif",
            f"{base}2/empty.sarif: is empty, not a SARIF log",
        ),
    ]
    assert {gap.gate for gap in gaps} == {"sast"}
    assert {gap.repository for gap in gaps} == {"acme-web"}
    assert len(summary.gaps) == 3


def test_recollection_downloads_nothing_already_held(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    _fill_evidence_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        _collect(locker, s3, "s3://evidence-locked/ci")
        first = dict(s3.calls)
        s3.calls.clear()
        second = _collect(locker, s3, "s3://evidence-locked/ci")
        items, gaps = len(locker.items()), len(locker.gaps())
        [population] = locker.populations()

    assert first == {
        "ListObjectsV2": 1,
        "HeadObject": 6,
        "GetObjectAttributes": 6,
        "GetObject": 6,
    }
    assert dict(s3.calls) == {"ListObjectsV2": 1}
    assert (second.downloaded, second.already_collected, second.new_items) == (0, 6, 0)
    # The three unreadable objects are held too, each with its gap.
    assert (items, gaps) == (6, 3)
    assert (population.count, population.source_count) == (6, 6)


def test_a_new_version_is_collected_beside_the_old_one(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    _fill_evidence_bucket(s3, data_dir)
    newer = _sarif(data_dir, "semgrep/semgrep_oss_1.66.2_empty.sarif")

    with Locker.open(tmp_path / "locker") as locker:
        _collect(locker, s3, "s3://evidence-locked/ci")
        s3.setup.put_object(Bucket="evidence-locked", Key=SEMGREP, Body=newer)
        s3.calls.clear()
        third = _collect(locker, s3, "s3://evidence-locked/ci")
        versions = locker.items_from(f"s3://evidence-locked/{SEMGREP}")

    assert (s3.calls["GetObject"], third.new_items) == (1, 1)
    assert [item.sha256 for item in versions][1] == hashlib.sha256(newer).hexdigest()
    assert len({item.version_id for item in versions}) == 2
    assert [item.object_lock_mode for item in versions] == ["COMPLIANCE", None]


def test_falcosidekick_objects_become_runtime_evidence(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    _fill_falco_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://falco-alerts/falco", template=None)
        items = locker.items()
        events = [event for _, event in locker.falco_events()]
        gaps = locker.gaps()
        populations = locker.populations()

    assert (summary.listed, summary.in_period, summary.new_items) == (4, 3, 2)
    assert {(item.kind, item.gate) for item in items} == {
        (ItemKind.FALCO_EVENTS, "runtime-detection")
    }
    assert [(e.time, e.priority, e.internal) for e in events] == [
        (datetime(2026, 7, 1, 9, 59, 59, 999999, tzinfo=UTC), "Critical", False),
        (datetime(2026, 7, 2, 7, 59, 58, 500000, tzinfo=UTC), "Informational", True),
    ]
    bad = "s3://falco-alerts/falco/2026-07-03/2026-07-03T11:00:00Z.json"
    assert [(gap.kind, gap.source, gap.reason) for gap in gaps] == [
        (
            GapKind.MALFORMED,
            bad,
            f"{bad}: no Falco event could be read "
            "(time '2021-04-13T20:58:00.746609046Z+2' is not RFC 3339)",
        )
    ]
    [population] = populations
    # Three objects of the period listed, three held: the third, unreadable, is the gap above.
    assert (population.source, population.count, population.source_count) == (
        "s3://falco-alerts/falco",
        3,
        3,
    )
    assert population.query == (
        "ListObjectsV2 Bucket=falco-alerts Prefix='falco' (4 objects); those dated "
        "2026-07-01..2026-09-30 by LastModified or falcosidekick's date folder"
    )
    assert population.extracted_at == NOW


def test_several_locations_in_one_collection(s3: S3, data_dir: Path, tmp_path: Path) -> None:
    _fill_evidence_bucket(s3, data_dir)
    _fill_falco_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://evidence-locked/ci", "s3://falco-alerts/falco")

    # The template does not fit falcosidekick keys: their date folder dates them instead.
    assert (summary.listed, summary.in_period, summary.new_items) == (11, 9, 5)


def _respond(status: int, code: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    return AWSResponse("http://s3", status, {}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_throttling_and_dropped_connections_are_retried(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    _fill_falco_bucket(s3, data_dir)
    failures = iter(["slowdown", "dropped"])

    def flaky(request: Any, **_: Any) -> AWSResponse | None:
        failure = next(failures, None)
        if failure == "slowdown":
            return _respond(503, "SlowDown")
        if failure == "dropped":
            raise ConnectionClosedError(endpoint_url=request.url)
        return None

    s3.client.meta.events.register("before-send.s3.GetObject", flaky)
    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://falco-alerts/falco", template=None)

    assert (summary.downloaded, summary.new_items, len(summary.gaps)) == (3, 2, 1)


def test_an_object_that_keeps_failing_is_a_fetch_gap(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    _fill_falco_bucket(s3, data_dir)

    def drop(request: Any, **_: Any) -> None:
        if "2026-07-02" in request.url:
            raise ConnectionClosedError(endpoint_url=request.url)

    s3.client.meta.events.register("before-send.s3.GetObject", drop)
    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://falco-alerts/falco", template=None)
        gaps = [gap for gap in locker.gaps() if gap.kind is GapKind.FETCH_FAILED]

    key = "s3://falco-alerts/falco/2026-07-02/2026-07-02T08:00:00+02:00.json"
    url = f"{s3.endpoint}/falco-alerts/falco/2026-07-02/2026-07-02T08%3A00%3A00%2B02%3A00.json"
    assert (summary.new_items, s3.calls["GetObject"]) == (1, 3)
    assert [(gap.source, gap.reason) for gap in gaps] == [
        (
            key,
            f"{key}: Connection was closed before we received a valid response from endpoint "
            f'URL: "{url}".',
        )
    ]


def test_a_checksum_that_does_not_match_the_bytes_is_a_gap(
    s3: S3, data_dir: Path, tmp_path: Path
) -> None:
    s3.setup.create_bucket(Bucket="evidence-plain")
    body = _sarif(data_dir, "grype/grype_directory_scan.sarif")
    s3.setup.put_object(Bucket="evidence-plain", Key=GRYPE, Body=body, ChecksumAlgorithm="SHA256")
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()

    def corrupt(parsed: dict[str, Any], **_: Any) -> None:
        # The store vouches for other bytes than those that arrived (damage in transit).
        parsed["Checksum"]["ChecksumSHA256"] = wrong

    s3.client.meta.events.register("after-call.s3.GetObjectAttributes", corrupt)
    with Locker.open(tmp_path / "locker") as locker:
        summary = _collect(locker, s3, "s3://evidence-plain/ci")
        items, gaps = locker.items(), locker.gaps()

    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert (summary.new_items, items) == (0, [])
    assert [(gap.kind, gap.reason) for gap in gaps] == [
        (
            GapKind.FETCH_FAILED,
            f"s3://evidence-plain/{GRYPE}: downloaded bytes do not match S3's "
            f"ChecksumSHA256 ({wrong} != {expected})",
        )
    ]


def test_worm_status_per_gate(s3: S3, data_dir: Path, tmp_path: Path) -> None:
    _fill_evidence_bucket(s3, data_dir)
    _fill_falco_bucket(s3, data_dir)

    with Locker.open(tmp_path / "locker") as locker:
        _collect(locker, s3, "s3://evidence-locked/ci", "s3://falco-alerts/falco")
        summary = worm_summary(locker, Q3)

    assert summary == {
        "dependency-scan": WormStatus("dependency-scan", 1, 0, (), None, (1,)),
        "image-scan": WormStatus("image-scan", 1, 1, (("GOVERNANCE", 1),), GOVERNANCE_UNTIL, (2,)),
        # the unreadable objects count too: they are what the bucket holds
        "runtime-detection": WormStatus("runtime-detection", 3, 0, (), None, (7, 8, 9)),
        "sast": WormStatus("sast", 4, 1, (("COMPLIANCE", 1),), COMPLIANCE_UNTIL, (3, 4, 5, 6)),
    }


def test_a_missing_bucket_stops_with_one_line(s3: S3, tmp_path: Path) -> None:
    with Locker.open(tmp_path / "locker") as locker, pytest.raises(S3Error) as raised:
        _collect(locker, s3, "s3://no-such-bucket/ci")

    assert str(raised.value) == (
        "s3://no-such-bucket/ci: cannot list objects "
        "(NoSuchBucket (HTTP 404): The specified bucket does not exist)"
    )
