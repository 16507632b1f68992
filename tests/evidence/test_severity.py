"""Severity normalisation: CVSS bands, tool words, SARIF levels and their precedence."""

import pytest

from auditpack.evidence.model import Severity
from auditpack.evidence.severity import normalise_severity, severity_from_cvss, tool_severity_word


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10.0, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (7.0, Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0.0, Severity.NONE),
        (-1.0, Severity.NONE),
    ],
)
def test_cvss_bands_match_github_code_scanning(score: float, expected: Severity) -> None:
    assert severity_from_cvss(score) is expected


@pytest.mark.parametrize(
    ("security_severity", "expected"),
    [
        ("8.8", Severity.HIGH),
        (" 9.8 ", Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (5, Severity.MEDIUM),
    ],
)
def test_security_severity_is_read_as_string_or_number(
    security_severity: str | float, expected: Severity
) -> None:
    assert normalise_severity(security_severity, None, "note") is expected


def test_security_severity_wins_over_the_tools_own_word_and_level() -> None:
    # Grype's CVE-1999-0001: level note, "low" in its text, security-severity 8.2.
    assert normalise_severity("8.2", "low", "note") is Severity.HIGH


def test_zero_security_severity_is_none_not_a_fallback() -> None:
    assert normalise_severity("0.0", "critical", "error") is Severity.NONE


@pytest.mark.parametrize("unusable", ["", "n/a", "nan", "11", "-2", "HIGH"])
def test_unusable_security_severity_falls_back_to_the_tool_word(unusable: str) -> None:
    assert normalise_severity(unusable, "medium", "error") is Severity.MEDIUM


def test_a_boolean_is_not_a_score() -> None:
    assert normalise_severity(True, None, "note") is Severity.LOW


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.CRITICAL),
        ("CRITICAL", Severity.CRITICAL),
        ("High", Severity.HIGH),
        ("HIGH", Severity.HIGH),  # Bandit issue_severity
        ("error", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("moderate", Severity.MEDIUM),
        ("warning", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("note", Severity.LOW),
        ("info", Severity.NONE),
        ("Informational", Severity.NONE),
    ],
)
def test_tool_words_are_read_case_insensitively(word: str, expected: Severity) -> None:
    assert normalise_severity(None, word, "error") is expected


def test_snyk_rule_text_names_the_severity() -> None:
    text = "Medium severity - Regular Expression Denial of Service (ReDoS) vulnerability in ms"
    assert normalise_severity(None, text, "error") is Severity.MEDIUM
    assert tool_severity_word("High severity - Prototype Pollution in lodash") is Severity.HIGH


def test_unknown_tool_word_falls_back_to_the_level() -> None:
    assert normalise_severity(None, "UNDEFINED", "note") is Severity.LOW
    assert tool_severity_word("Error handling is missing") is None


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("error", Severity.HIGH),
        ("warning", Severity.MEDIUM),
        ("note", Severity.LOW),
        ("none", Severity.NONE),
        ("Error", Severity.HIGH),
        ("", Severity.MEDIUM),  # SARIF's default level is warning
        ("bogus", Severity.MEDIUM),
    ],
)
def test_level_is_the_last_resort(level: str, expected: Severity) -> None:
    assert normalise_severity(None, None, level) is expected
