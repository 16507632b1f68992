"""`auditpack verify`: passes on a fresh pack, fails naming the item on each tampered copy."""

from __future__ import annotations

import os
import stat
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


def test_fresh_pack_verifies(
    made: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, locker, pack_id = made
    code, text = verify(capsys, str(pdf), "--locker", str(locker))
    assert code == 0, text
    assert f"pack id    {pack_id}" in text
    result = verify_pack(pdf, locker)
    # 10 population files (CSV and XLSX for each of the 5 CI gates) and the 8 evidence items
    # of Q3 (run 99's job listing is June's), the Gitleaks report as its redacted copy
    assert result.attachments == 10 + 8
    assert result.locker_items == 1  # the Gitleaks original is checked in the locker only
    assert "verified" in text


def test_tampered_attachment_fails_naming_it(
    made: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, _, _ = made
    with pikepdf.open(pdf) as document:
        name = next(n for n in document.attachments if n.endswith("-103.json"))
    copy = tampered(
        pdf, tmp_path / "t.pdf", name, b'"conclusion": "failure"', b'"conclusion": "success"'
    )
    code, text = verify(capsys, str(copy))
    assert code == 1
    assert f"({name}): SHA-256" in text
    assert "NOT VERIFIED: 1 problem(s)" in text


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
