"""Writing a pack to disk: the PDF and its JSON twin appear together or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from auditpack.reports.errors import RenderError
from auditpack.reports.pack import Pack, pack_json
from auditpack.reports.pdf import PackAttachment, render_pdf


def json_path_for(pdf: Path) -> Path:
    return pdf.with_suffix(".json")


def write_pack(
    pack: Pack, pdf: Path, attachments: Sequence[PackAttachment] = ()
) -> tuple[Path, Path]:
    """Render `pdf` and `pdf`.json; a failure leaves neither half-written."""
    if not pdf.parent.is_dir():
        raise RenderError(f"{pdf}: the folder {pdf.parent} does not exist")
    json_out = json_path_for(pdf)
    handle, staged = tempfile.mkstemp(dir=pdf.parent, prefix=".pack-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(pack_json(pack))
        os.chmod(staged, 0o644)  # mkstemp makes it private; a pack is meant to be shared
        render_pdf(pack, pdf, attachments=attachments)
        os.replace(staged, json_out)
    finally:
        if os.path.exists(staged):
            os.unlink(staged)
    return pdf, json_out
