"""Streams SARIF 2.1.0 logs into runs and findings without holding a log's results in memory."""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

import ijson

from auditpack.evidence.errors import SarifError
from auditpack.evidence.model import Finding, Location, Severity
from auditpack.evidence.redact import redact_text
from auditpack.evidence.severity import normalise_severity, tool_severity_word

log = logging.getLogger(__name__)

SARIF_VERSION = "2.1.0"

# Tools whose results carry the secret itself in snippets (and sometimes the message).
# Compared after lower-casing and dropping everything but letters: "TruffleHog" -> "trufflehog".
SECRET_SCANNERS = frozenset(
    {"gitleaks", "trufflehog", "detectsecrets", "ggshield", "gitguardian", "noseyparker"}
)


def _ijson_backend() -> Any:
    # yajl2_c parses about ten times faster than the pure-Python backend, which matters
    # for CodeQL logs of several GB. ijson falls back silently; we say so.
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:
        log.warning("ijson's yajl2_c backend is unavailable (%s in use)", ijson.backend)
        return ijson


_IJSON = _ijson_backend()


@dataclass(frozen=True)
class _Rule:
    """What normalisation needs of one reportingDescriptor; the rest of a rule is dropped."""

    id: str
    level: str | None  # defaultConfiguration.level, else CodeQL's problem.severity as a level
    security_severity: str | float | None
    tool_severity: str | None  # Snyk's "High severity - ..." text or a severity tag
    short_text: str
    message_strings: Mapping[str, str]
    fix_available: bool | None


@dataclass(frozen=True)
class _Catalogue:
    """A run's rules and artifact uris, kept from pass 1 to resolve results in pass 2."""

    driver: tuple[_Rule, ...] = ()
    extensions: tuple[tuple[_Rule, ...], ...] = ()
    by_id: Mapping[str, _Rule] = field(default_factory=dict)
    artifacts: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class SarifRun:
    """One `runs[]` entry of a log, without its results."""

    index: int
    tool: str
    tool_version: str | None
    category: str | None
    property_keys: frozenset[str]
    ended_at: datetime | None
    result_count: int
    _catalogue: _Catalogue = field(default_factory=_Catalogue, repr=False, compare=False)

    @property
    def rule_count(self) -> int:
        """Rules the tool says it ran: the driver's and its extensions'. Zero, with zero
        results, means the scan could not have found anything."""
        return len(self._catalogue.driver) + sum(len(rules) for rules in self._catalogue.extensions)


@dataclass(frozen=True)
class SarifDocument:
    """A SARIF log as pass 1 found it; `iter_findings` reads its results from `path`."""

    path: Path
    version: str
    runs: tuple[SarifRun, ...]


def read_sarif(path: Path) -> SarifDocument:
    """Pass 1: check that `path` is SARIF 2.1.0 and describe its runs. Raises SarifError."""
    scan = _Scan(path)
    with _errors_named(path), _open(path) as stream:
        for prefix, event, value in _IJSON.parse(stream, use_float=True):
            # Results are most of a log: count them here, read them in pass 2.
            if prefix.startswith(_RESULT):
                if prefix == _RESULT and event != "map_key" and event != "end_map":
                    scan.count_result(event)
                continue
            scan.feed(prefix, event, value)
    return scan.document()


def iter_findings(
    doc: SarifDocument, *, secret_scanning: Callable[[SarifRun], bool] | None = None
) -> Iterator[tuple[int, Finding]]:
    """Pass 2: each result of `doc` as (run index, finding), one at a time.

    `secret_scanning(run)` says whether a run's snippets are secrets to remove from the
    messages; it defaults to `is_secret_scanner`. Known token shapes are redacted in
    every run regardless.
    """
    is_secret = secret_scanning or is_secret_scanner
    runs = [run for run in doc.runs if run.result_count > 0]
    if not runs:
        return

    changed = SarifError(f"{doc.path}: changed since it was first read (result counts differ)")
    results = _stream_results(doc.path)
    try:
        for run in runs:
            collect_snippets = is_secret(run)
            for _ in range(run.result_count):
                result = next(results, None)
                if result is None:
                    raise changed
                yield run.index, _finding(run, result, collect_snippets)
        if next(results, None) is not None:
            raise changed
    finally:
        results.close()


