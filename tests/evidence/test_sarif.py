"""The streaming SARIF reader on real scanner output, on every quirk in QUIRKS.md, and on junk.

Expected numbers were counted by hand in the files under tests/data/sarif.
"""

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditpack.evidence.errors import SarifError
from auditpack.evidence.model import Finding, Location, Severity
from auditpack.evidence.sarif import (
    SarifDocument,
    SarifRun,
    is_secret_scanner,
    iter_findings,
    read_sarif,
)

CRITICAL, HIGH, MEDIUM, LOW, NONE = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.NONE,
)


def findings(doc: SarifDocument) -> list[Finding]:
    return [finding for _, finding in iter_findings(doc)]


def read(data_dir: Path, name: str) -> tuple[SarifDocument, list[Finding]]:
    doc = read_sarif(data_dir / "sarif" / name)
    return doc, findings(doc)


def severities(found: list[Finding]) -> Counter[Severity]:
    return Counter(finding.severity for finding in found)


def write_log(tmp_path: Path, runs: list[dict[str, Any]], name: str = "log.sarif") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": "2.1.0", "runs": runs}), encoding="utf-8")
    return path


def run_of(results: list[dict[str, Any]], name: str = "tool", **tool: Any) -> dict[str, Any]:
    return {"tool": {"driver": {"name": name, **tool}}, "results": results}


def only_finding(tmp_path: Path, run: dict[str, Any]) -> Finding:
    [finding] = findings(read_sarif(write_log(tmp_path, [run])))
    return finding


# --- real scanner output ------------------------------------------------------------------


def test_bandit_runs_before_version_and_severity_in_issue_severity(data_dir: Path) -> None:
    doc, found = read(data_dir, "bandit/bandit_1.8.6_output.sarif")

    assert doc.version == "2.1.0"
    [run] = doc.runs
    assert (run.tool, run.tool_version, run.result_count) == ("Bandit", "1.8.6", 172)
    assert run.property_keys == frozenset({"metrics"})
    assert run.ended_at == datetime(2025, 10, 13, 20, 15, 33, tzinfo=UTC)
    assert len(found) == 172
    assert severities(found) == {LOW: 171, MEDIUM: 1}
    assert not any(f.suppressed for f in found)
    [chmod] = [f for f in found if f.rule_id == "B103"]  # the one result without a level
    assert chmod.severity is MEDIUM
    assert chmod.location == Location("src/rapid7/tools/install_insight_agent.py", 54)


def test_bandit_hardcoded_passwords_are_redacted_from_messages(data_dir: Path) -> None:
    _, found = read(data_dir, "bandit/bandit_1.8.6_output.sarif")

    passwords = [f for f in found if f.rule_id in ("B105", "B106")]
    assert len(passwords) == 11
    assert {f.message for f in passwords} == {"Possible hardcoded password: '[REDACTED]'"}
    # Snippets never reach a finding.
    assert not any("import subprocess" in f.message for f in found)


def test_checkov_security_severity_as_json_number(data_dir: Path) -> None:
    doc, found = read(data_dir, "checkov/checkov_2.3.55_docs_example.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [
        ("Checkov", "2.3.55", 2)
    ]
    assert [(f.rule_id, f.severity) for f in found] == [("CKV_AWS_21", HIGH), ("CKV_AWS_3", MEDIUM)]
    assert found[0].location == Location("s3.tf", 1)


def test_codeql_artifact_location_with_only_an_index(data_dir: Path) -> None:
    _, found = read(data_dir, "codeql/codeql-action_artifactlocation_index_only.sarif")

    assert [f.location for f in found] == [Location("testFile1.js", 1), Location("testFile2.js", 2)]
    # ruleIndex 0 into an empty rules list: the ruleId stands, the level falls back to warning.
    assert [(f.rule_id, f.severity) for f in found] == [("js/unused-local-variable", MEDIUM)] * 2


