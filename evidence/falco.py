"""Falco runtime alerts: falcosidekick one-event objects and json_output lines, read into events.

Falco writes one JSON object per alert (`json_output: true`), one per line; falcosidekick
writes each event as its own S3 object. Both carry the same fields: uuid (sidekick only),
output, priority, rule, time, output_fields, source, tags, hostname. Lines from before 2021
lack source, hostname and tags; `output_fields` values may be null. Command lines in the
output are redacted before anything is stored.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.importer import ImportResult, Origin, evidence_item, record_malformed
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import (
    FalcoEvent,
    GateId,
    ItemKind,
)
from auditpack.evidence.redact import REDACTED, redact_text

log = logging.getLogger(__name__)

# Falco's priorities, worst first (falco.yaml `priority`); falcosidekick capitalises them.
PRIORITIES = (
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
)
_PRIORITY_NAMES = {name.lower(): name for name in PRIORITIES} | {"info": "Informational"}

# RFC 3339 as Falco writes it: nine fractional digits, `Z`; sidekick keys may carry an offset.
_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
# A secret passed as its own argument (`--password hunter2`) is no `key=value` assignment,
# so the general redaction would leave it; command lines are where Falco shows them. The
# flag must end in the word: `-secret-dir /secrets` names a folder, not a secret.
_SECRET_FLAG = re.compile(
    r"(?P<flag>(?<!\S)--?(?:[\w-]*[-_])?(?:password|passwd|passphrase|secret|token|api-?key))"
    r"(?P<gap>\s+)(?!\[REDACTED\])(?P<value>[^\s)\"']+)",
    re.IGNORECASE,
)
_GZIP_MAGIC = b"\x1f\x8b"


def priority_rank(priority: str) -> int:
    """7 for Emergency down to 0 for Debug; -1 for a name Falco does not use."""
    return len(PRIORITIES) - 1 - PRIORITIES.index(priority) if priority in PRIORITIES else -1


@dataclass(frozen=True)
class FalcoProblem:
    """An event that could not be read: `position` is its line (json_output) or 1 (sidekick)."""

    position: int
    reason: str


@dataclass(frozen=True)
class FalcoBatch:
    events: tuple[FalcoEvent, ...]
    problems: tuple[FalcoProblem, ...]
    redacted: bool  # some output held a secret that was removed


class FalcoFormatError(ValueError):
    """The bytes are not Falco events at all (empty, not JSON, a truncated gzip)."""


def parse_falco(data: bytes, secrets: Iterable[str] = ()) -> FalcoBatch:
    """Read a falcosidekick object or json_output lines (plain or gzipped) into events."""
    text = _text(data)
    known = tuple(secrets)
    events: list[FalcoEvent] = []
    problems: list[FalcoProblem] = []
    redacted = False
    for position, document in _documents(text):
        try:
            event, changed = event_from_json(document, known)
        except ValueError as error:
            problems.append(FalcoProblem(position, str(error)))
            continue
        events.append(event)
        redacted = redacted or changed
    if not events:
        first = problems[0].reason if problems else "no events"
        raise FalcoFormatError(f"no Falco event could be read ({first})")
    return FalcoBatch(tuple(events), tuple(problems), redacted)


def _text(data: bytes) -> str:
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise FalcoFormatError(f"truncated or corrupt gzip ({error})") from None
    if not data.strip():
        raise FalcoFormatError("the object is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FalcoFormatError(f"not UTF-8 text (byte {error.start})") from None


def _documents(text: str) -> Iterator[tuple[int, Any]]:
    """One pretty-printed object (sidekick, the docs' snapshot) or one object per line."""
    try:
        yield 1, json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            yield number, _Unreadable(f"not JSON ({error.msg} at column {error.colno})")


@dataclass(frozen=True)
class _Unreadable:
    reason: str


def event_from_json(document: Any, secrets: Iterable[str] = ()) -> tuple[FalcoEvent, bool]:
    """One event from its JSON object; returns it and whether redaction changed its output."""
    if isinstance(document, _Unreadable):
        raise ValueError(document.reason)
    if not isinstance(document, dict):
        raise ValueError(f"a JSON {type(document).__name__}, not an event object")
    rule = _text_field(document, "rule")
    output = document.get("output")
    output = output if isinstance(output, str) else ""
    clean = redact_command_line(output, secrets)
    source = _optional_text(document.get("source"))
    event = FalcoEvent(
        time=_event_time(document),
        priority=_priority(document.get("priority")),
        rule=rule,
        output=clean,
        source=source,
        hostname=_optional_text(document.get("hostname")),
        uuid=_optional_text(document.get("uuid")),
        internal=source == "internal" or rule.startswith("Falco internal:"),
    )
    return event, clean != output


def redact_command_line(text: str, secrets: Iterable[str] = ()) -> str:
    """Output with secrets removed, including values given as separate `--password X` words."""
    text = redact_text(text, secrets)
    return _SECRET_FLAG.sub(lambda m: f"{m['flag']}{m['gap']}{REDACTED}", text)


def _text_field(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"no {name!r}")
    return value


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _priority(value: Any) -> str:
    name = _PRIORITY_NAMES.get(str(value).lower()) if isinstance(value, str) else None
    if name is None:
        raise ValueError(f"priority {value!r} is not a Falco priority")
    return name


def _event_time(document: dict[str, Any]) -> datetime:
    """`time` in RFC 3339; lines without it fall back to `evt.time`, nanoseconds since 1970."""
    text = document.get("time")
    if text is None:
        fields = document.get("output_fields")
        nanoseconds = fields.get("evt.time") if isinstance(fields, dict) else None
        if isinstance(nanoseconds, int) and not isinstance(nanoseconds, bool):
            return from_nanoseconds(nanoseconds)
        raise ValueError("no 'time' and no 'output_fields.evt.time'")
    if not isinstance(text, str):
        raise ValueError(f"time {text!r} is not RFC 3339 text")
    return parse_falco_time(text)


def parse_falco_time(text: str) -> datetime:
    """RFC 3339 with up to nine fractional digits, in UTC; Python keeps microseconds."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"time {text!r} is not RFC 3339")
    fraction = (match[2] or "").ljust(6, "0")[:6]
    zone = "+00:00" if match[3].upper() == "Z" else match[3]
    try:
        moment = datetime.fromisoformat(f"{match[1]}.{fraction}{zone}")
    except ValueError as error:
        raise ValueError(f"time {text!r} is not a real moment ({error})") from None
    return moment.astimezone(UTC)


def from_nanoseconds(value: int) -> datetime:
    seconds, nanoseconds = divmod(value, 1_000_000_000)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)


def runtime_gate(matrix: ControlMatrix) -> GateId | None:
    """The matrix gate that Falco evidences: the one marked `runtime: true`."""
    return next((gate.id for gate in matrix.gates if gate.runtime), None)


def import_falco(locker: Locker, matrix: ControlMatrix, path: Path, origin: Origin) -> ImportResult:
    """Store a Falco object and index its events; unreadable events become gaps, one each."""
    blob = locker.store_file(path)
    existing = locker.item_id(blob.sha256, origin.source, origin.version_id)
    if existing is not None:
        return ImportResult(existing, False, 0)
    gate = origin.gate or runtime_gate(matrix)
    try:
        batch = parse_falco(locker.blob_path(blob.sha256).read_bytes())
    except FalcoFormatError as error:
        reason = f"{origin.source}: {error}"
        unreadable = (blob, ItemKind.FALCO_EVENTS)
        return record_malformed(locker, origin, reason, gate=gate, unreadable=unreadable)
    produced = max(event.time for event in batch.events)
    item = evidence_item(blob, ItemKind.FALCO_EVENTS, origin, produced, gate, batch.redacted)
    with locker.transaction() as writer:
        item_id, new = writer.add_item(item)
        count = writer.add_falco_events(item_id, batch.events) if new else 0
        writer.resolve_gaps(origin.source)
    for problem in batch.problems:
        reason = f"{origin.source}: event {problem.position}: {problem.reason}"
        source = f"{origin.source}#{problem.position}"
        record_malformed(locker, origin, reason, source=source, gate=gate)
    return ImportResult(item_id, new, count)


def import_falco_bytes(
    locker: Locker, matrix: ControlMatrix, data: bytes, origin: Origin
) -> ImportResult:
    """The same as `import_falco` for bytes already in memory (tests, small objects)."""
    with tempfile.NamedTemporaryFile(dir=locker.root / "tmp") as handle:
        handle.write(data)
        handle.flush()
        return import_falco(locker, matrix, Path(handle.name), origin)
