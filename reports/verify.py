"""Verifying a pack: its embedded files against its manifest, the manifest against the pack id,
and, given the locker, the items not embedded against their blobs.

What a pack proves is that nothing in it changed after it was made: every embedded file has
the hash the manifest gives, every entry of the embedded evidence archive has its item's hash,
and the manifest has the hash the pack states as its id. The archive is only ever read in
memory, and an entry with an absolute or `..` name is refused, not read: a pack that carries
one was not made by auditpack.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from auditpack.reports.errors import RenderError

MANIFEST_NAME = "manifest.json"  # the embedded manifest; its SHA-256 is the pack id
_PACK_ID = re.compile(r"pack id\W*([0-9a-f]{64})", re.IGNORECASE)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20
# What reading a damaged or unexpected entry raises (CRC, deflate stream, method, encryption).
_ENTRY_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)

Expected = dict[str, tuple[str, str]]  # name -> (SHA-256, what it is, for the problem text)


@dataclass(frozen=True)
class Verification:
    pack_id: str | None  # as the PDF states it
    computed_id: str | None  # SHA-256 of the embedded manifest
    attachments: int  # embedded files checked against the manifest
    archived: int  # entries of the evidence archive checked against the manifest
    locker_items: int  # items checked against the locker's blobs
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pack(pdf: Path, locker_dir: Path | None = None) -> Verification:
    embedded, stated_id = _read_pdf(pdf)
    problems: list[str] = []
    manifest_data = embedded.pop(MANIFEST_NAME, None)
    if manifest_data is None:
        raise RenderError(f"{pdf}: no embedded {MANIFEST_NAME}; not an auditpack pack")
    computed = hashlib.sha256(manifest_data).hexdigest()
    if stated_id is None:
        problems.append(f"{pdf}: states no pack id")
    elif stated_id != computed:
        problems.append(
            f"{MANIFEST_NAME}: SHA-256 {computed} is not the pack id {stated_id}: "
            "the manifest was changed"
        )
    manifest = _manifest(manifest_data, problems)
    checked = _check_attachments(manifest, embedded, problems)
    archived = _check_archives(manifest, embedded, problems)
    locker_items = 0
    if locker_dir is not None:
        locker_items = _check_locker(manifest, locker_dir, problems)
    return Verification(stated_id, computed, checked, archived, locker_items, tuple(problems))


def _read_pdf(pdf: Path) -> tuple[dict[str, bytes], str | None]:
    try:
        with pikepdf.open(pdf) as document:
            embedded = {
                name: spec.get_file().read_bytes() for name, spec in document.attachments.items()
            }
            stated = _stated_id(document)
    except (pikepdf.PdfError, OSError) as error:
        raise RenderError(f"{pdf}: cannot be read as a PDF ({error})") from None
    return embedded, stated if stated is not None else _cover_id(pdf)


def _stated_id(document: pikepdf.Pdf) -> str | None:
    """The pack id from the document's metadata (its description: DocInfo /Subject, XMP)."""
    texts = [str(document.docinfo.get("/Subject", ""))]
    metadata = document.open_metadata()
    texts.append(str(metadata.get("dc:description", "")))
    for text in texts:
        if match := _PACK_ID.search(text):
            return match[1]
    return None


def _cover_id(pdf: Path) -> str | None:
    """Fallback: the pack id printed on the cover, read with pdftotext."""
    try:
        text = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = _PACK_ID.search(re.sub(r"\s+", " ", text))
    return match[1] if match else None


def _manifest(data: bytes, problems: list[str]) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError as error:
        problems.append(f"{MANIFEST_NAME}: not valid JSON ({error})")
        return {"items": [], "files": []}
    if not isinstance(document, dict):
        problems.append(f"{MANIFEST_NAME}: not an object with 'items' and 'files'")
        return {"items": [], "files": []}
    return document


def _check_attachments(
    manifest: dict[str, Any], embedded: dict[str, bytes], problems: list[str]
) -> int:
    """Each embedded file against the hash the manifest gives it; returns how many held."""
    expected: Expected = {}
    for file in manifest.get("files") or []:
        expected[str(file.get("name"))] = (str(file.get("sha256")), f"file {file.get('name')}")
    for item in manifest.get("items") or []:
        name = item.get("attached_as")
        if name and not item.get("archive"):  # embedded on its own, as packs once did
            expected[str(name)] = (_item_sha256(item), f"evidence item {item.get('item')} ({name})")
    checked = 0
    for name, (sha, what) in sorted(expected.items()):
        data = embedded.get(name)
        if data is None:
            problems.append(f"{what}: listed as attached, but not embedded in the PDF")
        elif hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"{what}: SHA-256 {hashlib.sha256(data).hexdigest()} is not {sha}")
        else:
            checked += 1
    problems.extend(
        f"embedded file {name}: not in the manifest"
        for name in sorted(embedded)
        if name not in expected
    )
    return checked