def test_codeql_two_runs_from_two_tools(data_dir: Path) -> None:
    doc, found = read(data_dir, "codeql/codeql-action_two_runs_lgtm_and_codeql.sarif")

    assert [(r.index, r.tool, r.tool_version, r.result_count) for r in doc.runs] == [
        (0, "LGTM.com", "1.24.0-SNAPSHOT", 1),
        (1, "CodeQL command-line toolchain", "2.0.0", 2),
    ]
    pairs = list(iter_findings(doc))
    assert [index for index, _ in pairs] == [0, 1, 1]
    assert [f.tool for f in found] == ["LGTM.com", *["CodeQL command-line toolchain"] * 2]
    assert severities(found) == {LOW: 3}  # defaultConfiguration.level note
    assert found[0].location == Location("main.js", 2)  # %SRCROOT% stays unresolved
    assert found[0].fingerprint == (
        "primaryLocationLineHash=39fa2ee980eb94b0:1;primaryLocationStartColumnFingerprint=4"
    )


def test_codeql_2_12_rules_in_tool_extensions(data_dir: Path) -> None:
    doc, found = read(data_dir, "codeql/codeql_2.12.2_javascript_rules_in_extensions.sarif")

    [run] = doc.runs
    assert (run.tool, run.tool_version, run.result_count) == ("CodeQL", "2.12.2", 5)
    assert run.property_keys == frozenset({"metricResults", "semmle.formatSpecifier"})
    assert run.ended_at is None  # the invocation has no endTimeUtc
    # security-severity from extensions[18].rules: 7.5, 8.1, 8.1, 5.0, 7.5
    assert [(f.rule_id, f.severity) for f in found] == [
        ("js/clear-text-logging", HIGH),
        ("js/insufficient-password-hash", HIGH),
        ("js/insufficient-password-hash", HIGH),
        ("js/overly-large-range", MEDIUM),
        ("js/weak-cryptographic-algorithm", HIGH),
    ]
    assert found[0].location == Location("src/Logger.ts", 42)


