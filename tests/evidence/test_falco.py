"""Falco events from real json_output lines and falcosidekick objects, and their import."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditpack.controls.matrix import load_matrix
from auditpack.evidence.falco import (
    FalcoFormatError,
    import_falco_bytes,
    parse_falco,
    parse_falco_time,
    redact_command_line,
)
from auditpack.evidence.importer import Origin
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import FalcoEvent, GapKind, ItemKind

RETRIEVED = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)


def _read(data_dir: Path, name: str) -> bytes:
    return (data_dir / "falco" / name).read_bytes()


def test_a_2017_line_without_source_hostname_or_tags(data_dir: Path) -> None:
    batch = parse_falco(_read(data_dir, "falco_repo_k8s_daemonset_2017.jsonl"))

    assert batch.problems == ()
    assert batch.redacted is False
    [event] = batch.events
    assert event == FalcoEvent(
        time=datetime(2017, 12, 20, 17, 48, 58, 590038, tzinfo=UTC),
        priority="Notice",
        rule="Terminal shell in container",
        output=(
            "17:48:58.590038385: Notice A shell was spawned in a container with an attached "
            "terminal (user=root k8s.pod=falco-74htl container=a98c2aa8e670 shell=bash "
            "parent=<NA> cmdline=bash  terminal=34816)"
        ),
    )


def test_a_falcosidekick_event_keeps_hostname(data_dir: Path) -> None:
    [event] = parse_falco(_read(data_dir, "falcosidekick_readme_example_event.json")).events

    assert event.hostname == "localhost"
    assert event.priority == "Error"
    assert event.rule == "Write below binary dir"
    assert event.time == datetime(2019, 5, 17, 15, 31, 56, 746609, tzinfo=UTC)
    assert event.source is None


def test_sidekick_test_event_with_tags_and_no_fraction(data_dir: Path) -> None:
    [event] = parse_falco(_read(data_dir, "falcosidekick_test_input_event.json")).events

    assert event.time == datetime(2001, 1, 1, 1, 10, tzinfo=UTC)
    assert (event.priority, event.source, event.hostname) == ("Debug", "syscalls", "test-host")
    assert event.internal is False


def test_the_metrics_snapshot_is_a_heartbeat(data_dir: Path) -> None:
    # Pretty-printed over 33 lines: one document, not JSON lines.
    [event] = parse_falco(_read(data_dir, "website_docs_metrics_snapshot_internal.json")).events

    assert event.internal is True
    assert event.rule == "Falco internal: metrics snapshot"
    assert event.priority == "Informational"
    assert event.time == datetime(2025, 5, 29, 22, 19, 58, 960296, tzinfo=UTC)


def test_json_lines_give_one_event_per_line(data_dir: Path) -> None:
    batch = parse_falco(_read(data_dir, "website_blog_ovh_k8saudit.jsonl"))

    assert [(e.priority, e.rule) for e in batch.events] == [
        ("Warning", "Disallowed K8s User"),
        ("Warning", "Disallowed K8s User"),
        ("Warning", "Disallowed K8s User"),
        ("Notice", "Attach/Exec Pod"),
    ]
    assert {e.hostname for e in batch.events} == {"my-pool-1-node-921b61"}
    assert batch.events[3].time == datetime(2025, 2, 10, 9, 29, 46, 302906, tzinfo=UTC)


def test_null_output_field_values_are_read(data_dir: Path) -> None:
    [event] = parse_falco(
        _read(data_dir, "website_blog_response_engine_kubeless_2021.jsonl")
    ).events

    assert event.time == datetime(2021, 1, 14, 23, 39, 44, 834631, tzinfo=UTC)


def test_a_folder_flag_is_not_taken_for_a_secret(data_dir: Path) -> None:
    batch = parse_falco(_read(data_dir, "website_blog_response_engine_fission.jsonl"))

    assert batch.redacted is False
    assert "-secret-dir /secrets -cfgmap-dir" in batch.events[1].output


def test_a_malformed_time_alone_is_no_event(data_dir: Path) -> None:
    with pytest.raises(FalcoFormatError) as raised:
        parse_falco(_read(data_dir, "website_blog_sidekick_test_event_bad_time.json"))

    assert str(raised.value) == (
        "no Falco event could be read (time '2021-04-13T20:58:00.746609046Z+2' is not RFC 3339)"
    )


def test_a_malformed_line_among_good_ones_is_a_problem(data_dir: Path) -> None:
    lines = _read(data_dir, "website_blog_k8saudit_eks.jsonl").rstrip(b"\n")
    bad = _read(data_dir, "website_blog_sidekick_test_event_bad_time.json").strip()
    batch = parse_falco(lines + b"\n\n" + bad + b"\n{not json\n")

    assert len(batch.events) == 2
    assert [(p.position, p.reason) for p in batch.problems] == [
        (4, "time '2021-04-13T20:58:00.746609046Z+2' is not RFC 3339"),
        (5, "not JSON (Expecting property name enclosed in double quotes at column 2)"),
    ]


def test_gzipped_lines_read_like_plain_ones(data_dir: Path) -> None:
    data = _read(data_dir, "website_blog_ovh_k8saudit.jsonl")

    assert parse_falco(gzip.compress(data)) == parse_falco(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the object is empty"),
        (b"  \n", "the object is empty"),
        (b"<html><body>503 Service Unavailable</body></html>", "no Falco event could be read"),
        (b"[1, 2]", "no Falco event could be read (a JSON list, not an event object)"),
        (b'{"rule": "x", "priority": "Loud", "time": "2026-07-01T00:00:00Z"}', "'Loud'"),
    ],
)
def test_what_is_not_falco_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(FalcoFormatError) as raised:
        parse_falco(data)

    assert reason in str(raised.value)


def test_a_truncated_gzip_is_refused(data_dir: Path) -> None:
    data = gzip.compress(_read(data_dir, "website_blog_ovh_k8saudit.jsonl"))

    with pytest.raises(FalcoFormatError, match="truncated or corrupt gzip"):
        parse_falco(data[: len(data) // 2])


def test_evt_time_in_nanoseconds_stands_in_for_a_missing_time() -> None:
    line = b'{"rule": "r", "priority": "info", "output": "o", "output_fields": {"evt.time": '
    line += b"1683727757699479123}}"

    [event] = parse_falco(line).events

    assert event.time == datetime(2023, 5, 10, 14, 9, 17, 699479, tzinfo=UTC)
    assert event.priority == "Informational"


def test_times_with_offsets_become_utc() -> None:
    moment = parse_falco_time("2024-05-17T17:31:56.746609046+02:00")

    assert moment == datetime(2024, 5, 17, 15, 31, 56, 746609, tzinfo=UTC)


def test_secrets_in_command_lines_are_redacted() -> None:
    line = (
        b'{"rule": "Run shell untrusted", "priority": "Critical", "time": "2026-07-01T10:00:00Z",'
        b' "output": "cmdline=mysql --password hunter22 -h db AWS_KEY=AKIAIOSFODNN7EXAMPLE"}'
    )

    batch = parse_falco(line)

    assert batch.redacted is True
    assert batch.events[0].output == "cmdline=mysql --password [REDACTED] -h db AWS_KEY=[REDACTED]"


def test_command_line_redaction_leaves_plain_commands() -> None:
    assert redact_command_line("sh -c clear; (bash || ash || sh)") == (
        "sh -c clear; (bash || ash || sh)"
    )
    assert redact_command_line("curl --api-key abc123def x") == "curl --api-key [REDACTED] x"


def test_import_stores_the_item_its_events_and_a_gap_per_bad_event(
    data_dir: Path, tmp_path: Path
) -> None:
    data = _read(data_dir, "website_docs_outputs_channels.jsonl")
    data += _read(data_dir, "website_blog_sidekick_test_event_bad_time.json")
    data += _read(data_dir, "falco_repo_k8s_daemonset_2017.jsonl")
    origin = Origin(source="s3://falco-bucket/falco/events.jsonl", retrieved_at=RETRIEVED)

    with Locker.open(tmp_path / "locker") as locker:
        result = import_falco_bytes(locker, load_matrix(), data, origin)
        again = import_falco_bytes(locker, load_matrix(), data, origin)
        [item] = locker.items()
        stored = locker.falco_events()
        [gap] = locker.gaps()

    assert (result.new, result.records, again.new, again.item_id) == (True, 2, False, 1)
    assert item.kind is ItemKind.FALCO_EVENTS
    assert item.gate == "runtime-detection"
    assert item.produced_at == datetime(2023, 5, 25, 13, 44, 5, 478445, tzinfo=UTC)
    assert [(item_id, e.rule, e.priority, e.hostname) for item_id, e in stored] == [
        (1, "Terminal shell in container", "Notice", None),
        (1, "Terminal shell in container", "Critical", "falco-xczjd"),
    ]
    assert (gap.kind, gap.source) == (GapKind.MALFORMED, "s3://falco-bucket/falco/events.jsonl#2")
    assert gap.reason == (
        "s3://falco-bucket/falco/events.jsonl: event 2: "
        "time '2021-04-13T20:58:00.746609046Z+2' is not RFC 3339"
    )
    assert gap.gate == "runtime-detection"


def test_import_of_an_unreadable_object_records_one_gap(tmp_path: Path) -> None:
    origin = Origin(source="s3://falco-bucket/falco/empty.json", retrieved_at=RETRIEVED)

    with Locker.open(tmp_path / "locker") as locker:
        result = import_falco_bytes(locker, load_matrix(), b"", origin)
        items, gaps = locker.items(), locker.gaps()

    # Kept as it arrived (its hash is evidence that something did), and recorded as a gap.
    [item] = items
    assert result.item_id == 1
    assert (item.kind, item.size, item.gate) == (ItemKind.FALCO_EVENTS, 0, "runtime-detection")
    assert item.note == f"unreadable: {origin.source}: the object is empty"
    assert [(g.kind, g.source, g.reason) for g in gaps] == [
        (GapKind.MALFORMED, origin.source, f"{origin.source}: the object is empty")
    ]


def test_the_locker_returns_events_of_a_time_window(data_dir: Path, tmp_path: Path) -> None:
    data = _read(data_dir, "website_blog_ovh_k8saudit.jsonl")
    origin = Origin(source="ovh.jsonl", retrieved_at=RETRIEVED)

    with Locker.open(tmp_path / "locker") as locker:
        import_falco_bytes(locker, load_matrix(), data, origin)
        window = locker.falco_events(
            datetime(2025, 2, 10, 9, 15, 50, tzinfo=UTC), datetime(2025, 2, 10, 9, 29, tzinfo=UTC)
        )

    assert [event.time.second for _, event in window] == [57, 57]
