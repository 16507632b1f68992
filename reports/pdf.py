"""The audit pack as a PDF/A-3b document: Jinja2 templates rendered by WeasyPrint."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

import jinja2
from markupsafe import Markup, escape
from weasyprint import HTML, LOGGER, Attachment
from weasyprint.urls import FatalURLFetchingError

from auditpack import __version__
from auditpack.controls.matrix import FRAMEWORK_LABELS, FRAMEWORKS
from auditpack.controls.results import Assessment, ControlAssessment, Gap, Status
from auditpack.evidence.model import SEVERITIES_WORST_FIRST, Severity
from auditpack.reports import charts
from auditpack.reports.appendix import choose_appendix
from auditpack.reports.errors import RenderError
from auditpack.reports.fetcher import PACKAGE_SCHEME, PackFetcher
from auditpack.reports.pack import Pack

# PDF/A-3 (ISO 19005-3, 6.8) names the relationships an embedded file may have.
RELATIONSHIPS = frozenset(
    {
        "Source",
        "Data",
        "Alternative",
        "Supplement",
        "EncryptedPayload",
        "FormData",
        "Schema",
        "Unspecified",
    }
)
# Beyond these a list in the PDF stops helping a reader; pack.json and the attachments
# carry the complete lists.
ITEM_RANGES_SHOWN = 24
REPOSITORIES_SHOWN = 12
KEY_GAPS = 5
HEATMAP_ROWS = 40


@dataclass(frozen=True)
class PackAttachment:
    """A file embedded in the PDF, e.g. the manifest or a population (issue: embedded evidence)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Data"


def render_html(pack: Pack) -> str:
    """The pack as HTML, the way WeasyPrint is given it (charts as data: URIs)."""
    return _render_html(pack, PackFetcher())


def render_pdf(pack: Pack, out: Path, *, attachments: Sequence[PackAttachment] = ()) -> None:
    """Write the pack as PDF/A-3b to `out`, all or nothing; the same pack gives the same bytes."""
    _check_attachments(attachments)
    fetcher = PackFetcher()
    out = Path(out)
    try:
        html = HTML(string=_render_html(pack, fetcher), url_fetcher=fetcher)
        embedded = [_weasy_attachment(a, pack.generated_at, fetcher) for a in attachments]
        with _weasyprint_errors() as errors:
            _write_atomically(out, lambda target: _write(html, target, embedded, errors))
    except FatalURLFetchingError as error:
        cause = error.__cause__ or error
        raise RenderError(f"cannot render {out}: {cause}") from None
    except jinja2.TemplateError as error:
        raise RenderError(f"cannot render {out}: template error ({error})") from None


def _write(html: HTML, target: IO[bytes], embedded: list[Attachment], errors: list[str]) -> None:
    html.write_pdf(target, pdf_variant="pdf/a-3b", attachments=embedded, finisher=_unique_af)
    # WeasyPrint logs what it could not draw and carries on; a pack with a hole in it is
    # not one to hand an auditor.
    if errors:
        raise RenderError(f"cannot render the pack: {_one_line(errors[0])}")


