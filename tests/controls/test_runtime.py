"""Runtime detection coverage from Falco events in the locker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.results import RuntimeEvent
from auditpack.controls.runtime import UNKNOWN_HOST, assess_runtime
from auditpack.evidence.falco import import_falco_bytes
from auditpack.evidence.importer import Origin
from auditpack.evidence.locker import Locker

RETRIEVED = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def locker(data_dir: Path, tmp_path: Path) -> Iterator[Locker]:
    """Real Falco events, moved onto 24-26 May 2023 where needed; one event stays outside."""
    falco = data_dir / "falco"
    objects = [
        ("channels", (falco / "website_docs_outputs_channels.jsonl").read_bytes()),
        (
            "readme",
            (falco / "falcosidekick_readme_example_event.json")
            .read_bytes()
            .replace(b"2019-05-17T15:31:56.746609046Z", b"2023-05-24T23:59:59.999999999Z"),
        ),
        (
            "eks-moved",
            (falco / "website_blog_k8saudit_eks.jsonl")
            .read_bytes()
            .replace(b"2023-05-10", b"2023-05-25"),
        ),
        (
            "ovh-moved",
            (falco / "website_blog_ovh_k8saudit.jsonl")
            .read_bytes()
            .replace(b"2025-02-10", b"2023-05-26"),
        ),
        (
            "snapshot-moved",
            (falco / "website_docs_metrics_snapshot_internal.json")
            .read_bytes()
            .replace(b"2025-05-29T22:19:58.960296886Z", b"2023-05-26T00:00:00.5Z"),
        ),
        ("eks", (falco / "website_blog_k8saudit_eks.jsonl").read_bytes()),
    ]
    opened = Locker.open(tmp_path / "locker")
    matrix = load_matrix()
    for name, data in objects:
        origin = Origin(source=f"s3://falco-bucket/{name}.json", retrieved_at=RETRIEVED)
        assert import_falco_bytes(opened, matrix, data, origin).new
    yield opened
    opened.close()


def test_days_covered_by_events_or_heartbeats(locker: Locker) -> None:
    coverage = assess_runtime(locker, parse_period("2023-05-24..2023-05-27"))

    assert coverage.days_total == 4
    assert coverage.days_with_events == 3
    assert coverage.missing_days == (date(2023, 5, 27),)
    assert (coverage.events, coverage.heartbeats) == (8, 1)
    assert coverage.item_ids == (1, 2, 3, 4, 5)


def test_rules_busiest_first_then_worst_priority(locker: Locker) -> None:
    coverage = assess_runtime(locker, parse_period("2023-05-24..2023-05-27"))

    assert coverage.rules == (
        ("Disallowed K8s User", "Warning", 3),
        ("Attach/Exec Pod", "Notice", 2),
        ("Terminal shell in container", "Critical", 1),
        ("Write below binary dir", "Error", 1),
        ("K8s Serviceaccount Created", "Informational", 1),
    )


def test_critical_and_error_events_with_host_and_time(locker: Locker) -> None:
    coverage = assess_runtime(locker, parse_period("2023-05-24..2023-05-27"))

    assert coverage.serious_events == (
        RuntimeEvent(
            time=datetime(2023, 5, 24, 23, 59, 59, 999999, tzinfo=UTC),
            priority="Error",
            rule="Write below binary dir",
            hostname="localhost",
            output=(
                "16:31:56.746609046: Error File below a known binary directory opened for "
                "writing (user=root command=touch /bin/hack file=/bin/hack)"
            ),
            item_id=2,
        ),
        RuntimeEvent(
            time=datetime(2023, 5, 25, 13, 44, 5, 478445, tzinfo=UTC),
            priority="Critical",
            rule="Terminal shell in container",
            hostname="falco-xczjd",
            output=(
                "13:44:05.478445995: Critical A shell was spawned in a container with an "
                "attached terminal (user=root user_loginuid=-1 k8s.ns=default k8s.pod=kubecon "
                "container=ee97d9c4186f shell=sh parent=runc cmdline=sh -c clear; "
                "(bash || ash || sh) terminal=34816 container_id=ee97d9c4186f "
                "image=docker.io/library/alpine)"
            ),
            item_id=1,
        ),
    )


def test_a_period_without_events_misses_every_day(locker: Locker) -> None:
    coverage = assess_runtime(locker, parse_period("2023-06"))

    assert (coverage.days_total, coverage.days_with_events, coverage.events) == (30, 0, 0)
    assert coverage.missing_days[0] == date(2023, 6, 1)
    assert len(coverage.missing_days) == 30
    assert coverage.rules == ()
    assert coverage.serious_events == ()


def test_an_event_without_hostname_is_shown_as_such(data_dir: Path, tmp_path: Path) -> None:
    data = (data_dir / "falco" / "falco_repo_k8s_daemonset_2017.jsonl").read_bytes()
    data = data.replace(b'"priority":"Notice"', b'"priority":"Error"')
    with Locker.open(tmp_path / "locker") as locker:
        import_falco_bytes(locker, load_matrix(), data, Origin("old.jsonl", RETRIEVED))
        coverage = assess_runtime(locker, parse_period("2017-12"))

    assert [event.hostname for event in coverage.serious_events] == [UNKNOWN_HOST]
    assert len(coverage.missing_days) == 30
    assert date(2017, 12, 20) not in coverage.missing_days
