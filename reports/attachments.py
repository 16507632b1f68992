"""The files embedded in a pack: manifest, population exports, and the raw evidence up to a cap.

The raw evidence travels as one ZIP, `evidence.zip`, an entry per item: thousands of items as
separate embedded files slow the render and bury the populations in the PDF's attachment pane.
A pack travels to auditors and clients, so no secret travels with it: an item that holds
secrets (a Gitleaks report) is embedded only as a redacted copy, and the manifest gives the
original's hash, the copy's, and what was redacted. Items beyond the size cap are listed in
the manifest with their hash and locker path, to be checked against the locker instead.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.population import (
    DEFAULT_BRANCH,
    GatePopulation,
    control_populations,
    population_csv,
    population_xlsx,
)
from auditpack.controls.sampling import draw_samples
from auditpack.evidence.locker import Locker
from auditpack.evidence.redact import REDACTED, redact_text
from auditpack.reports.pack import ManifestEntry, Pack, PackFile, manifest_bytes
from auditpack.reports.pdf import PackAttachment
from auditpack.reports.verify import MANIFEST_NAME

DEFAULT_ATTACH_LIMIT = 25_000_000  # bytes of raw evidence; the rest is listed, not embedded
EVIDENCE_ARCHIVE = "evidence.zip"
_GZIP_MAGIC = b"\x1f\x8b"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# Every entry gets the same metadata, so the same items give the same archive bytes: the
# earliest time a ZIP can state, and "regular file, rw-r--r--" as a Unix zip writes it.
_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)
_ENTRY_ATTRS = (stat.S_IFREG | 0o644) << 16
_UNIX = 3  # the "made by" system, fixed: zipfile's default depends on the platform
_COMPRESSLEVEL = 6


@dataclass(frozen=True)
class ArchiveEntry:
    """An evidence item's bytes (or its redacted copy's) as an entry of the evidence archive."""

    name: str
    data: bytes


@dataclass(frozen=True)
class RedactedCopy:
    data: bytes
    description: str


class RedactionError(ValueError):
    """An item with secrets that cannot be parsed, so cannot be redacted: it is not attached."""


def add_populations(
    pack: Pack,
    locker: Locker,
    matrix: ControlMatrix,
    default_branch: str = DEFAULT_BRANCH,
    seeds: Mapping[str, int] | None = None,
) -> Pack:
    """The pack with each control's population and sample (seeds derived unless given)."""
    period = pack.assessment.period
    controls = [assessed.control for assessed in pack.assessment.controls]
    populations = control_populations(locker, matrix, period, controls, default_branch)
    samples = draw_samples(matrix, populations, dict(seeds or {}))
    return replace(pack, populations_by_control=populations, samples=samples)


def build_attachments(
    locker: Locker, pack: Pack, attach_limit: int = DEFAULT_ATTACH_LIMIT
) -> tuple[Pack, tuple[PackAttachment, ...]]:
    """The pack with its manifest saying what is attached, and the files to embed.

    The manifest changes (`attached_as`, the population files), so the pack id does too:
    render the returned pack, not the one given.
    """
    embedded = _population_files(pack)
    entries, manifest = _evidence_entries(locker, pack.manifest, attach_limit)
    if entries:
        embedded.append(evidence_archive(entries))
    files = tuple(_pack_file(attachment) for attachment in embedded)
    pack = replace(pack, manifest=manifest, files=files)
    manifest_file = PackAttachment(
        MANIFEST_NAME,
        manifest_bytes(pack.manifest, pack.files),
        f"Manifest of the pack's evidence items and files; SHA-256 {pack.pack_id} is the pack id",
    )
    return pack, (manifest_file, *embedded)


def _pack_file(attachment: PackAttachment) -> PackFile:
    sha = hashlib.sha256(attachment.data).hexdigest()
    return PackFile(attachment.name, sha, len(attachment.data), attachment.description)


def _population_files(pack: Pack) -> list[PackAttachment]:
    """CSV and XLSX per CI gate, in the order the controls first name them: a control's
    population is the union of its gates' files (its `files`, stems), so no execution is embedded
    twice however many controls its gate evidences."""
    parts: dict[str, GatePopulation] = {}
    controls: dict[str, list[str]] = {}
    for population in pack.populations_by_control.values():
        for part in population.parts:
            parts.setdefault(part.gate, part)
            controls.setdefault(part.gate, []).append(population.control.key)
    files = []
    for gate, part in parts.items():
        what = f"Population of {gate} for {', '.join(controls[gate])}: {part.count} {part.query}"
        # Dated by the population's extraction, not the pack's generation: the same locker and
        # period give the same files, so the pack id does not move with --generated-at.
        xlsx = population_xlsx(part, part.extracted_at or part.period.end)
        files.append(PackAttachment(f"{part.file_stem}.csv", population_csv(part), what))
        files.append(PackAttachment(f"{part.file_stem}.xlsx", xlsx, what))
    return files


# Raw evidence ---------------------------------------------------------------------------------


