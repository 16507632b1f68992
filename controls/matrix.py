"""The control matrix: gates, how evidence is classified into them, thresholds, and mappings.

The YAML is read as a node tree so that every error can name its line; it becomes frozen
values once, here, and nothing else handles the raw document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from auditpack.evidence.model import Finding, GateId, Severity

FRAMEWORKS = ("soc2", "iso27001_2013", "iso27001_2022")
FRAMEWORK_LABELS = {
    "soc2": "SOC 2",
    "iso27001_2013": "ISO 27001:2013",
    "iso27001_2022": "ISO 27001:2022",
}


class MatrixError(Exception):
    """The control matrix cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class SarifRule:
    """Every condition given must hold: tool and category are regexes, path too."""

    tool: re.Pattern[str] | None = None
    category: re.Pattern[str] | None = None
    path: re.Pattern[str] | None = None
    run_property: str | None = None

    def matches(self, tool: str, category: str | None, path: str, keys: Iterable[str]) -> bool:
        return (
            _hit(self.tool, tool)
            and _hit(self.category, category)
            and _hit(self.path, path)
            and (self.run_property is None or self.run_property in set(keys))
        )


@dataclass(frozen=True)
class StepRule:
    """A job or step is this gate when its name (and its job's name) match.

    A rule with only `job` classifies the job as a whole. GitHub lists a step without a
    name of its own as `Run owner/action@ref`, so `step` patterns may name the action.
    """

    job: re.Pattern[str] | None = None
    step: re.Pattern[str] | None = None

    def matches_step(self, job_name: str, step_name: str) -> bool:
        return self.step is not None and _hit(self.job, job_name) and _hit(self.step, step_name)

    def matches_job(self, job_name: str) -> bool:
        return self.step is None and _hit(self.job, job_name)


def _hit(pattern: re.Pattern[str] | None, text: str | None) -> bool:
    return pattern is None or (text is not None and pattern.search(text) is not None)


@dataclass(frozen=True)
class Threshold:
    """Findings at or above `severity` block (optionally only those with a fix available),
    and so does any finding of a named rule, whatever its severity."""

    severity: Severity
    fix_available: bool = False
    rules: frozenset[str] = frozenset()

    def breached_by(self, finding: Finding) -> bool:
        if finding.suppressed:
            return False
        if finding.rule_id in self.rules:
            return True  # a named check blocks whatever severity the tool gives it
        if not finding.severity.at_least(self.severity):
            return False
        # A tool that does not say whether a fix exists is counted as blocking: an auditor
        # would rather see a finding twice than miss one.
        return not (self.fix_available and finding.fix_available is False)

    def describe(self) -> str:
        text = f"{self.severity.value} and above"
        if self.severity is Severity.NONE:
            text = "any finding"
        if self.fix_available:
            text += ", with a fix available"
        if self.rules:
            text += "; and, whatever their severity, " + ", ".join(sorted(self.rules))
        return text


@dataclass(frozen=True)
class Mapping:
    framework: str
    control_id: str
    rationale: str
    source: str = "criteria"


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str

    @property
    def key(self) -> str:
        return f"{self.framework}:{self.id}"


@dataclass(frozen=True)
class Gate:
    id: GateId
    name: str
    tools: tuple[str, ...]
    rollout_week: int
    frequency: str
    remediation: str
    threshold: Threshold
    sarif_rules: tuple[SarifRule, ...]
    step_rules: tuple[StepRule, ...]
    mappings: tuple[Mapping, ...]
    secrets: bool = False
    runtime: bool = False
    # Repositories the gate is expected in (all when None): an image scan is owed only by
    # repositories that ship images, and one missing elsewhere is not a gap.
    applies_to: re.Pattern[str] | None = None

    def applies(self, repository: str) -> bool:
        return _hit(self.applies_to, repository)


