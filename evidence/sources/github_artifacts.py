"""Reading SARIF out of a downloaded artefact zip without trusting the zip.

Nothing is ever extracted by the names inside the archive: each wanted entry is streamed
into a file we name, through a reader that stops at the size limit whatever the header
claims. An archive with a path that climbs out (`../`), an absolute path, a link, or sizes
that look like a decompression bomb is refused as a whole: it is a sign of tampering, and
an auditor should see it as a gap rather than as partial evidence.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_SARIF_NAME = re.compile(r"\.sarif(\.json)?$", re.IGNORECASE)
_CHUNK = 1 << 16


class UnsafeArchive(Exception):
    """The zip breaks one of the limits; the message says which entry and why."""


@dataclass(frozen=True)
class ZipLimits:
    """Defaults sized for SARIF: large CodeQL logs reach hundreds of MB, ratios stay under 100."""

    max_entries: int = 1000
    max_entry_bytes: int = 1 << 30
    max_total_bytes: int = 2 << 30
    max_ratio: float = 200.0


@dataclass(frozen=True)
class SarifEntry:
    name: str  # the path inside the archive, as the zip names it
    path: Path  # where its bytes were written


def sarif_entries(
    archive: Path, workdir: Path, limits: ZipLimits | None = None
) -> list[SarifEntry]:
    """Check the whole archive, then write its SARIF entries to `workdir`; or UnsafeArchive."""
    limits = limits or ZipLimits()
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
            check_archive(infos, limits)
            return list(_extract(bundle, infos, workdir, limits))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as error:
        raise UnsafeArchive(f"not a readable zip ({error})") from None


def check_archive(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(f"{len(infos)} entries, more than the limit of {limits.max_entries}")
    total = 0
    for info in infos:
        _check_name(info.filename)
        if _is_link(info):
            raise UnsafeArchive(f"entry {info.filename!r} is a symbolic link")
        if info.file_size > limits.max_entry_bytes:
            raise UnsafeArchive(f"entry {info.filename!r} expands to {info.file_size} bytes")
        if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * info.compress_size:
            ratio = info.file_size / max(info.compress_size, 1)
            raise UnsafeArchive(f"entry {info.filename!r} compresses {ratio:.0f}:1 (a zip bomb?)")
        total += info.file_size
    if total > limits.max_total_bytes:
        raise UnsafeArchive(f"entries expand to {total} bytes, over {limits.max_total_bytes}")


def _check_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchive(f"entry {name!r} points outside the archive")


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _extract(
    bundle: zipfile.ZipFile, infos: list[zipfile.ZipInfo], workdir: Path, limits: ZipLimits
) -> Iterator[SarifEntry]:
    budget = limits.max_total_bytes
    for number, info in enumerate(infos):
        if info.is_dir() or not _SARIF_NAME.search(info.filename):
            continue
        target = workdir / f"entry-{number}.sarif"
        budget -= _copy_capped(bundle, info, target, min(limits.max_entry_bytes, budget))
        yield SarifEntry(info.filename, target)


def _copy_capped(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int) -> int:
    # The header's file_size may lie; count what actually comes out of the decompressor.
    written = 0
    with bundle.open(info) as source, open(target, "wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > cap:
                raise UnsafeArchive(f"entry {info.filename!r} expands past {cap} bytes")
            out.write(chunk)
    return written
