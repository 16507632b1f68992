"""Fixtures of the renderer's tests: a hand-built pack, rendered once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import make_pack

from auditpack.reports.pack import Pack
from auditpack.reports.pdf import PackAttachment, render_pdf

MANIFEST_BYTES = b'[{"item":1,"sha256":"ab"}]\n'


@pytest.fixture(scope="module")
def pack() -> Pack:
    return make_pack()


@pytest.fixture(scope="module")
def attachments() -> tuple[PackAttachment, ...]:
    return (
        PackAttachment("manifest.json", MANIFEST_BYTES, "Manifest of every evidence item"),
        PackAttachment(
            "population-CC7.1.csv", b"run_id,attempt\n9001,1\n", "Population", relationship="Source"
        ),
    )


@pytest.fixture(scope="module")
def pdf_path(
    tmp_path_factory: pytest.TempPathFactory, pack: Pack, attachments: tuple[PackAttachment, ...]
) -> Path:
    """One render shared by the module's tests: each render costs a few seconds."""
    out = tmp_path_factory.mktemp("pack") / "pack.pdf"
    render_pdf(pack, out, attachments=attachments)
    return out