def test_codeql_2_2_without_level_or_security_severity(data_dir: Path) -> None:
    doc, found = read(data_dir, "codeql/codeql_2.2.5_java_no_level_no_secsev.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [("CodeQL", "2.2.5", 16)]
    # Every result's rule has defaultConfiguration.level error.
    assert severities(found) == {HIGH: 16}
    assert Counter(f.rule_id for f in found)["java/sql-injection"] == 9


def test_semgrep_level_from_rule_and_ansi_notifications(data_dir: Path) -> None:
    doc, found = read(data_dir, "semgrep/semgrep_0.95.0_ci_output.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [
        ("semgrep", "0.95.0", 1)
    ]
    [finding] = found
    assert finding.rule_id == "dockerfile.security.missing-user.missing-user"
    assert finding.severity is HIGH  # no result level; rule defaultConfiguration error
    assert finding.location == Location("Dockerfile", 37)
    assert "\x1b" not in finding.message


def test_semgrep_empty_run(data_dir: Path) -> None:
    doc, found = read(data_dir, "semgrep/semgrep_oss_1.66.2_empty.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [
        ("Semgrep OSS", "1.66.2", 0)
    ]
    assert found == []


def test_snyk_two_runs_with_empty_results(data_dir: Path) -> None:
    doc, found = read(data_dir, "snyk/snyk_container_1.1292.1_two_empty_runs.sarif")

    assert [(r.index, r.tool, r.result_count) for r in doc.runs] == [
        (0, "Snyk Container", 0),
        (1, "Snyk Container", 0),
    ]
    assert found == []


def test_grype_security_severity_wins_over_its_own_label(data_dir: Path) -> None:
    doc, found = read(data_dir, "grype/grype_directory_scan.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [
        ("grype", "0.0.0-dev", 2)
    ]
    # CVE-1999-0001: level note, "low" in the text, security-severity 8.2.
    # CVE-1999-0002: level error, "critical" in the text, security-severity 8.5.
    assert [f.severity for f in found] == [HIGH, HIGH]
    # Grype's help says "Fix Version: 1.2.1,2.1.3,3.4.0" and "Fix Version: " (none).
    assert [f.fix_available for f in found] == [True, False]


def test_grype_image_scan_locations(data_dir: Path) -> None:
    _, found = read(data_dir, "grype/grype_image_scan.sarif")

    assert [f.location for f in found] == [
        Location("user-input/somefile-1.txt", 1),
        Location("user-input/somefile-2.txt", 1),
    ]
    assert [f.severity for f in found] == [HIGH, HIGH]


def test_trivy_config_scan(data_dir: Path) -> None:
    doc, found = read(data_dir, "trivy/trivy_config_terraform_misconfig.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [("Trivy", None, 8)]
    assert severities(found) == {HIGH: 5, MEDIUM: 1, LOW: 2}
    assert {f.fix_available for f in found} == {None}  # misconfigurations have no fix line
    assert found[3].location == Location("main.tf", 16)


def test_trivy_image_scan_names_the_image_in_uri_and_properties(data_dir: Path) -> None:
    doc, found = read(data_dir, "trivy/trivy_image_alpine-310.sarif")

    [run] = doc.runs
    assert (run.tool, run.tool_version, run.result_count) == ("Trivy", "dev", 4)
    assert run.property_keys == frozenset({"imageID", "imageName", "repoDigests", "repoTags"})
    assert severities(found) == {MEDIUM: 4}
    assert {f.location for f in found} == {
        Location("testdata/fixtures/images/alpine-310.tar.gz", 1)
    }
    assert [f.fix_available for f in found] == [True] * 4


def test_trivy_ci_output(data_dir: Path) -> None:
    doc, found = read(data_dir, "trivy/trivy_image_ci_output_v0.37.1.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [("Trivy", "0.37.1", 42)]
    assert severities(found) == {CRITICAL: 5, HIGH: 23, MEDIUM: 14}
    assert not any(f.suppressed for f in found)
    assert all(f.fix_available for f in found)
    assert found[-1].location == Location(
        "usr/local/lib/python3.9/site-packages/wheel-0.37.0.dist-info/METADATA", 1
    )


def test_trivy_empty_ci_output(data_dir: Path) -> None:
    doc, found = read(data_dir, "trivy/trivy_image_ci_output_empty_v0.38.1.sarif")

    assert [(r.tool, r.tool_version, r.result_count) for r in doc.runs] == [("Trivy", "0.38.1", 0)]
    assert found == []


def test_trivy_single_vulnerability(data_dir: Path) -> None:
    _, found = read(data_dir, "trivy/trivy_image_single_vuln_v0.43.1.sarif")

    [finding] = found
    assert (finding.rule_id, finding.severity) == ("CVE-2021-36159", CRITICAL)
    assert finding.location == Location("library/alpine", 1)  # ROOTPATH never defined
    assert finding.fix_available is True
    assert finding.message.startswith("Package: apk-tools\nInstalled Version: 2.10.6-r0")


# --- gitleaks and secrets -----------------------------------------------------------------


def test_gitleaks_secret_never_reaches_a_finding(data_dir: Path) -> None:
    doc, found = read(data_dir, "gitleaks/gitleaks_report_simple.sarif")

    [run] = doc.runs
    assert (run.tool, run.tool_version, run.result_count) == ("gitleaks", "8.0.0", 1)
    assert is_secret_scanner(run)
    [finding] = found
    # "test-rule" is not among the driver's rules: no level anywhere, so warning.
    assert (finding.rule_id, finding.severity) == ("test-rule", MEDIUM)
    assert finding.location == Location("auth.py", 1)
    for value in (finding.tool, finding.rule_id, finding.message, finding.fingerprint):
        assert "a secret" not in value


def test_gitleaks_snippet_is_removed_from_the_message(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI-not-a-real-key"
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": ".env"},
            "region": {"startLine": 3, "snippet": {"text": secret}},
        }
    }
    result = {"ruleId": "generic-api-key", "message": {"text": f"found {secret}"}}
    run = run_of([{**result, "locations": [location]}], name="gitleaks")

    finding = only_finding(tmp_path, run)

    assert finding.message == "found [REDACTED]"
    assert finding.location == Location(".env", 3)


def test_the_caller_decides_which_runs_are_secret_scanning(tmp_path: Path) -> None:
    location = {"physicalLocation": {"region": {"snippet": {"text": "tiger-lily-7"}}}}
    result = {"message": {"text": "match tiger-lily-7"}, "locations": [location]}
    doc = read_sarif(write_log(tmp_path, [run_of([result], name="Trivy")]))

    [(_, kept)] = iter_findings(doc)
    [(_, removed)] = iter_findings(doc, secret_scanning=lambda run: run.tool == "Trivy")

    assert kept.message == "match tiger-lily-7"
    assert removed.message == "match [REDACTED]"


def test_token_in_a_message_is_redacted_in_every_run(tmp_path: Path) -> None:
    token = "ghp_" + "0123456789abcdefghijklmnopqrstuvwxyz"
    result = {"ruleId": "r", "message": {"text": f"token {token} in workflow"}}

    finding = only_finding(tmp_path, run_of([result], name="semgrep"))

    assert finding.message == "token [REDACTED] in workflow"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("gitleaks", True), ("TruffleHog", True), ("detect-secrets", True), ("Trivy", False)],
)
def test_secret_scanners_are_known_by_tool_name(name: str, expected: bool) -> None:
    run = SarifRun(0, name, None, None, frozenset(), None, 0)
    assert is_secret_scanner(run) is expected


