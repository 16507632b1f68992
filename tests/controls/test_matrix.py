"""The control matrix: the shipped one loads, and a broken one is named by file and line."""

from pathlib import Path

import pytest

from auditpack.controls.matrix import MatrixError, default_matrix_text, load_matrix, parse_matrix
from auditpack.evidence.model import Severity


def test_shipped_matrix_maps_every_gate_in_all_three_frameworks() -> None:
    matrix = load_matrix()
    assert [gate.id for gate in matrix.gates] == [
        "sast",
        "image-scan",
        "iac-scan",
        "dependency-scan",
        "secret-scanning",
        "runtime-detection",
    ]
    for gate in matrix.gates:
        assert {m.framework for m in gate.mappings} == {"soc2", "iso27001_2013", "iso27001_2022"}
        assert all(m.rationale for m in gate.mappings)


def test_article_and_better_supported_mappings_are_both_there() -> None:
    matrix = load_matrix()
    sast = {(m.framework, m.control_id, m.source) for m in matrix.gate("sast").mappings}
    assert ("soc2", "CC6.1", "article") in sast
    assert ("soc2", "CC8.1", "criteria") in sast
    assert ("iso27001_2022", "A.8.28", "criteria") in sast
    runtime = {m.control_id for m in matrix.gate("runtime-detection").mappings}
    assert {"CC7.2", "A.12.4.1", "A.8.16"} <= runtime
    assert "A.8.9" in {m.control_id for m in matrix.gate("iac-scan").mappings}


def test_thresholds_follow_the_article() -> None:
    matrix = load_matrix()
    dependency = matrix.gate("dependency-scan").threshold
    assert dependency.severity is Severity.HIGH and dependency.fix_available
    assert matrix.gate("image-scan").threshold.severity is Severity.CRITICAL
    assert matrix.gate("iac-scan").threshold.rules == {
        "CKV_K8S_8",
        "CKV_K8S_9",
        "CKV_K8S_11",
        "CKV_K8S_14",
        "CKV_K8S_20",
    }


def test_trivy_image_and_filesystem_scans_land_in_different_gates() -> None:
    matrix = load_matrix()
    assert matrix.classify_sarif("Trivy", None, "out/trivy-image.sarif") == "image-scan"
    assert matrix.classify_sarif("Trivy", None, "out/trivy-results.sarif") == "dependency-scan"
    assert matrix.classify_sarif("Trivy", None, "x.sarif", {"imageName"}) == "image-scan"
    assert matrix.classify_sarif("Trivy", None, "trivy-config.sarif") == "iac-scan"
    assert matrix.classify_sarif("gitleaks", None, "x.sarif") == "secret-scanning"
    assert matrix.classify_sarif("SomethingElse", None, "x.sarif") is None


def test_steps_named_after_their_action_are_classified_by_job() -> None:
    matrix = load_matrix()
    step = "Run aquasecurity/trivy-action@master"
    assert matrix.classify_step("image-scan", step) == "image-scan"
    assert matrix.classify_step("dependency-scan", step) == "dependency-scan"
    assert matrix.classify_step("build", "Run actions/checkout@v4") is None
    assert matrix.classify_job("iac") == "iac-scan"


def _broken(old: str, new: str) -> str:
    text = default_matrix_text()
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


def test_unknown_control_is_named_with_its_line() -> None:
    text = _broken("        - id: A.8.28\n", "        - id: A.8.99\n")
    line = _line_of(text, "id: A.8.99")
    with pytest.raises(MatrixError) as error:
        parse_matrix(text, "custom.yaml")
    assert str(error.value).startswith(
        f"custom.yaml:{line}: gate sast maps to iso27001_2022 A.8.99"
    )


def test_bad_severity_and_bad_regex_and_bad_yaml() -> None:
    with pytest.raises(
        MatrixError, match=r"custom.yaml:\d+: gate sast threshold severity 'severe'"
    ):
        parse_matrix(_broken("severity: high", "severity: severe"), "custom.yaml")
    with pytest.raises(MatrixError, match="not a valid regular expression"):
        parse_matrix(_broken("'(?i)^semgrep'", "'(?i)^semgrep('"), "custom.yaml")
    with pytest.raises(MatrixError, match=r"custom.yaml:\d+: not valid YAML"):
        parse_matrix("gates: [unclosed", "custom.yaml")


def test_unknown_key_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="unknown key 'treshold'"):
        parse_matrix(_broken("    threshold:\n", "    treshold:\n"), "custom.yaml")
    with pytest.raises(MatrixError, match="cannot read the control matrix"):
        load_matrix(tmp_path / "missing.yaml")


def test_a_user_matrix_can_add_a_gate(tmp_path: Path) -> None:
    extra = """
  - id: dast
    name: Dynamic testing (DAST)
    tools: [ZAP]
    rollout_week: 5
    frequency: weekly
    remediation: Run ZAP baseline scans against staging.
    classify:
      sarif:
        - tool: '(?i)zap'
    threshold:
      severity: high
    controls:
      soc2:
        - id: CC8.1
          rationale: Changes are tested dynamically before release.
"""
    path = tmp_path / "matrix.yaml"
    path.write_text(default_matrix_text() + extra, encoding="utf-8")
    matrix = load_matrix(path)
    assert matrix.classify_sarif("OWASP ZAP", None, "zap.sarif") == "dast"
    assert matrix.sample_size(matrix.gate("dast").frequency) == 10


def test_a_job_named_image_scan_is_not_dependency_scanning() -> None:
    matrix = load_matrix()
    assert matrix.classify_job("image-scan") is None
    assert matrix.classify_job("sca") == "dependency-scan"
    assert matrix.classify_job("dependency-check") == "dependency-scan"


def test_the_trivy_starter_workflow_step_is_an_image_scan() -> None:
    """starter-workflows/trivy.yml: job "Build", step "Run Trivy vulnerability scanner"
    with `image-ref`, right after `docker build`."""
    matrix = load_matrix()
    assert matrix.classify_step("Build", "Run Trivy vulnerability scanner") == "image-scan"
    assert matrix.classify_step("test", "Run Trivy vulnerability scanner") == "dependency-scan"


def test_named_checks_block_whatever_their_severity() -> None:
    from auditpack.evidence.model import Finding

    threshold = load_matrix().gate("iac-scan").threshold

    def finding(rule: str, severity: Severity, suppressed: bool = False) -> Finding:
        return Finding("Checkov", rule, severity, "m", suppressed=suppressed)

    assert threshold.breached_by(finding("CKV_K8S_20", Severity.LOW))  # named: always
    assert threshold.breached_by(finding("AVD-AWS-0086", Severity.HIGH))  # high: always
    assert not threshold.breached_by(finding("AVD-AWS-0089", Severity.MEDIUM))
    assert not threshold.breached_by(finding("CKV_K8S_20", Severity.HIGH, suppressed=True))
    assert threshold.describe() == (
        "high and above; and, whatever their severity, "
        "CKV_K8S_11, CKV_K8S_14, CKV_K8S_20, CKV_K8S_8, CKV_K8S_9"
    )
