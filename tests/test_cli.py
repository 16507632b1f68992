"""The command line end to end: collect, report, and what a user sees when things go wrong."""

import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest

from auditpack.cli import main


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def acme_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The acme story of tests/controls/test_assessment.py, through the CLI into a PDF."""
    data = Path(__file__).parent / "data/local/acme"
    work = tmp_path_factory.mktemp("acme")
    locker = str(work / "locker")
    assert (
        main(["--locker", locker, "collect", "local", str(data / "shop"), "--repo", "acme/shop"])
        == 0
    )
    assert main(["--locker", locker, "collect", "local", str(data / "infra")]) == 0
    out = work / "acme.pdf"
    code = main(
        [
            "--locker",
            locker,
            "report",
            "--period",
            "2026-Q3",
            "--out",
            str(out),
            "--organisation",
            "Acme Ltd",
            "--generated-at",
            "2026-10-01T08:00:00Z",
        ]
    )
    assert code == 0
    return out


def test_pack_pdf_shows_controls_and_figures(acme_pack: Path) -> None:
    text = _pdf_text(acme_pack)
    assert "Acme Ltd" in text
    assert "2026-Q3 (2026-07-01 to 2026-09-30)" in text
    assert "2026-10-01 08:00 UTC" in text
    for control in ("CC7.1", "CC8.1", "CC6.6", "A.12.6.1", "A.8.8", "A.8.9", "A.8.16"):
        assert control in text
    # the gates table row: repos 1 of 2, 3 runs, 2 passed, 1 failed, 1 scan, 0/2/0/0 open,
    # 1 above the threshold, 1 not blocked
    row = next(line for line in text.splitlines() if line.strip().startswith("Dependency "))
    figures = r"1\s*/\s*2\s+3\s+2\s+1\s+1\s+0\s+2\s+0\s+0\s+1\s+1\s+not effective"
    assert re.search(figures, row), row
    assert "while the gate passed: it did not block" in text
    assert "Page 1 of " in text


def test_pack_json_has_the_same_figures_and_a_manifest(acme_pack: Path) -> None:
    document = json.loads(acme_pack.with_suffix(".json").read_text(encoding="utf-8"))
    gate = next(g for g in document["gates"] if g["id"] == "dependency-scan")
    assert (gate["executions"], gate["passed"], gate["failed"]) == (3, 2, 1)
    assert gate["open_findings"]["high"] == 2 and gate["above_threshold"] == 1
    assert gate["status"] == "not effective"
    names = sorted(Path(entry["source"]).name for entry in document["manifest"])
    # 6 items of acme/shop less run 99's jobs (outside Q3), plus infra's runs and jobs
    assert names == sorted(
        [
            "101.json",
            "102.json",
            "103.json",
            "workflow-runs.json",
            "grype-dependencies.sarif",
            "201.json",
            "workflow-runs.json",
        ]
    )
    assert all(len(entry["sha256"]) == 64 for entry in document["manifest"])
    assert document["pack_id"] in _pdf_text(acme_pack)


def test_same_locker_and_time_give_the_same_bytes(acme_pack: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.pdf"
    locker = acme_pack.parent / "locker"
    assert (
        main(
            [
                "--locker",
                str(locker),
                "report",
                "--period",
                "2026-Q3",
                "--out",
                str(again),
                "--organisation",
                "Acme Ltd",
                "--generated-at",
                "2026-10-01T08:00:00Z",
            ]
        )
        == 0
    )
    assert again.read_bytes() == acme_pack.read_bytes()
    assert again.with_suffix(".json").read_bytes() == acme_pack.with_suffix(".json").read_bytes()


def test_errors_are_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--locker",
            str(tmp_path / "none"),
            "report",
            "--period",
            "2026-Q3",
            "--out",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("auditpack: error: ") and "no evidence locker here" in err
    assert "\n" not in err
    assert not (tmp_path / "x.pdf").exists()
    assert (
        main(
            [
                "--locker",
                str(tmp_path),
                "report",
                "--period",
                "2026-Q9",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 1
    )
    assert "expected a quarter" in capsys.readouterr().err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report"])
    assert exit_info.value.code == 2


def test_demo_renders_a_pack_that_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--generated-at", "2026-10-01T00:00:00Z"]) == 0
    pdf = tmp_path / "auditpack-demo-2026-Q3.pdf"
    text = _pdf_text(pdf)
    assert "Kestrel Payments (fictional)" in text
    assert "2026-08-14 to 2026-08-16" in text  # the days Falco was down
    assert "Hunter2Kestrel" not in text  # the password in a Falco command line
    figures = pdf.with_suffix(".json").read_text(encoding="utf-8")
    assert "Hunter2Kestrel" not in figures
    runtime = next(g for g in json.loads(figures)["gates"] if g["id"] == "runtime-detection")
    # the generator leaves 2026-08-14..16 without any Falco event
    assert runtime["runtime"]["missing_days"] == ["2026-08-14", "2026-08-15", "2026-08-16"]
    assert runtime["runtime"]["days_with_events"] == 89
    with pikepdf.open(pdf) as document:
        embedded = {
            name: spec.get_file().read_bytes() for name, spec in document.attachments.items()
        }
    assert "manifest.json" in embedded
    # the raw evidence is compressed in evidence.zip: look at each entry as it is extracted
    with zipfile.ZipFile(io.BytesIO(embedded.pop("evidence.zip"))) as archive:
        embedded.update((info.filename, archive.read(info)) for info in archive.infolist())
    assert any(name.endswith(".redacted") for name in embedded)
    assert not [name for name, data in embedded.items() if b"Hunter2Kestrel" in data]
    capsys.readouterr()
    locker = tmp_path / "auditpack-demo-locker"
    assert main(["verify", str(pdf), "--locker", str(locker)]) == 0
    assert "verified" in capsys.readouterr().out
    # the global option, before the command, checks the locker too
    assert main(["--locker", str(locker), "verify", str(pdf)]) == 0
    assert "match their blobs" in capsys.readouterr().out