# --- structure quirks ---------------------------------------------------------------------


def test_empty_runs_array(data_dir: Path) -> None:
    doc, found = read(data_dir, "gitleaks/gitleaks_baseline_empty_runs.sarif")

    assert (doc.version, doc.runs, found) == ("2.1.0", (), [])


def test_runs_without_results_and_odd_tool_names(data_dir: Path) -> None:
    doc, found = read(data_dir, "edge/codeql-action_five_runs_odd_tool_names.sarif")

    assert [r.tool for r in doc.runs] == [
        "CodeQL command-line toolchain",
        "CodeQL command-line toolchain",
        "ESLint",
        "",  # driver.name ""
        "",  # driver.name null
    ]
    assert [r.result_count for r in doc.runs] == [0] * 5
    assert found == []


def test_uri_that_is_not_a_uri_is_kept_as_text(data_dir: Path) -> None:
    _, found = read(data_dir, "edge/codeql-action_uri_not_valid.sarif")

    assert [f.location for f in found] == [Location("not a valid URI", 2)]


def test_ghas_sample_with_taxonomies(data_dir: Path) -> None:
    doc, found = read(data_dir, "edge/sarif-sdk_cwe_ghas_sample_taxonomies.sarif")

    [run] = doc.runs
    assert (run.tool, run.tool_version, run.result_count) == ("CweSamplerScanner", "0.1.0", 7)
    assert run.category is None  # automationDetails has only guids
    assert run.ended_at == datetime(2024, 1, 1, tzinfo=UTC)
    # security-severity 7.8, 8.8, 7.5, 9.8, 5.0, 7.8, 5.0; two results have no level.
    assert [f.severity for f in found] == [HIGH, HIGH, HIGH, CRITICAL, MEDIUM, HIGH, MEDIUM]
    assert found[0].location == Location("src/Sarif/Taxonomies/SampleCode.cs", 18)


def test_rule_references_past_the_end_are_tolerated(data_dir: Path) -> None:
    _, found = read(data_dir, "edge/sarif-sdk_extensions_rule_refs_invalid_indices.sarif")

    # ruleIndex 3 of 1 rule; rule.index 1 in an extension without rules; extension 2 of 2.
    assert [f.rule_id for f in found] == ["TST0004", "EXTR0002", "EXTR1001"]
    assert [f.severity for f in found] == [MEDIUM] * 3
    assert found[0].location is None  # artifact index 2 of 1 artifact


def test_rule_index_only_resolves_the_rule_id(data_dir: Path) -> None:
    doc, found = read(data_dir, "edge/sarif-sdk_fortify_ruleIndex_only.sarif")

    [run] = doc.runs
    assert (run.tool, run.category) == ("Micro Focus Fortify Static Code Analyzer", "The_Build_ID/")
    [finding] = found
    assert finding.rule_id == "31D4607A-A3FF-447C-908A-CA2BBE4CE4B7"
    assert finding.severity is MEDIUM  # no level, rule has no default level
    assert finding.location == Location("Helpers/InvoiceHelper.cs", 57)
    assert "SELECT" not in finding.message


def test_dangling_rule_index_without_rule_id(data_dir: Path) -> None:
    doc, found = read(data_dir, "edge/sarif-sdk_ruleIndex_only_out_of_range.sarif")

    assert doc.runs[0].category == "Fortify/"
    [finding] = found
    assert (finding.rule_id, finding.severity) == ("", HIGH)  # ruleIndex 39 of 1; level error
    assert finding.location == Location(
        "file:///C:/vs/src/2/s/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/Fortify/src/"
        "bannedAPIs.java",
        48,
    )


