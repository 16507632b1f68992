"""Folds what scanners report (CVSS scores, their own words, SARIF levels) into one severity."""

from __future__ import annotations

import math
import re

from auditpack.evidence.model import Severity

# The words tools use for their own severity. "error", "warning" and "note" appear as
# severity words too (some tools copy the SARIF level into their properties).
_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,  # GitHub advisories and npm audit say "moderate"
    "warning": Severity.MEDIUM,
    "low": Severity.LOW,
    "note": Severity.LOW,
    "info": Severity.NONE,
    "informational": Severity.NONE,
}

# Snyk Open Source writes the severity only into rule text: "Medium severity - ReDoS in minimatch".
_SNYK_TEXT = re.compile(r"\s*(critical|high|medium|low)\s+severity\b", re.IGNORECASE)

# SARIF 2.1.0 §3.27.10: the four levels, mapped the way GitHub code scanning shows them.
_LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.NONE,
}


def severity_from_cvss(score: float) -> Severity:
    """The band GitHub code scanning puts a `security-severity` score in."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.NONE


def normalise_severity(
    security_severity: str | float | None, tool_severity: str | None, level: str
) -> Severity:
    """The severity of one result: its score if it has one, else the tool's word, else its level.

    A score wins over everything the tool says in words because GitHub code scanning
    ranks alerts by `security-severity` alone when it is present; an auditor comparing
    our pack with the Security tab must see the same severity there.
    """
    score = _parse_score(security_severity)
    if score is not None:
        return severity_from_cvss(score)

    if tool_severity is not None:
        word = tool_severity_word(tool_severity)
        if word is not None:
            return word

    # An unknown level is read as "warning", the level SARIF assumes when none is given.
    return _LEVELS.get(level.strip().lower(), Severity.MEDIUM)


def tool_severity_word(text: str) -> Severity | None:
    """The severity a tool's own word or Snyk-style rule text names, or None if it names none."""
    word = text.strip().lower()
    if word in _WORDS:
        return _WORDS[word]
    match = _SNYK_TEXT.match(text)
    return _WORDS[match.group(1).lower()] if match else None


def _parse_score(value: str | float | None) -> float | None:
    """A CVSS-like score in 0..10, or None when the value is absent or not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(score) or not 0.0 <= score <= 10.0:
        return None
    return score
