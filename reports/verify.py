"""Verifying a pack: its embedded files against its manifest, the manifest against the pack id,
and, given the locker, the items not embedded against their blobs.

What a pack proves is that nothing in it changed after it was made: every embedded file has
the hash the manifest gives, and the manifest has the hash the pack states as its id.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from auditpack.reports.errors import RenderError

MANIFEST_NAME = "manifest.json"  # the embedded manifest; its SHA-256 is the pack id
_PACK_ID = re.compile(r"pack id\W*([0-9a-f]{64})", re.IGNORECASE)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Verification:
    pack_id: str | None  # as the PDF states it
    computed_id: str | None  # SHA-256 of the embedded manifest
    attachments: int  # embedded files checked against the manifest
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
    locker_items = 0
    if locker_dir is not None:
        locker_items = _check_locker(manifest, locker_dir, problems)
    return Verification(stated_id, computed, checked, locker_items, tuple(problems))


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
    expected: dict[str, tuple[str, str]] = {}
    for file in manifest.get("files") or []:
        expected[str(file.get("name"))] = (str(file.get("sha256")), f"file {file.get('name')}")
    for item in manifest.get("items") or []:
        name = item.get("attached_as")
        if name:
            sha = item.get("redacted_copy_sha256") or item.get("sha256")
            expected[str(name)] = (str(sha), f"evidence item {item.get('item')} ({name})")
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
