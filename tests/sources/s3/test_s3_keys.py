"""What keys say: S3 URIs, key templates, and the day an object belongs to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from auditpack.evidence.sources.s3 import (
    KeyFacts,
    KeyTemplate,
    ListedObject,
    S3Error,
    S3Location,
    object_day,
    parse_s3_uri,
)

UPLOADED = datetime(2026, 8, 9, 23, 30, tzinfo=UTC)


def _listed(key: str) -> ListedObject:
    return ListedObject(key=key, size=10, last_modified=UPLOADED, etag="e")


def test_s3_uris() -> None:
    assert parse_s3_uri("s3://bucket/ci/reports") == S3Location("bucket", "ci/reports")
    assert parse_s3_uri("s3://bucket") == S3Location("bucket", "")
    with pytest.raises(S3Error, match="expected an S3 URI"):
        parse_s3_uri("bucket/ci")
    with pytest.raises(S3Error, match="names no bucket"):
        parse_s3_uri("s3:///ci")


def test_a_template_reads_repository_gate_and_date() -> None:
    template = KeyTemplate("{repo}/{gate}/{date}/{name}")

    assert template.match("acme-web/sast/2026-07-14/semgrep.sarif") == KeyFacts(
        "acme-web", "sast", date(2026, 7, 14)
    )
    assert template.match("acme-web/sast/2026-07-14/nested/run.sarif.gz") == KeyFacts(
        "acme-web", "sast", date(2026, 7, 14)
    )
    assert template.match("acme-web/sast/latest.sarif") is None
    assert template.match("acme-web/sast/2026-02-30/x.sarif") is None  # no such day


def test_owner_and_repo_make_a_repository() -> None:
    template = KeyTemplate("{owner}/{repo}/{any}/{gate}-{date}.sarif")

    assert template.match("acme/web/run-17/iac-scan-2026-09-01.sarif") == KeyFacts(
        "acme/web", "iac-scan", date(2026, 9, 1)
    )


def test_an_unknown_template_field_is_refused() -> None:
    with pytest.raises(S3Error, match=r"unknown field \{branch\}"):
        KeyTemplate("{repo}/{branch}/{name}")


def test_the_template_sees_the_key_below_the_prefix() -> None:
    location = S3Location("bucket", "ci")
    template = KeyTemplate("{repo}/{gate}/{date}/{name}")

    day, facts = object_day(location, _listed("ci/acme/sast/2026-07-01/a.sarif"), template)

    assert (day, facts.repository) == (date(2026, 7, 1), "acme")


def test_falcosidekick_date_folders_date_objects() -> None:
    key = "falco/2026-07-31/2026-08-01T01:30:00.5+02:00.json"

    day, facts = object_day(S3Location("bucket", "falco"), _listed(key), None)

    assert (day, facts) == (date(2026, 7, 31), KeyFacts())


def test_otherwise_last_modified_dates_objects() -> None:
    day, _ = object_day(S3Location("bucket", ""), _listed("reports/semgrep.sarif"), None)

    assert day == date(2026, 8, 9)