def is_secret_scanner(run: SarifRun) -> bool:
    """Whether `run` comes from a secret scanner, judged by its tool name."""
    return re.sub(r"[^a-z]", "", run.tool.lower()) in SECRET_SCANNERS


# --- reading the file -------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


@contextmanager
def _open(path: Path) -> Iterator[io.BufferedIOBase]:
    """The JSON bytes of `path`: gunzipped when the content is gzip, without a UTF-8 BOM."""
    with path.open("rb") as raw:
        # Judged by content, not name: CI artefacts arrive as "results.sarif" either way.
        stream: io.BufferedIOBase = raw
        magic = raw.read(2)
        raw.seek(0)
        if magic == _GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")

        # RFC 8259 §8.1 lets parsers ignore a BOM; yajl does not, and .NET tools write one.
        start = 3 if stream.read(3) == _BOM else 0
        stream.seek(start)
        if _is_blank(stream):
            raise SarifError(f"{path}: is empty, not a SARIF log")
        stream.seek(start)
        yield stream


def _is_blank(stream: io.BufferedIOBase) -> bool:
    while chunk := stream.read(1 << 16):
        if chunk.strip():
            return False
    return True


@contextmanager
def _errors_named(path: Path) -> Iterator[None]:
    """Turns what a broken file raises into one SarifError line that names the file."""
    try:
        yield
    except ijson.JSONError as exc:
        detail = str(exc).splitlines()[0].strip()
        if "premature EOF" in detail:
            raise SarifError(f"{path}: ends early, the file is truncated ({detail})") from exc
        raise SarifError(f"{path}: is not JSON ({detail})") from exc
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a cut-off gzip stream raises EOFError.
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SarifError(f"{path}: cannot be read ({detail})") from exc


def _stream_results(path: Path) -> Generator[dict[str, Any], None, None]:
    with _errors_named(path), _open(path) as stream:
        yield from _IJSON.items(stream, _RESULT, use_float=True)


# --- pass 1 -----------------------------------------------------------------------------

_RUN = "runs.item"
_RESULT = "runs.item.results.item"
_PROBLEM_LEVELS = {"error": "error", "warning": "warning", "recommendation": "note"}
_NO_VALUE = frozenset({"end_map", "end_array", "map_key"})
_SEVERITY_TAGS = frozenset({"critical", "high", "medium", "low"})


