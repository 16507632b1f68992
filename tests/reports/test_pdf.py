"""The PDF pack: its text, its PDF/A-3b make-up, its attachments, and byte-identical output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from builders import make_pack
from pytest_httpserver import HTTPServer

from auditpack.reports.errors import RenderError
from auditpack.reports.pack import Pack
from auditpack.reports.pdf import PackAttachment, render_pdf


def pdf_text(path: Path, *, layout: bool = True) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_text_names_controls_statuses_and_figures(pdf_path: Path, pack: Pack) -> None:
    text = pdf_text(pdf_path)
    pages = text.count("\f")
    for expected in (
        "Northwind Analytics Ltd",
        "2026-Q3 (2026-07-01 to 2026-09-30)",
        "2026-10-02 09:30 UTC",
        pack.pack_id,
        "CC8.1 Change management",
        "A.8.28 Secure coding",
        "A.14.2.8 System security testing",
        f"Page 1 of {pages}",
        f"Page {pages} of {pages}",
    ):
        assert expected in text, expected
    # The executive summary's status counts: SAST, IaC and secret scanning effective.
    # 27 controls: 13 effective, 7 partially (dependency or runtime at worst), 7 not
    # (image scanning among their gates), none without evidence; worked out by hand.
    assert re.search(r"13\s+7\s+7\s+0", text)
    # The gates table: SAST ran 412 times, 398 passed, 14 failed, 412 scans; 0/0/7/12 open
    # C/H/M/L; none above the threshold, none unblocked.
    assert re.search(
        r"Static analysis\s+6\s+412\s+398\s+14\s+412\s+0\s+0\s+7\s+12\s+0\s+0\s+effective", text
    )
    # Runtime detection: 88 of 92 days, the missing ones as ranges.
    assert "88 of 92 days" in text
    assert "2026-08-14 to 2026-08-16, 2026-09-02" in text


def test_gap_analysis_follows_the_rollout_weeks(pdf_path: Path) -> None:
    text = pdf_text(pdf_path)
    section = text[text.index("In the order the work") : text.index("Days with events")]
    order = [section.index(name) for name in ("Dependency", "Container", "Runtime")]
    assert order == sorted(order)


def test_appendix_lists_every_item_with_its_hash(pdf_path: Path, pack: Pack) -> None:
    text = pdf_text(pdf_path)
    appendix = text[text.rindex("Appendix A: evidence items") :]
    for entry in pack.manifest:
        sha = entry.item.sha256
        assert sha[:32] in appendix and sha[32:] in appendix, entry.item_id


def test_pdf_is_pdf_a_3b_with_output_intent_and_embedded_fonts(pdf_path: Path) -> None:
    check = subprocess.run(["qpdf", "--check", str(pdf_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with pikepdf.open(pdf_path) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        intent = pdf.Root.OutputIntents[0]
        assert pikepdf.Name("/GTS_PDFA1") == intent.S
        assert "/DestOutputProfile" in intent
        descriptors = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
        ]
        assert descriptors
        assert all("/FontFile2" in d or "/FontFile3" in d or "/FontFile" in d for d in descriptors)
        titles = [item.title for item in pdf.open_outline().root]
    assert titles[:3] == ["Executive summary", "Gates", "Key gaps"] or "Executive summary" in titles
    assert "Appendix A: evidence items" in titles


def test_attachments_are_embedded_with_their_relationship(
    pdf_path: Path, attachments: tuple[PackAttachment, ...]
) -> None:
    with pikepdf.open(pdf_path) as pdf:
        assert sorted(pdf.attachments) == sorted(a.name for a in attachments)
        for attachment in attachments:
            spec = pdf.attachments[attachment.name]
            assert spec.get_file().read_bytes() == attachment.data
            assert spec.obj.AFRelationship == pikepdf.Name("/" + attachment.relationship)
        listed = {spec.objgen for spec in pdf.Root.AF}
        assert len(pdf.Root.AF) == len(listed) == len(attachments)


def test_same_pack_renders_to_the_same_bytes(
    pdf_path: Path, pack: Pack, attachments: tuple[PackAttachment, ...], tmp_path: Path
) -> None:
    again = tmp_path / "again.pdf"
    render_pdf(pack, again, attachments=attachments)
    assert again.read_bytes() == pdf_path.read_bytes()


def test_untrusted_text_is_shown_and_never_fetched(httpserver: HTTPServer, tmp_path: Path) -> None:
    hostile = f'<img src="{httpserver.url_for("/x")}">'
    out = tmp_path / "hostile.pdf"
    render_pdf(make_pack(hostile=hostile), out)
    text = " ".join(pdf_text(out, layout=False).split())
    # In a reason, a repository name, an evidence gap and a runtime event's output.
    assert text.count(hostile) >= 4
    assert httpserver.log == []


def test_unknown_relationship_is_refused_before_rendering(pack: Pack, tmp_path: Path) -> None:
    bad = PackAttachment("x.json", b"{}", "x", relationship="Evidence")
    with pytest.raises(RenderError, match="relationship 'Evidence'"):
        render_pdf(pack, tmp_path / "pack.pdf", attachments=[bad])
    assert list(tmp_path.iterdir()) == []