def test_baseline_state_over_two_runs(data_dir: Path) -> None:
    doc, _ = read(data_dir, "edge/sarif-sdk_multiple_runs_baselineState.sarif")

    pairs = [(index, f.rule_id, f.baseline_state, f.severity) for index, f in iter_findings(doc)]
    assert pairs == [
        (0, "TST0001", "new", HIGH),
        (0, "TST0002", "new", HIGH),
        (1, "TST0003", "new", HIGH),
    ]


def test_external_suppressions_in_a_file_with_a_bom(data_dir: Path) -> None:
    assert (data_dir / "sarif/edge/sarif-sdk_suppressions_external.sarif").read_bytes()[:3] == (
        b"\xef\xbb\xbf"
    )
    _, current = read(data_dir, "edge/sarif-sdk_suppressions_external.sarif")
    _, previous = read(data_dir, "edge/sarif-sdk_suppressions_previous.sarif")

    assert [f.suppressed for f in current] == [True, True, True, False]
    assert [f.suppressed for f in previous] == [False, True, True]
    assert current[0].location == Location("file:///C:/code/file1.c")


def test_two_runs_with_string_security_severity(data_dir: Path) -> None:
    doc, found = read(data_dir, "edge/sarif-sdk_two_runs_security_severity.sarif")

    assert [(r.tool, r.result_count) for r in doc.runs] == [("GroupingSamplerScanner", 2)] * 1 + [
        ("GroupingSamplerScanner", 1)
    ]
    assert [f.severity for f in found] == [CRITICAL] * 3  # 9.8, 9.1, 9.1


def test_gzip_is_recognised_by_content_not_name(data_dir: Path, tmp_path: Path) -> None:
    original = data_dir / "sarif/codeql/codeql-action_two_runs_lgtm_and_codeql.sarif"
    packed = tmp_path / "results.sarif"
    packed.write_bytes(gzip.compress(original.read_bytes()))

    plain, zipped = read_sarif(original), read_sarif(packed)

    assert zipped.runs == plain.runs
    assert findings(zipped) == findings(plain)


def test_gzip_of_a_file_with_a_bom(data_dir: Path, tmp_path: Path) -> None:
    original = data_dir / "sarif/edge/sarif-sdk_suppressions_external.sarif"
    packed = tmp_path / "suppressions.sarif.gz"
    packed.write_bytes(gzip.compress(original.read_bytes()))

    assert findings(read_sarif(packed)) == findings(read_sarif(original))


def test_minified_file_reads_the_same(data_dir: Path, tmp_path: Path) -> None:
    original = data_dir / "sarif/trivy/trivy_image_ci_output_v0.37.1.sarif"
    minified = tmp_path / "min.sarif"
    minified.write_text(json.dumps(json.loads(original.read_text()), separators=(",", ":")))
    assert minified.read_text().count("\n") == 0

    assert findings(read_sarif(minified)) == findings(read_sarif(original))


# --- severity and rule resolution in small logs -------------------------------------------


@pytest.mark.parametrize(
    ("rule", "result", "expected"),
    [
        # Older CodeQL: problem.severity when the rule has no default level.
        ({"properties": {"problem.severity": "recommendation"}}, {}, LOW),
        ({"properties": {"problem.severity": "error"}}, {}, HIGH),
        ({"defaultConfiguration": {"level": "note"}}, {"level": "error"}, HIGH),
        ({"defaultConfiguration": {"level": "note"}}, {}, LOW),
        ({}, {}, MEDIUM),  # no level anywhere: warning
        ({}, {"kind": "pass"}, NONE),  # SARIF §3.27.10
        ({}, {"level": "note", "properties": {"issue_severity": "HIGH"}}, HIGH),
        (
            {"properties": {"security-severity": "2.0"}},
            {"properties": {"security-severity": 9.5}},
            CRITICAL,
        ),
        ({"shortDescription": {"text": "High severity - Prototype Pollution in lodash"}}, {}, HIGH),
        ({"properties": {"tags": ["vulnerability", "security", "LOW"]}}, {"level": "error"}, LOW),
        ({"shortDescription": {"text": "Info"}}, {"level": "error"}, HIGH),  # a title, no word
        ({"properties": {"tags": ["info"]}}, {"level": "error"}, HIGH),
    ],
)
def test_severity_chain(
    tmp_path: Path, rule: dict[str, Any], result: dict[str, Any], expected: Severity
) -> None:
    run = run_of(
        [{"ruleId": "R1", "message": {"text": "m"}, **result}], rules=[{"id": "R1", **rule}]
    )

    assert only_finding(tmp_path, run).severity is expected