class _RunDraft:
    """What pass 1 has seen of the run it is in."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.has_tool = False
        self.has_driver = False
        self.tool = ""
        self.semantic_version: str | None = None
        self.version: str | None = None
        self.category: str | None = None
        self.property_keys: set[str] = set()
        self.ended: list[datetime] = []
        self.results = 0
        self.driver_rules: list[_Rule] = []
        self.extension_rules: list[list[_Rule]] = []
        self.artifacts: list[str | None] = []


class _Scan:
    """Pass 1's state: the log's version and runs, built from ijson events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version: str | None = None
        self.has_runs = False
        self.runs: list[SarifRun] = []
        self.run = _RunDraft(0)
        self.rule: _Capture | None = None

    def fail(self, what: str) -> SarifError:
        return SarifError(f"{self.path}: {what}")

    def count_result(self, event: str) -> None:
        if event != "start_map":
            raise self.fail(f"run {self.run.index}: result {self.run.results} is not an object")
        self.run.results += 1

    def feed(self, prefix: str, event: str, value: Any) -> None:
        if self.rule is not None:
            self.rule.event(event, value)
            if self.rule.done:
                self.rule.target.append(_rule_from(self.rule.value))
                self.rule = None
        elif prefix.startswith("runs.item."):
            self.feed_run(prefix[len("runs.item.") :], event, value)
        elif prefix == _RUN and event == "end_map":
            self.end_run()
        elif event not in _NO_VALUE:
            self.feed_top(prefix, event, value)

    def feed_top(self, prefix: str, event: str, value: Any) -> None:
        if prefix == "" and event != "start_map":
            raise self.fail("is JSON but not an object, so not a SARIF log")
        if prefix == "version":
            self.version = value if isinstance(value, str) else repr(value)
            self.check_version()
        elif prefix == "runs":
            if event != "start_array":
                raise self.fail("'runs' is not an array")
            self.has_runs = True
        elif prefix == _RUN:
            if event != "start_map":
                raise self.fail(f"run {len(self.runs)} is not an object")
            self.run = _RunDraft(len(self.runs))

    def feed_run(self, prefix: str, event: str, value: Any) -> None:
        if prefix == "results":
            # "results": null is how a tool that did not finish says so (SARIF §3.14.23).
            if event not in ("start_array", "end_array", "null"):
                raise self.fail(f"run {self.run.index}: 'results' is not an array")
        elif prefix.startswith("tool"):
            self.feed_tool(prefix, event, value)
        elif prefix == "automationDetails.id" and isinstance(value, str):
            self.run.category = value
        elif prefix == "properties" and event == "map_key":
            self.run.property_keys.add(value)
        elif prefix == "invocations.item.endTimeUtc" and isinstance(value, str):
            moment = _utc(value)
            if moment is not None:
                self.run.ended.append(moment)
        elif prefix == "artifacts.item" and event == "start_map":
            self.run.artifacts.append(None)
        elif prefix == "artifacts.item.location.uri" and isinstance(value, str):
            self.run.artifacts[-1] = value

    def feed_tool(self, prefix: str, event: str, value: Any) -> None:
        run = self.run
        if prefix in ("tool", "tool.driver") and event not in ("start_map", *_NO_VALUE):
            raise self.fail(f"run {run.index}: '{prefix}' is not an object")
        if prefix == "tool":
            run.has_tool = True
        elif prefix == "tool.driver":
            run.has_driver = True
        elif prefix == "tool.driver.name":
            run.tool = value if isinstance(value, str) else ""
        elif prefix == "tool.driver.semanticVersion" and isinstance(value, str):
            run.semantic_version = value
        elif prefix == "tool.driver.version" and isinstance(value, str):
            run.version = value
        elif event in _NO_VALUE:
            return
        elif prefix == "tool.extensions.item":
            run.extension_rules.append([])
        elif prefix == "tool.driver.rules.item":
            self.start_rule(run.driver_rules, event)
        elif prefix == "tool.extensions.item.rules.item":
            self.start_rule(run.extension_rules[-1], event)

    def start_rule(self, target: list[_Rule], event: str) -> None:
        # Whatever the entry is, it takes a place in the list: ruleIndex counts every entry.
        if event in ("start_map", "start_array"):
            self.rule = _Capture(target, event)
        else:
            target.append(_rule_from(None))

    def end_run(self) -> None:
        run = self.run
        if not run.has_tool:
            raise self.fail(f"run {run.index} has no 'tool', which SARIF requires")
        if not run.has_driver:
            raise self.fail(f"run {run.index}: 'tool' has no 'driver', which SARIF requires")
        self.runs.append(_finish_run(run))

    def check_version(self) -> None:
        if self.version != SARIF_VERSION:
            raise self.fail(f"is SARIF version {self.version}; auditpack reads {SARIF_VERSION}")

    def document(self) -> SarifDocument:
        if self.version is None:
            raise self.fail("has no 'version', so it is not a SARIF log")
        if not self.has_runs:
            raise self.fail("has no 'runs' array, so it is not a SARIF log")
        return SarifDocument(path=self.path, version=self.version, runs=tuple(self.runs))


class _Capture:
    """Builds one rule object from its events; rules are read whole, one at a time."""

    def __init__(self, target: list[_Rule], start: str) -> None:
        self.target = target
        self.builder = ijson.ObjectBuilder()
        self.builder.event(start, None)
        self.depth = 1

    @property
    def done(self) -> bool:
        return self.depth == 0

    @property
    def value(self) -> Any:
        return self.builder.value

    def event(self, event: str, value: Any) -> None:
        if event in ("start_map", "start_array"):
            self.depth += 1
        elif event in ("end_map", "end_array"):
            self.depth -= 1
        self.builder.event(event, value)


