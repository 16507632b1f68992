"""`auditpack sample`: the same table on every run for a seed, a CSV of the sampled rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from auditpack.cli import main
from auditpack.controls.matrix import load_matrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.sources.local import collect_local


@pytest.fixture
def locker_dir(tmp_path: Path, data_dir: Path) -> Path:
    matrix = load_matrix()
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, matrix, data_dir / "local/acme/shop", Repository("acme/shop"))
        collect_local(locker, matrix, data_dir / "local/acme/infra")
    return tmp_path / "locker"


def sample(locker_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--locker", str(locker_dir), "sample", "--period", "2026-Q3", *extra])
    return code, capsys.readouterr().out


def test_same_seed_prints_the_same_sample(
    locker_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = sample(locker_dir, capsys, "--control", "CC7.1", "--seed", "7")
    second = sample(locker_dir, capsys, "--control", "CC7.1", "--seed", "7")
    assert first == second
    code, text = first
    assert code == 0
    assert "population  4 execution(s): gate executions of image-scan, iac-scan" in text
    assert "sample      4 (several-times-a-day), seed 7" in text
    assert "reconciles  yes" in text
    assert "https://github.com/acme/shop/actions/runs/103" in text


def test_out_writes_the_sampled_rows(
    locker_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sample.csv"
    code, _ = sample(
        locker_dir,
        capsys,
        "--control",
        "A.15.1.3",
        "--framework",
        "iso27001_2013",
        "--seed",
        "5",
        "--out",
        str(out),
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert code == 0
    assert sorted(row["run_id"] for row in rows) == ["101", "102", "103"]
    assert {row["seed"] for row in rows} == {"5"}


def test_unknown_control_is_an_error(locker_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["--locker", str(locker_dir), "sample", "--period", "2026-Q3", "--control", "CC9.9"]
    )
    assert code == 1
    assert "no soc2 control 'CC9.9'" in capsys.readouterr().err
