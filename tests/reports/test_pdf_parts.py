"""The pack's HTML and its helpers, checked without paying for a PDF render."""

from __future__ import annotations

from pathlib import Path

import pytest
import weasyprint
from builders import make_pack

from auditpack.reports import charts
from auditpack.reports.errors import RenderError
from auditpack.reports.pack import Pack
from auditpack.reports.pdf import _item_links, _ordered_gaps, _ranges, render_html, render_pdf


def test_untrusted_text_is_escaped_in_the_html() -> None:
    html = render_html(make_pack(hostile='<img src="http://127.0.0.1:9/x">'))
    assert '<img src="http' not in html
    assert "&lt;img src=&#34;http://127.0.0.1:9/x&#34;&gt;" in html


def test_gaps_are_ordered_by_rollout_week(pack: Pack) -> None:
    weeks = [gap.gate.rollout_week for gap in _ordered_gaps(pack.assessment)]
    assert weeks == [1, 4, 4]
    assert [gap.gate.id for gap in _ordered_gaps(pack.assessment)] == [
        "dependency-scan",
        "image-scan",
        "runtime-detection",
    ]


def test_item_numbers_read_as_linked_ranges() -> None:
    assert _ranges([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    links = str(_item_links([3, 1, 2, 7], listed={1, 2, 3}))
    assert links == '<a href="#item-1">1–3</a>, 7'


def test_long_item_lists_are_cut_with_a_count() -> None:
    links = str(_item_links(range(0, 200, 2), listed=set()))
    assert links.endswith("and 76 more (pack.json)")


def test_charts_are_byte_identical_and_vector(pack: Pack) -> None:
    gates = pack.assessment.gates
    first = charts.severity_by_gate(gates)
    assert first == charts.severity_by_gate(gates)
    assert "<image" not in first and "Date" not in first
    coverage = charts.coverage_rows(pack.assessment.repositories, gates, limit=60)
    heatmap = charts.coverage_heatmap(coverage, gates)
    assert "<image" not in heatmap


def test_coverage_draws_only_repositories_with_gaps_when_all_do_not_fit() -> None:
    pack = make_pack(repo_count=10)
    gates = pack.assessment.gates
    coverage = charts.coverage_rows(pack.assessment.repositories, gates, limit=4)
    # The last two repositories miss three gates each in the builder.
    assert coverage.shown == ("northwind/service-009", "northwind/service-010")
    assert (coverage.hidden_full, coverage.hidden_other) == (8, 0)
    small = charts.coverage_rows(pack.assessment.repositories, gates, limit=10)
    assert small.shown == pack.assessment.repositories


def test_a_failed_render_leaves_no_file(
    pack: Pack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_written(self: object, target: object, **options: object) -> None:
        target.write(b"%PDF-1.7 half")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", half_written)
    out = tmp_path / "pack.pdf"
    with pytest.raises(RenderError, match="No space left on device"):
        render_pdf(pack, out)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_a_render_error(pack: Pack, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot write"):
        render_pdf(pack, tmp_path / "no-such-folder" / "pack.pdf")