def _finish_run(draft: _RunDraft) -> SarifRun:
    driver = tuple(draft.driver_rules)
    extensions = tuple(tuple(rules) for rules in draft.extension_rules)
    by_id: dict[str, _Rule] = {}
    # A ruleId names the driver's rule before an extension's of the same id (SARIF §3.27.5).
    for rule in (*driver, *(rule for rules in extensions for rule in rules)):
        if rule.id:
            by_id.setdefault(rule.id, rule)

    version = draft.semantic_version or draft.version
    return SarifRun(
        index=draft.index,
        tool=_strip_ansi(draft.tool),
        # Gitleaks writes semanticVersion "v8.0.0"; the "v" is not part of the version.
        tool_version=re.sub(r"^v(?=\d)", "", version) if version else None,
        category=draft.category,
        property_keys=frozenset(draft.property_keys),
        ended_at=max(draft.ended, default=None),
        result_count=draft.results,
        _catalogue=_Catalogue(driver, extensions, by_id, tuple(draft.artifacts)),
    )


def _rule_from(value: Any) -> _Rule:
    rule = _dict(value)
    config = _dict(rule.get("defaultConfiguration"))
    props = _dict(rule.get("properties"))
    short = _text(rule.get("shortDescription"))
    # Older CodeQL states only problem.severity; "recommendation" is its word for a note.
    problem = _PROBLEM_LEVELS.get(str(props.get("problem.severity")).lower())
    return _Rule(
        id=_str(rule.get("id")),
        level=_str(config.get("level")) or problem,
        security_severity=_score(props.get("security-severity")),
        tool_severity=_rule_tool_severity(short, _text(rule.get("fullDescription")), props),
        short_text=short,
        message_strings={
            key: _text(string) for key, string in _dict(rule.get("messageStrings")).items()
        },
        fix_available=_fix_available(_text(rule.get("help"))),
    )


def _rule_tool_severity(short: str, full: str, props: dict[str, Any]) -> str | None:
    """Snyk's "Medium severity - ..." description, or a tag such as Trivy's "HIGH"."""
    # A description must say "severity": a rule titled "Info" is not an informational one.
    for text in (short, full):
        if "severity" in text.lower() and tool_severity_word(text) is not None:
            return text
    tags = props.get("tags")
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, str) and tag.lower() in _SEVERITY_TAGS:
            return tag
    return None