def _evidence_entries(
    locker: Locker, manifest: tuple[ManifestEntry, ...], limit: int
) -> tuple[list[ArchiveEntry], tuple[ManifestEntry, ...]]:
    """Archive items in manifest order while they fit under `limit` bytes; list the rest."""
    archived: list[ArchiveEntry] = []
    entries: list[ManifestEntry] = []
    used = 0
    for entry in manifest:
        content = None
        # An item too large to fit is not read; a redacted one always is, as the manifest
        # gives its copy's hash whether or not the copy fits.
        if entry.item.redacted or used + entry.item.size <= limit:
            content, entry = _evidence_entry(locker, entry)
        if content is not None and used + len(content.data) <= limit:
            used += len(content.data)
            archived.append(content)
            entry = replace(entry, attached_as=content.name, archive=EVIDENCE_ARCHIVE)
        entries.append(entry)
    return archived, tuple(entries)


def _evidence_entry(
    locker: Locker, entry: ManifestEntry
) -> tuple[ArchiveEntry | None, ManifestEntry]:
    item = entry.item
    name = f"evidence-{entry.item_id:06d}-{_base_name(item.source)}"
    data = locker.blob_path(item.sha256).read_bytes()
    if not item.redacted:
        return ArchiveEntry(name, data), entry
    try:
        copy = redacted_copy(data)
    except RedactionError as error:
        # Never the original: listed in the manifest only, to be checked against the locker.
        return None, replace(entry, redaction=f"not attached: {error}")
    entry = replace(
        entry,
        redacted_copy_sha256=hashlib.sha256(copy.data).hexdigest(),
        redaction=copy.description,
    )
    return ArchiveEntry(f"{name.removesuffix('.gz')}.redacted", copy.data), entry


def evidence_archive(entries: list[ArchiveEntry]) -> PackAttachment:
    """`evidence.zip`: the entries in the order given, the same bytes for the same entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=_ENTRY_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _ENTRY_ATTRS
            archive.writestr(info, entry.data, compresslevel=_COMPRESSLEVEL)
    description = (
        f"Raw evidence, {len(entries)} item(s): each item the manifest lists with archive "
        f"{EVIDENCE_ARCHIVE} is the entry its attached_as names, with the item's sha256 or, "
        "for a redacted item, its redacted_copy_sha256"
    )
    # "Data", not "Source" (ISO 32000-2, table 43): the archive holds redacted copies too,
    # which are not the original source material; every entry is information the pack's
    # tables and charts are derived from, which is what "Data" says.
    return PackAttachment(EVIDENCE_ARCHIVE, buffer.getvalue(), description, relationship="Data")


def _base_name(source: str) -> str:
    last = source.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "item"
    return _UNSAFE_NAME.sub("_", last)[-80:]


# Redaction ------------------------------------------------------------------------------------


def redacted_copy(data: bytes) -> RedactedCopy:
    """An item with secrets, as JSON or JSON lines (plain or gzipped), with the secrets out.

    Each SARIF `snippet.text` is the secret itself (Gitleaks, TruffleHog): all are replaced,
    and every other string (messages, fingerprints, properties; Falco outputs) is redacted
    of those values and of well-known token shapes. The copy is plain text.
    """
    try:
        text = (gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data).decode("utf-8-sig")
    except (OSError, EOFError, ValueError) as error:
        raise RedactionError(f"not readable text ({error})") from None
    counts = {"snippets": 0, "texts": 0}
    try:
        document = json.loads(text)
    except ValueError:
        copy = _redacted_lines(text, counts)
    else:
        secrets = sorted(set(_snippets(document)))
        copy = json.dumps(_redact(document, secrets, counts), indent=1, ensure_ascii=False) + "\n"
    description = (
        f"{counts['snippets']} snippet text(s) replaced by {REDACTED}; {counts['texts']} other "
        "text(s) redacted of the snippets' values and of token shapes"
    )
    return RedactedCopy(copy.encode("utf-8"), description)


def _redacted_lines(text: str, counts: dict[str, int]) -> str:
    """JSON lines (Falco's json_output): each line's strings redacted; a broken line as text."""
    lines = []
    for line in text.splitlines():
        try:
            document = json.loads(line) if line.strip() else None
        except ValueError:
            cleaned = redact_text(line)
            counts["texts"] += cleaned != line
            lines.append(cleaned)
            continue
        if document is None:
            lines.append(line)
        else:
            redacted = _redact(document, sorted(set(_snippets(document))), counts)
            lines.append(json.dumps(redacted, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def _snippets(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text for element in value for text in _snippets(element)]
    if not isinstance(value, dict):
        return []
    found = []
    snippet = value.get("snippet")
    if isinstance(snippet, dict) and isinstance(snippet.get("text"), str):
        found.append(snippet["text"])
    for child in value.values():
        found.extend(_snippets(child))
    return found


def _redact(value: Any, secrets: list[str], counts: dict[str, int], key: str = "") -> Any:
    if isinstance(value, list):
        return [_redact(element, secrets, counts) for element in value]
    if isinstance(value, dict):
        if key == "snippet" and isinstance(value.get("text"), str):
            counts["snippets"] += 1
            value = {**value, "text": REDACTED}
        return {name: _redact(child, secrets, counts, name) for name, child in value.items()}
    if isinstance(value, str):
        cleaned = redact_text(value, secrets)
        if cleaned != value and value != REDACTED:
            counts["texts"] += 1
        return cleaned
    return value