def test_rule_found_by_id_when_index_is_absent(tmp_path: Path) -> None:
    rules = [{"id": "A", "defaultConfiguration": {"level": "note"}}, {"id": "B"}]
    results: list[dict[str, Any]] = [
        {"ruleId": "A", "message": {"text": "m"}},
        {"ruleIndex": 0, "message": {"text": "m"}},
    ]
    found = findings(read_sarif(write_log(tmp_path, [run_of(results, rules=rules)])))

    assert [(f.rule_id, f.severity) for f in found] == [("A", LOW), ("A", LOW)]


@pytest.mark.parametrize(
    ("suppressions", "expected"),
    [
        ([{"kind": "inSource"}], True),
        ([{"kind": "external", "status": "accepted"}], True),
        ([{"kind": "external", "status": "underReview"}], False),
        ([{"kind": "inSource", "status": "rejected"}], False),
        ([{"status": "rejected"}, {"status": "accepted"}], True),
        ([], False),
    ],
)
def test_suppression_status(tmp_path: Path, suppressions: list[Any], expected: bool) -> None:
    result = {"message": {"text": "m"}, "suppressions": suppressions}

    assert only_finding(tmp_path, run_of([result])).suppressed is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"text": "plain", "markdown": "**md**"}, "plain"),
        ({"markdown": "only markdown — here"}, "only markdown — here"),
        ({"id": "default", "arguments": ["x", "file.c"]}, "Variable x in file.c is unused"),
        ({}, "Unused variable"),
        ({"text": "\x1b[31mred\x1b[0m text"}, "red text"),
    ],
)
def test_message_sources(tmp_path: Path, message: dict[str, Any], expected: str) -> None:
    rule = {
        "id": "R",
        "shortDescription": {"text": "Unused variable"},
        "messageStrings": {"default": {"text": "Variable {0} in {1} is unused"}},
    }
    run = run_of([{"ruleId": "R", "message": message}], rules=[rule])

    assert only_finding(tmp_path, run).message == expected


def test_baseline_states_pass_through(tmp_path: Path) -> None:
    results: list[dict[str, Any]] = [
        {"message": {"text": "m"}, "baselineState": state} for state in ("unchanged", "updated")
    ]
    results.append({"message": {"text": "m"}})

    found = findings(read_sarif(write_log(tmp_path, [run_of(results)])))

    assert [f.baseline_state for f in found] == ["unchanged", "updated", None]


def test_fingerprints_when_there_are_no_partial_fingerprints(tmp_path: Path) -> None:
    result = {"message": {"text": "m"}, "fingerprints": {"b": "2", "a": "1"}}

    assert only_finding(tmp_path, run_of([result])).fingerprint == "a=1;b=2"


def test_latest_invocation_end_in_utc(tmp_path: Path) -> None:
    run = run_of([])
    run["invocations"] = [
        {"endTimeUtc": "2024-03-01T10:00:00Z"},
        {"endTimeUtc": "2024-03-01T12:30:00+02:00"},  # 10:30 UTC, the latest
        {"endTimeUtc": "not a time"},
    ]
    run["automationDetails"] = {"id": "trivy/image/"}

    [parsed] = read_sarif(write_log(tmp_path, [run])).runs

    assert parsed.ended_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert parsed.category == "trivy/image/"


def test_results_null_counts_as_no_results(tmp_path: Path) -> None:
    run = run_of([])
    run["results"] = None

    assert read_sarif(write_log(tmp_path, [run])).runs[0].result_count == 0


# --- malformed input ----------------------------------------------------------------------