@dataclass(frozen=True)
class ControlMatrix:
    source: str
    frameworks: dict[str, str]
    controls: tuple[Control, ...]
    gates: tuple[Gate, ...]
    sample_sizes: dict[str, int]

    def gate(self, gate_id: str) -> Gate:
        for gate in self.gates:
            if gate.id == gate_id:
                return gate
        raise KeyError(gate_id)

    def control(self, framework: str, control_id: str) -> Control:
        for control in self.controls:
            if control.framework == framework and control.id == control_id:
                return control
        raise KeyError(f"{framework}:{control_id}")

    def gates_for(self, control: Control) -> list[tuple[Gate, Mapping]]:
        return [
            (gate, mapping)
            for gate in self.gates
            for mapping in gate.mappings
            if mapping.framework == control.framework and mapping.control_id == control.id
        ]

    def mapped_controls(self) -> list[Control]:
        """Controls that at least one gate evidences, in framework then file order."""
        return [control for control in self.controls if self.gates_for(control)]

    def classify_sarif(
        self, tool: str, category: str | None, path: str, keys: Iterable[str] = ()
    ) -> GateId | None:
        keys = frozenset(keys)
        for gate in self.gates:
            if any(rule.matches(tool, category, path, keys) for rule in gate.sarif_rules):
                return gate.id
        return None

    def classify_step(self, job_name: str, step_name: str) -> GateId | None:
        for gate in self.gates:
            if any(rule.matches_step(job_name, step_name) for rule in gate.step_rules):
                return gate.id
        return None

    def classify_job(self, job_name: str) -> GateId | None:
        for gate in self.gates:
            if any(rule.matches_job(job_name) for rule in gate.step_rules):
                return gate.id
        return None

    def sample_size(self, frequency: str) -> int:
        return self.sample_sizes[frequency]


def default_matrix_text() -> str:
    return resources.files("auditpack.controls").joinpath("matrix.yaml").read_text("utf-8")