def _unique_af(document: Any, pdf: Any) -> None:
    """List each embedded file once in the catalogue's /AF (WeasyPrint 70 adds each twice)."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_errors() -> Iterator[list[str]]:
    handler = _ErrorLog()
    LOGGER.addHandler(handler)
    try:
        yield handler.messages
    finally:
        LOGGER.removeHandler(handler)


def _one_line(message: str) -> str:
    line = message.splitlines()[0] if message else "unknown error"
    return line if len(line) <= 160 else line[:157] + "..."


def _check_attachments(attachments: Sequence[PackAttachment]) -> None:
    names = [attachment.name for attachment in attachments]
    for attachment in attachments:
        if attachment.relationship not in RELATIONSHIPS:
            allowed = ", ".join(sorted(RELATIONSHIPS))
            raise RenderError(
                f"attachment {attachment.name}: relationship {attachment.relationship!r} "
                f"is not one PDF/A-3 allows ({allowed})"
            )
        if names.count(attachment.name) > 1:
            raise RenderError(f"attachment {attachment.name} is given twice")


def _weasy_attachment(
    attachment: PackAttachment, moment: datetime, fetcher: PackFetcher
) -> Attachment:
    # The dates default to now in WeasyPrint; the pack's own time keeps the bytes stable.
    return Attachment(
        string=attachment.data,
        name=attachment.name,
        description=attachment.description,
        created=moment.astimezone(UTC),
        modified=moment.astimezone(UTC),
        relationship=attachment.relationship,
        url_fetcher=fetcher,
    )


def _write_atomically(out: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through a temporary file beside `out`, so that a failure leaves no partial PDF."""
    # open(..., "x") creates the file with the user's umask, as a plain write would.
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out)
    except OSError as error:
        raise RenderError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _render_html(pack: Pack, fetcher: PackFetcher) -> str:
    return _environment().get_template("pack.html").render(_context(pack, fetcher))


def _environment() -> jinja2.Environment:
    # Autoescape everything: finding text, reasons and repository names are untrusted.
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        utc=_utc,
        stamp=_stamp,
        day=_day,
        size=_size,
        status_class=_status_class,
        thousands=_thousands,
        shorten=_shorten,
        counted=_counted,
    )
    return environment


def _template_source(name: str) -> str | None:
    resource = resources.files("auditpack.templates").joinpath(name)
    return resource.read_text("utf-8") if resource.is_file() else None


def _context(pack: Pack, fetcher: PackFetcher) -> dict[str, Any]:
    assessment = pack.assessment
    appendix = choose_appendix(pack.manifest)
    listed = appendix.listed_ids
    return {
        "appendix": appendix,
        "pack": pack,
        "a": assessment,
        "version": __version__,
        "stylesheet": f"{PACKAGE_SCHEME}pack.css",
        "frameworks": _frameworks(assessment),
        "severities": SEVERITIES_WORST_FIRST[:4],
        "statuses": list(Status),
        "status_counts": [(s, assessment.status_counts.get(s, 0)) for s in Status],
        "matrix_rows": _matrix_rows(assessment),
        "control_groups": _control_groups(assessment),
        "gaps": _ordered_gaps(assessment),
        "key_gaps": KEY_GAPS,
        "repositories_shown": REPOSITORIES_SHOWN,
        "runtime_gates": [gate for gate in assessment.gates if gate.runtime is not None],
        "charts": _charts(assessment, fetcher),
        "has_version_ids": any(entry.item.version_id for entry in pack.manifest),
        "items": lambda ids: _item_links(ids, listed),
        "day_ranges": _day_ranges,
        "reconciles": _reconciles,
        "gate_names": {gate.gate.id: gate.gate.name for gate in assessment.gates},
        "population_files": _population_files,
        "gap_items": {entry.item.source: entry.item_id for entry in pack.manifest},
    }


def _frameworks(assessment: Assessment) -> list[tuple[str, str]]:
    present = assessment.matrix.frameworks
    return [(name, FRAMEWORK_LABELS[name]) for name in FRAMEWORKS if name in present]


def _matrix_rows(assessment: Assessment) -> list[dict[str, Any]]:
    """One row per gate: the controls it evidences in each framework, with their statuses."""
    statuses = {assessed.control.key: assessed.status for assessed in assessment.controls}
    rows = []
    for gate in assessment.gates:
        cells: dict[str, list[tuple[str, Status | None]]] = {name: [] for name in FRAMEWORKS}
        for mapping in gate.gate.mappings:
            key = f"{mapping.framework}:{mapping.control_id}"
            cells[mapping.framework].append((mapping.control_id, statuses.get(key)))
        rows.append({"gate": gate, "cells": cells})
    return rows


def _control_groups(assessment: Assessment) -> list[tuple[str, list[ControlAssessment]]]:
    groups = []
    for name, label in _frameworks(assessment):
        members = [c for c in assessment.controls if c.control.framework == name]
        if members:
            groups.append((label, members))
    return groups


