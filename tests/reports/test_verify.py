"""`auditpack verify`: passes on a fresh pack, fails naming the item on each tampered copy."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pikepdf
import pytest
from test_attachments import make_locker, make_pack

from auditpack.cli import main
from auditpack.reports.attachments import build_attachments
from auditpack.reports.pdf import render_pdf
from auditpack.reports.verify import verify_pack


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One pack rendered for the module (a render costs seconds): its PDF, locker, pack id."""
    root = tmp_path_factory.mktemp("verify")
    data_dir = Path(__file__).parents[1] / "data"
    with make_locker(root, data_dir) as locker:
        pack, files = build_attachments(locker, make_pack(locker))
    render_pdf(pack, root / "pack.pdf", attachments=files)
    return root / "pack.pdf", root / "locker", pack.pack_id


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["verify", *args])
    return code, capsys.readouterr().out


def tampered(pdf: Path, out: Path, name: str, change: bytes, at: bytes) -> Path:
    """A copy of `pdf` with the first `at` in embedded file `name` replaced by `change`."""
    with pikepdf.open(pdf) as document:
        stream = document.attachments[name].obj.EF.F
        data = stream.read_bytes()
        assert at in data
        stream.write(data.replace(at, change, 1))
        document.save(out)
    return out


def archive_of(pdf: Path) -> list[tuple[str, bytes]]:
    with pikepdf.open(pdf) as document:
        data = document.attachments["evidence.zip"].get_file().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return [(info.filename, zipped.read(info)) for info in zipped.infolist()]


def with_archive(pdf: Path, out: Path, entries: list[tuple[str, bytes]]) -> Path:
    """A copy of `pdf` whose evidence.zip holds `entries`, rebuilt as a careful forger would:
    a well-formed ZIP, each entry with its right CRC."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries:
            zipped.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    with pikepdf.open(pdf) as document:
        document.attachments["evidence.zip"].obj.EF.F.write(buffer.getvalue())
        document.save(out)
    return out


def test_fresh_pack_verifies(
    made: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, locker, pack_id = made
    code, text = verify(capsys, str(pdf), "--locker", str(locker))
    assert code == 0, text
    assert f"pack id    {pack_id}" in text
    result = verify_pack(pdf, locker)
    # 10 population files (CSV and XLSX for each of the 5 CI gates) and evidence.zip, holding
    # the 8 evidence items of Q3 (run 99's job listing is June's), Gitleaks as its redacted copy
    assert (result.attachments, result.archived) == (10 + 1, 8)
    assert result.locker_items == 1  # the Gitleaks original is checked in the locker only
    assert "archived   8 evidence item(s) in the evidence archive match" in text
    assert "verified" in text
    with pikepdf.open(pdf) as document:
        assert len(document.attachments) == 1 + 10 + 1  # the manifest, populations, archive


def test_tampered_attachment_fails_naming_it(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, _, _ = made
    copy = tampered(pdf, tmp_path / "t.pdf", "population-dependency-scan.csv", b"acne", b"acme")
    code, text = verify(capsys, str(copy))
    assert code == 1
    assert "file population-dependency-scan.csv: SHA-256" in text
    assert "NOT VERIFIED: 1 problem(s)" in text


def test_tampered_archive_entry_fails_naming_the_item(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, _, _ = made
    entries = archive_of(pdf)
    (index,) = [i for i, (name, _) in enumerate(entries) if name.endswith("-103.json")]
    name, data = entries[index]
    changed = data.replace(b'"conclusion": "success"', b'"conclusion": "failure"', 1)
    assert len(changed) == len(data) and changed != data  # one word, same length
    entries[index] = (name, changed)
    code, text = verify(capsys, str(with_archive(pdf, tmp_path / "t.pdf", entries)))
    assert code == 1
    item = int(name.split("-")[1])
    assert f"evidence item {item} (evidence.zip:{name}): SHA-256" in text
    assert "file evidence.zip: SHA-256" in text  # the archive's own hash, from `files`
    assert "NOT VERIFIED: 2 problem(s)" in text


def test_flipped_byte_in_the_archive_fails_naming_the_item(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A byte changed in place inside an entry's compressed data, with no care for its CRC."""
    pdf, _, _ = made
    with pikepdf.open(pdf) as document:
        stream = document.attachments["evidence.zip"].obj.EF.F
        data = bytearray(stream.read_bytes())
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as zipped:
            info = zipped.infolist()[0]
        # past the 30-byte local header and the name, into the compressed data
        data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
        stream.write(bytes(data))
        document.save(tmp_path / "f.pdf")
    code, text = verify(capsys, str(tmp_path / "f.pdf"))
    assert code == 1
    item = int(info.filename.split("-")[1])
    assert f"evidence item {item} (evidence.zip:{info.filename}): cannot be read" in text


def test_archive_entries_missing_unlisted_or_unsafe_fail(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, _, _ = made
    dropped, *kept = archive_of(pdf)
    extra = [("notes.txt", b"x"), ("../escape.json", b"{}"), ("/etc/cron.d/x", b"")]
    copy = with_archive(pdf, tmp_path / "u.pdf", kept + extra)
    result = verify_pack(copy)
    assert not result.ok and result.archived == len(kept)
    problems = "\n".join(result.problems)
    item = int(dropped[0].split("-")[1])
    assert f"evidence item {item} (evidence.zip:{dropped[0]}): listed as attached, but not" in (
        problems
    )
    assert "evidence.zip: entry notes.txt is not in the manifest" in problems
    for unsafe in ("../escape.json", "/etc/cron.d/x"):
        assert f"evidence.zip: entry {unsafe!r} refused: an absolute or '..' name" in problems
    assert not (tmp_path / "escape.json").exists()  # verify reads in memory, extracts nothing


def test_tampered_manifest_fails_on_the_pack_id(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, _, pack_id = made
    copy = tampered(pdf, tmp_path / "m.pdf", "manifest.json", b'"size":1', b'"size":2')
    code, text = verify(capsys, str(copy))
    assert code == 1
    assert "manifest.json: SHA-256" in text and f"is not the pack id {pack_id}" in text


def test_changed_locker_blob_fails(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, locker, _ = made
    copy = tmp_path / "locker"
    for blob in (locker / "blobs").rglob("*"):
        if blob.is_file():
            target = copy / blob.relative_to(locker)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.read_bytes())
    (original,) = [
        b for b in (copy / "blobs").rglob("*") if b.is_file() and b"a secret" in b.read_bytes()
    ]
    os.chmod(original, stat.S_IWUSR | stat.S_IRUSR)
    original.write_bytes(original.read_bytes().replace(b"a secret", b"b secret"))
    code, text = verify(capsys, str(pdf), "--locker", str(copy))
    assert code == 1
    assert "the locker's blob has SHA-256" in text and original.name in text


def test_not_a_pack_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    assert main(["verify", str(junk)]) == 1
    assert "cannot be read as a PDF" in capsys.readouterr().err