def load_matrix(path: Path | None = None) -> ControlMatrix:
    """Load and validate a matrix file, or the one shipped with auditpack."""
    if path is None:
        return parse_matrix(default_matrix_text(), "matrix.yaml (built in)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MatrixError(f"{path}: cannot read the control matrix ({error.strerror})") from None
    return parse_matrix(text, str(path))


def parse_matrix(text: str, source: str) -> ControlMatrix:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise MatrixError(f"{source}{line}: not valid YAML ({problem})") from None
    if root is None:
        raise MatrixError(f"{source}: the file is empty")
    return _MatrixReader(source).read(root)


class _MatrixReader:
    """Turns the YAML node tree into a ControlMatrix, naming the line of each problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, message: str) -> MatrixError:
        return MatrixError(f"{self.source}:{node.start_mark.line + 1}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        result: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = self.scalar(key, f"a key in {what}")
            if name in result:
                raise self.fail(key, f"{what} has {name!r} twice")
            result[name] = value
        return result

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a non-empty text value")
        return str(node.value)

    def integer(self, node: yaml.Node, what: str) -> int:
        text = self.scalar(node, what)
        if not text.isdigit():
            raise self.fail(node, f"{what} must be a whole number, not {text!r}")
        return int(text)

    def require(
        self, fields: dict[str, yaml.Node], name: str, owner: yaml.Node, what: str
    ) -> yaml.Node:
        if name not in fields:
            raise self.fail(owner, f"{what} lacks {name!r}")
        return fields[name]

    def only(
        self, fields: dict[str, yaml.Node], allowed: set[str], owner: yaml.Node, what: str
    ) -> None:
        for name, value in fields.items():
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(value, f"{what} has unknown key {name!r} (known: {known})")

    def pattern(self, node: yaml.Node, what: str) -> re.Pattern[str]:
        text = self.scalar(node, what)
        try:
            return re.compile(text)
        except re.error as error:
            raise self.fail(
                node, f"{what} {text!r} is not a valid regular expression ({error})"
            ) from None

    def read(self, root: yaml.Node) -> ControlMatrix:
        top = self.mapping(root, "the matrix")
        self.only(
            top, {"version", "frameworks", "controls", "sample_sizes", "gates"}, root, "the matrix"
        )
        version = self.integer(self.require(top, "version", root, "the matrix"), "version")
        if version != 1:
            raise self.fail(
                top["version"], f"matrix version {version}; this auditpack reads version 1"
            )
        frameworks = self.frameworks(self.require(top, "frameworks", root, "the matrix"))
        controls = self.controls(self.require(top, "controls", root, "the matrix"), frameworks)
        sample_sizes = self.sample_sizes(self.require(top, "sample_sizes", root, "the matrix"))
        gates_node = self.require(top, "gates", root, "the matrix")
        known = {(control.framework, control.id) for control in controls}
        gates = tuple(
            self.gate(node, known, sample_sizes) for node in self.sequence(gates_node, "gates")
        )
        self.check_unique_gates(gates, gates_node)
        return ControlMatrix(self.source, frameworks, controls, gates, sample_sizes)

    def frameworks(self, node: yaml.Node) -> dict[str, str]:
        fields = self.mapping(node, "frameworks")
        self.only(fields, set(FRAMEWORKS), node, "frameworks")
        return {name: self.scalar(value, f"framework {name}") for name, value in fields.items()}

    def controls(self, node: yaml.Node, frameworks: dict[str, str]) -> tuple[Control, ...]:
        result: list[Control] = []
        for framework, catalogue in self.mapping(node, "controls").items():
            if framework not in frameworks:
                raise self.fail(
                    catalogue, f"controls for {framework!r}, which frameworks does not list"
                )
            for control_id, title in self.mapping(catalogue, f"controls of {framework}").items():
                result.append(
                    Control(framework, control_id, self.scalar(title, f"title of {control_id}"))
                )
        return tuple(result)

    def sample_sizes(self, node: yaml.Node) -> dict[str, int]:
        fields = self.mapping(node, "sample_sizes")
        return {
            name: self.integer(value, f"sample size for {name}") for name, value in fields.items()
        }

    def gate(self, node: yaml.Node, known: set[tuple[str, str]], sizes: dict[str, int]) -> Gate:
        fields = self.mapping(node, "a gate")
        allowed = {
            "id",
            "name",
            "tools",
            "rollout_week",
            "frequency",
            "remediation",
            "classify",
            "threshold",
            "controls",
            "secrets",
            "runtime",
            "applies_to",
        }
        self.only(fields, allowed, node, "a gate")
        gate_id = self.scalar(self.require(fields, "id", node, "a gate"), "gate id")
        what = f"gate {gate_id}"
        frequency_node = self.require(fields, "frequency", node, what)
        frequency = self.scalar(frequency_node, f"{what} frequency")
        if frequency not in sizes:
            raise self.fail(
                frequency_node, f"{what} frequency {frequency!r} is not in sample_sizes"
            )
        sarif_rules, step_rules = self.classify(self.require(fields, "classify", node, what), what)
        return Gate(
            id=GateId(gate_id),
            name=self.scalar(self.require(fields, "name", node, what), f"{what} name"),
            tools=tuple(
                self.scalar(tool, f"{what} tool")
                for tool in self.sequence(
                    self.require(fields, "tools", node, what), f"{what} tools"
                )
            ),
            rollout_week=self.integer(
                self.require(fields, "rollout_week", node, what), f"{what} rollout_week"
            ),
            frequency=frequency,
            remediation=self.scalar(
                self.require(fields, "remediation", node, what), f"{what} remediation"
            ),
            threshold=self.threshold(self.require(fields, "threshold", node, what), what),
            sarif_rules=sarif_rules,
            step_rules=step_rules,
            mappings=self.mappings(self.require(fields, "controls", node, what), what, known),
            secrets=self.flag(fields.get("secrets"), f"{what} secrets"),
            runtime=self.flag(fields.get("runtime"), f"{what} runtime"),
            applies_to=(
                self.pattern(fields["applies_to"], f"{what} applies_to")
                if "applies_to" in fields
                else None
            ),
        )

    def flag(self, node: yaml.Node | None, what: str) -> bool:
        if node is None:
            return False
        text = self.scalar(node, what).lower()
        if text not in ("true", "false"):
            raise self.fail(node, f"{what} must be true or false, not {text!r}")
        return text == "true"

    def classify(
        self, node: yaml.Node, what: str
    ) -> tuple[tuple[SarifRule, ...], tuple[StepRule, ...]]:
        fields = self.mapping(node, f"{what} classify")
        self.only(fields, {"sarif", "steps"}, node, f"{what} classify")
        sarif = (
            [
                self.sarif_rule(rule, what)
                for rule in self.sequence(fields.get("sarif", node), f"{what} sarif rules")
            ]
            if "sarif" in fields
            else []
        )
        steps = (
            [
                self.step_rule(rule, what)
                for rule in self.sequence(fields["steps"], f"{what} step rules")
            ]
            if "steps" in fields
            else []
        )
        return tuple(sarif), tuple(steps)

    def sarif_rule(self, node: yaml.Node, what: str) -> SarifRule:
        fields = self.mapping(node, f"a SARIF rule of {what}")
        self.only(
            fields, {"tool", "category", "path", "run_property"}, node, f"a SARIF rule of {what}"
        )
        if not fields:
            raise self.fail(node, f"a SARIF rule of {what} has no condition")
        prop = fields.get("run_property")
        return SarifRule(
            tool=self.pattern(fields["tool"], "tool") if "tool" in fields else None,
            category=self.pattern(fields["category"], "category") if "category" in fields else None,
            path=self.pattern(fields["path"], "path") if "path" in fields else None,
            run_property=None if prop is None else self.scalar(prop, "run_property"),
        )

    def step_rule(self, node: yaml.Node, what: str) -> StepRule:
        fields = self.mapping(node, f"a step rule of {what}")
        self.only(fields, {"job", "step"}, node, f"a step rule of {what}")
        if not fields:
            raise self.fail(node, f"a step rule of {what} has no condition")
        return StepRule(
            job=self.pattern(fields["job"], "job") if "job" in fields else None,
            step=self.pattern(fields["step"], "step") if "step" in fields else None,
        )

    def threshold(self, node: yaml.Node, what: str) -> Threshold:
        fields = self.mapping(node, f"{what} threshold")
        self.only(fields, {"severity", "fix_available", "rules"}, node, f"{what} threshold")
        severity_node = self.require(fields, "severity", node, f"{what} threshold")
        text = self.scalar(severity_node, "severity").lower()
        try:
            severity = Severity(text)
        except ValueError:
            names = ", ".join(level.value for level in Severity)
            raise self.fail(
                severity_node, f"{what} threshold severity {text!r} is not one of {names}"
            ) from None
        rules = fields.get("rules")
        return Threshold(
            severity=severity,
            fix_available=self.flag(fields.get("fix_available"), f"{what} fix_available"),
            rules=frozenset()
            if rules is None
            else frozenset(
                self.scalar(rule, "rule id")
                for rule in self.sequence(rules, f"{what} threshold rules")
            ),
        )

    def mappings(
        self, node: yaml.Node, what: str, known: set[tuple[str, str]]
    ) -> tuple[Mapping, ...]:
        result: list[Mapping] = []
        for framework, entries in self.mapping(node, f"{what} controls").items():
            for entry in self.sequence(entries, f"{what} {framework} controls"):
                fields = self.mapping(entry, f"a {framework} mapping of {what}")
                self.only(fields, {"id", "rationale", "source"}, entry, f"a mapping of {what}")
                control_id = self.scalar(
                    self.require(fields, "id", entry, "a mapping"), "control id"
                )
                if (framework, control_id) not in known:
                    raise self.fail(
                        entry,
                        f"{what} maps to {framework} {control_id}, which controls does not list",
                    )
                rationale = self.scalar(
                    self.require(fields, "rationale", entry, "a mapping"), "rationale"
                )
                source = (
                    self.scalar(fields["source"], "source") if "source" in fields else "criteria"
                )
                result.append(Mapping(framework, control_id, rationale, source))
        return tuple(result)

    def check_unique_gates(self, gates: tuple[Gate, ...], node: yaml.Node) -> None:
        seen: set[str] = set()
        for gate in gates:
            if gate.id in seen:
                raise self.fail(node, f"gate {gate.id!r} is listed twice")
            seen.add(gate.id)