def _item_sha256(item: dict[str, Any]) -> str:
    """What an attached item's bytes hash to: its redacted copy's, if it has secrets."""
    return str(item.get("redacted_copy_sha256") or item.get("sha256"))


# The evidence archive -------------------------------------------------------------------------


def _check_archives(
    manifest: dict[str, Any], embedded: dict[str, bytes], problems: list[str]
) -> int:
    """The entries of each archive the items name (evidence.zip); returns how many held."""
    by_archive: dict[str, Expected] = {}
    for item in manifest.get("items") or []:
        archive, name = item.get("archive"), item.get("attached_as")
        if archive and name:
            what = f"evidence item {item.get('item')} ({archive}:{name})"
            by_archive.setdefault(str(archive), {})[str(name)] = (_item_sha256(item), what)
    checked = 0
    for archive, expected in by_archive.items():
        data = embedded.get(archive)
        if data is None:
            # The files check names the archive itself; one line here rather than one per item.
            problems.append(f"{archive}: not embedded, so its {len(expected)} item(s) go unchecked")
        else:
            checked += _check_archive(archive, data, expected, problems)
    return checked


def _check_archive(archive: str, data: bytes, expected: Expected, problems: list[str]) -> int:
    """Each listed entry against its item's hash, in manifest order; then the unlisted ones."""
    try:
        zipped = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        problems.append(f"{archive}: not a readable ZIP archive ({error})")
        return 0
    with zipped:
        entries = _safe_entries(archive, zipped, problems)
        checked = 0
        for name, (sha, what) in expected.items():
            info = entries.pop(name, None)
            if info is None:
                problems.append(f"{what}: listed as attached, but not in {archive}")
            else:
                checked += _check_entry(zipped, info, sha, what, problems)
    problems.extend(f"{archive}: entry {name} is not in the manifest" for name in sorted(entries))
    return checked


def _safe_entries(
    archive: str, zipped: zipfile.ZipFile, problems: list[str]
) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name, less those refused: unsafe names and repeated names."""
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in zipped.infolist():
        name = info.filename
        if _unsafe_entry_name(name):
            problems.append(
                f"{archive}: entry {name!r} refused: an absolute or '..' name, which could "
                "write outside the folder it is extracted to; not read"
            )
        elif name in entries:
            problems.append(f"{archive}: entry {name} appears more than once")
        else:
            entries[name] = info
    return entries


def _unsafe_entry_name(name: str) -> bool:
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(_DRIVE.match(path)) or ".." in path.split("/")


def _check_entry(
    zipped: zipfile.ZipFile, info: zipfile.ZipInfo, sha: str, what: str, problems: list[str]
) -> int:
    digest = hashlib.sha256()
    try:
        with zipped.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except _ENTRY_ERRORS as error:
        problems.append(f"{what}: cannot be read from the archive ({error})")
        return 0
    if digest.hexdigest() != sha:
        problems.append(f"{what}: SHA-256 {digest.hexdigest()} is not {sha}")
        return 0
    return 1


def _check_locker(manifest: dict[str, Any], locker_dir: Path, problems: list[str]) -> int:
    """Items not embedded as they are (too large, or redacted) against the locker's blobs."""
    if not (locker_dir / "blobs").is_dir():
        raise RenderError(f"{locker_dir}: no evidence locker here (no blobs folder)")
    checked = 0
    for item in manifest.get("items") or []:
        if item.get("attached_as") and not item.get("redacted_copy_sha256"):
            continue
        sha = str(item.get("sha256"))
        what = f"evidence item {item.get('item')}"
        if not _SHA256.match(sha):
            problems.append(f"{what}: {sha!r} is not a SHA-256")
            continue
        # The path follows from the hash; the manifest's locker_path is for people.
        blob = locker_dir / "blobs" / sha[:2] / sha
        if not blob.is_file():
            problems.append(f"{what}: blobs/{sha[:2]}/{sha} is not in the locker")
        elif (actual := _file_sha256(blob)) != sha:
            problems.append(f"{what}: the locker's blob has SHA-256 {actual}, not {sha}")
        else:
            checked += 1
    return checked


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
