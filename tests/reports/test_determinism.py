"""Same locker, same period, same `--generated-at`: byte-identical PDF and JSON."""

from __future__ import annotations

from pathlib import Path

from test_attachments import make_locker

from auditpack.cli import main


def test_report_twice_gives_the_same_bytes(tmp_path: Path, data_dir: Path) -> None:
    make_locker(tmp_path, data_dir).close()
    outputs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        out = tmp_path / name / "pack.pdf"
        code = main(
            [
                "--locker",
                str(tmp_path / "locker"),
                "report",
                "--period",
                "2026-Q3",
                "--out",
                str(out),
                "--generated-at",
                "2026-10-01T00:00:00Z",
            ]
        )
        assert code == 0
        outputs.append((out.read_bytes(), out.with_suffix(".json").read_bytes()))
    assert outputs[0][0] == outputs[1][0]
    assert outputs[0][1] == outputs[1][1]