def _utc(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    # SARIF §3.9 times are UTC; a time without an offset is read as UTC, not local time.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- pass 2 -----------------------------------------------------------------------------

_FIX_LINE = re.compile(r"^[ \t]*Fix(?:ed)? Version:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _finding(run: SarifRun, result: dict[str, Any], secret_scanning: bool) -> Finding:
    catalogue = run._catalogue
    rule = _rule_for(result, catalogue)
    secrets = _snippets(result) if secret_scanning else []

    def clean(text: str) -> str:
        cleaned: str = redact_text(_strip_ansi(text), secrets) if text else text
        return cleaned

    message = _message(result, rule)
    fix = _fix_available(message)
    return Finding(
        tool=run.tool,
        rule_id=_strip_ansi(_rule_id(result, rule)),
        severity=_severity(result, rule),
        message=clean(message),
        location=_location(result, catalogue.artifacts, clean),
        suppressed=_suppressed(result),
        baseline_state=_str(result.get("baselineState")) or None,
        fix_available=fix if fix is not None or rule is None else rule.fix_available,
        fingerprint=clean(_fingerprint(result)),
    )


def _rule_for(result: dict[str, Any], catalogue: _Catalogue) -> _Rule | None:
    """The rule a result names by index (in the driver or an extension), else by id."""
    ref = _dict(result.get("rule"))
    rule_id = _str(result.get("ruleId")) or _str(ref.get("id"))
    rules = _component(ref.get("toolComponent"), catalogue)
    index = ref.get("index", result.get("ruleIndex"))
    # Indices may point past the list (sarif-sdk SARIF1009 samples): then the id decides.
    if _is_index(index) and index < len(rules):
        rule = rules[index]
        if not rule_id or rule.id == rule_id:
            return rule
    return catalogue.by_id.get(rule_id)


def _component(ref: Any, catalogue: _Catalogue) -> tuple[_Rule, ...]:
    if ref is None:
        return catalogue.driver
    index = _dict(ref).get("index")
    if _is_index(index) and index < len(catalogue.extensions):
        return catalogue.extensions[index]
    return ()


def _rule_id(result: dict[str, Any], rule: _Rule | None) -> str:
    rule_id = _str(result.get("ruleId")) or _str(_dict(result.get("rule")).get("id"))
    return rule_id or (rule.id if rule is not None else "")


def _severity(result: dict[str, Any], rule: _Rule | None) -> Severity:
    props = _dict(result.get("properties"))
    score = _score(props.get("security-severity"))
    word = _str(props.get("issue_severity")) or None  # Bandit keeps its severity here
    if rule is not None:
        score = rule.security_severity if score is None else score
        word = word or rule.tool_severity
    # Grype labels CVE-1999-0001 "low" while its security-severity is 8.2: the score wins,
    # as it does on GitHub's Security tab (see normalise_severity).
    return normalise_severity(score, word, _level(result, rule))


def _level(result: dict[str, Any], rule: _Rule | None) -> str:
    level = _str(result.get("level"))
    if level:
        return level
    # SARIF §3.27.10: a result whose kind is not "fail" (pass, open, review, ...) has level none.
    kind = _str(result.get("kind"))
    if kind and kind != "fail":
        return "none"
    if rule is not None and rule.level:
        return rule.level
    return "warning"


def _message(result: dict[str, Any], rule: _Rule | None) -> str:
    message = _dict(result.get("message"))
    text = _str(message.get("text")) or _str(message.get("markdown"))
    if not text and rule is not None:
        text = rule.message_strings.get(_str(message.get("id")), "") or rule.short_text
    arguments = message.get("arguments")
    if not isinstance(arguments, list) or not arguments:
        return text

    def argument(match: re.Match[str]) -> str:
        position = int(match.group(1))
        return str(arguments[position]) if position < len(arguments) else match.group(0)

    return _PLACEHOLDER.sub(argument, text)


def _location(
    result: dict[str, Any], artifacts: tuple[str | None, ...], clean: Callable[[str], str]
) -> Location | None:
    locations = result.get("locations")
    if not isinstance(locations, list) or not locations:
        return None
    physical = _dict(_dict(locations[0]).get("physicalLocation"))
    artifact = _dict(physical.get("artifactLocation"))
    # The uri stays as written: relative to a uriBaseId such as %SRCROOT% (rarely defined
    # in originalUriBaseIds), an image name for Trivy, or text that is no URI at all.
    uri = _str(artifact.get("uri"))
    index = artifact.get("index")
    if not uri and _is_index(index) and index < len(artifacts):
        uri = artifacts[index] or ""
    if not uri:
        return None
    line = _dict(physical.get("region")).get("startLine")
    return Location(uri=clean(uri), start_line=line if _is_index(line) and line > 0 else None)


def _suppressed(result: dict[str, Any]) -> bool:
    # SARIF §3.35.3: a suppression without status is in force; "underReview" and
    # "rejected" ones are proposals that were not (yet) accepted.
    suppressions = result.get("suppressions")
    if not isinstance(suppressions, list):
        return False
    return any(_dict(s).get("status") in (None, "accepted") for s in suppressions)


def _fingerprint(result: dict[str, Any]) -> str:
    for key in ("partialFingerprints", "fingerprints"):
        prints = _dict(result.get(key))
        if prints:
            return ";".join(f"{name}={prints[name]}" for name in sorted(prints))
    return ""


def _snippets(result: dict[str, Any]) -> list[str]:
    """The snippet texts of a result's locations: a secret scanner's secrets."""
    texts = []
    for key in ("locations", "relatedLocations"):
        locations = result.get(key)
        for location in locations if isinstance(locations, list) else ():
            physical = _dict(_dict(location).get("physicalLocation"))
            for region in ("region", "contextRegion"):
                snippet = _dict(_dict(physical.get(region)).get("snippet"))
                texts.append(_str(snippet.get("text")))
    return [text for text in texts if text]


def _fix_available(text: str) -> bool | None:
    """Trivy's "Fixed Version: X" (Grype's "Fix Version: X") line: True if X is given."""
    match = _FIX_LINE.search(text)
    return bool(match.group(1)) if match else None


# --- loose JSON ---------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str:
    """The text of a SARIF message or multiformatMessageString."""
    return _str(_dict(value).get("text"))


def _is_index(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _score(value: Any) -> str | float | None:
    if isinstance(value, bool):
        return None
    return value if isinstance(value, str | int | float) else None


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text) if "\x1b" in text else text