def assert_rejected(path: Path, reason: str) -> None:
    with pytest.raises(SarifError) as caught:
        read_sarif(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_results_that_are_a_number(data_dir: Path) -> None:
    assert_rejected(
        data_dir / "sarif/edge/codeql-action_invalid_results_is_number.sarif",
        "run 0: 'results' is not an array",
    )


def test_run_without_tool(data_dir: Path) -> None:
    # The checkov fixture really has no "tool" key: only $schema, version and runs[0].results.
    path = data_dir / "sarif/checkov/checkov_openapi_runner_results_no_tool.sarif"
    assert '"tool"' not in path.read_text()

    assert_rejected(path, "run 0 has no 'tool'")


def test_truncated_file(data_dir: Path, tmp_path: Path) -> None:
    original = (data_dir / "sarif/trivy/trivy_image_ci_output_v0.37.1.sarif").read_bytes()
    path = tmp_path / "truncated.sarif"
    path.write_bytes(original[: len(original) // 2])

    assert_rejected(path, "truncated")


def test_truncated_gzip(data_dir: Path, tmp_path: Path) -> None:
    packed = gzip.compress((data_dir / "sarif/bandit/bandit_1.8.6_output.sarif").read_bytes())
    path = tmp_path / "truncated.sarif.gz"
    path.write_bytes(packed[: len(packed) // 2])

    assert_rejected(path, "cannot be read")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b" \n", "is empty"),
        (b"\xef\xbb\xbf", "is empty"),
        (b"Scan finished: 3 findings\n", "is not JSON"),
        (b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "is not JSON"),
        (b'["runs"]', "not an object"),
        (b'{"version": "2.1.0"}', "has no 'runs'"),
        (b'{"runs": []}', "has no 'version'"),
        (b'{"version": "2.0.0", "runs": []}', "is SARIF version 2.0.0"),
        (b'{"runs": [], "version": "1.0.0"}', "is SARIF version 1.0.0"),
        (b'{"version": "2.1.0", "runs": {}}', "'runs' is not an array"),
        (b'{"version": "2.1.0", "runs": [3]}', "run 0 is not an object"),
        (b'{"version": "2.1.0", "runs": [{"tool": {}}]}', "run 0: 'tool' has no 'driver'"),
        (b'{"version": "2.1.0", "runs": [{"tool": null}]}', "run 0: 'tool' is not an object"),
        (
            b'{"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{}, 7]}]}',
            "run 0: result 1 is not an object",
        ),
        (b'{"version": "2.1.0", "runs": []} {}', "is not JSON"),
    ],
)
def test_junk_is_rejected_with_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "upload.sarif"
    path.write_bytes(content)

    assert_rejected(path, reason)


def test_missing_file(tmp_path: Path) -> None:
    assert_rejected(tmp_path / "absent.sarif", "cannot be read")


@pytest.mark.parametrize("now", [1, 5])
def test_file_replaced_between_the_passes(tmp_path: Path, now: int) -> None:
    results = [{"message": {"text": str(n)}} for n in range(5)]
    doc = read_sarif(write_log(tmp_path, [run_of(results[:3])]))
    write_log(tmp_path, [run_of(results[:now])])

    with pytest.raises(SarifError, match="changed since it was first read"):
        findings(doc)


# --- size -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_hundred_thousand_results_stream(tmp_path: Path) -> None:
    count = 200_000
    location = {"physicalLocation": {"artifactLocation": {"index": 0}}}
    result = json.dumps({"ruleIndex": 0, "message": {"text": "m"}, "locations": [location]})
    path = tmp_path / "large.sarif"
    with path.open("w") as out:
        out.write('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "big", "rules": ')
        out.write('[{"id": "R1", "properties": {"security-severity": "7.5"}}]}}, ')
        out.write('"artifacts": [{"location": {"uri": "a.js"}}], "results": [')
        out.write(",".join([result] * count))
        out.write("]}]}")

    # About 2 s on two cores; no time is asserted because shared CI runners vary too much.
    doc = read_sarif(path)
    streamed = sum(
        1
        for _, finding in iter_findings(doc)
        if finding.severity is HIGH and finding.location == Location("a.js")
    )

    assert doc.runs[0].result_count == count
    assert streamed == count