def _ordered_gaps(assessment: Assessment) -> list[Gap]:
    """As the article orders the work: by the gate's rollout week, then matrix order."""
    order = {gate.id: index for index, gate in enumerate(assessment.matrix.gates)}
    return sorted(
        assessment.gaps, key=lambda gap: (gap.gate.rollout_week, order.get(gap.gate.id, 0))
    )


def _charts(assessment: Assessment, fetcher: PackFetcher) -> dict[str, Any]:
    scanning = [gate for gate in assessment.gates if gate.runtime is None]
    result: dict[str, Any] = {}
    if any(gate.open_by_severity.get(s, 0) for gate in scanning for s in Severity):
        svg = charts.severity_by_gate(scanning)
        result["severity"] = fetcher.data_uri("image/svg+xml", svg.encode())
    if any(week.executions for gate in scanning for week in gate.weekly):
        svg = charts.pass_rate_by_week(scanning)
        result["pass_rate"] = fetcher.data_uri("image/svg+xml", svg.encode())
    coverage = charts.coverage_rows(assessment.repositories, assessment.gates, HEATMAP_ROWS)
    if coverage.shown and assessment.gates:
        svg = charts.coverage_heatmap(coverage, assessment.gates)
        result["coverage"] = fetcher.data_uri("image/svg+xml", svg.encode())
        result["coverage_rows"] = coverage
    return result


def _item_links(item_ids: Iterable[int], listed: set[int]) -> Markup:
    """Item numbers as ranges (`12–40, 57`), each linked to its row in the appendix."""
    ranges = _ranges(sorted(set(item_ids)))
    parts = [_item_range(first, last, listed) for first, last in ranges[:ITEM_RANGES_SHOWN]]
    if len(ranges) > ITEM_RANGES_SHOWN:
        hidden = sum(last - first + 1 for first, last in ranges[ITEM_RANGES_SHOWN:])
        parts.append(Markup("and {} more (pack.json)").format(_thousands(hidden)))
    return Markup(", ").join(parts)


def _item_range(first: int, last: int, listed: set[int]) -> Markup:
    text = str(first) if first == last else f"{first}–{last}"
    if first not in listed:
        return Markup("{}").format(text)
    return Markup('<a href="#item-{}">{}</a>').format(first, text)


def _ranges(numbers: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for number in numbers:
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    return ranges


def _day_ranges(days: Sequence[date]) -> str:
    ordinals = _ranges(sorted({day.toordinal() for day in days}))
    return ", ".join(_day_span(first, last) for first, last in ordinals)


def _day_span(first: int, last: int) -> str:
    start = date.fromordinal(first).isoformat()
    return start if first == last else f"{start} to {date.fromordinal(last).isoformat()}"


def _population_files(population: Any) -> list[str]:
    """The embedded CSV and XLSX files that hold a control's population."""
    return [f"{stem}{suffix}" for stem in population.files for suffix in (".csv", ".xlsx")]


def _reconciles(count: int, source_count: int | None) -> str:
    if source_count is None:
        return "not stated by the source"
    return "yes" if count == source_count else f"no ({_thousands(count - source_count)})"


def _utc(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _day(moment: date | datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _counted(number: int, singular: str, plural: str | None = None) -> str:
    """`3 | counted("scan")` reads "3 scans", and 1 reads "1 scan"."""
    noun = singular if number == 1 else (plural or f"{singular}s")
    return f"{_thousands(number)} {noun}"


def _thousands(number: int) -> str:
    return f"{number:,}"


def _status_class(status: Status | None) -> str:
    return "st-none" if status is None else "st-" + status.value.replace(" ", "-")


def _shorten(values: Sequence[str], limit: int) -> Markup:
    shown = Markup(", ").join(escape(value) for value in values[:limit])
    if len(values) > limit:
        return Markup("{} and {} more").format(shown, len(values) - limit)
    return shown
