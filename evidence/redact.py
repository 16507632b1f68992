"""Removes secrets from text auditpack keeps: given secret values and well-known token shapes."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# Shorter "secrets" are more likely a scanner's placeholder ("***", "x") than a credential,
# and removing every "abc" from a message would destroy it.
_MIN_SECRET_LENGTH = 4

# The patterns aim at what people do not write in prose, so that finding messages
# ("Password from [an access to password](1) is hashed insecurely.") survive.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    # A snippet cut short has no END line: take the base64 body that follows instead.
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\r\n]*)",
    re.DOTALL,
)
# Each shape holds "_", "xox", "eyJ", "AKIA" or "ASIA": redact_text tests for those first.
_TOKENS = re.compile(
    r"\b(?:"
    r"(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key ids (long-lived, STS)
    r"|gh[pousr]_[A-Za-z0-9]{36,251}"  # GitHub classic, OAuth, app, user-to-server, refresh
    r"|github_pat_[A-Za-z0-9_]{22,255}"  # GitHub fine-grained personal access tokens
    r"|xox[baprs]-[A-Za-z0-9-]{10,}"  # Slack bot, app, user, refresh tokens
    r"|eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"  # JWTs: '{"' in base64url
    r")"
)
# At least 16 characters, so that prose such as "Bearer authentication" is left alone.
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/-]{16,}=*", re.IGNORECASE)
# `key = value`, `key: "value"`, `"key": "value"`: the key stays readable, the value goes.
# Each key holds "pass", "pwd", "secret", "token" or "key": redact_text tests for those first.
_ASSIGNMENT = re.compile(
    r"""
    # No word boundary before the key: DB_PASSWORD and csrftoken are keys too, and
    # scanning from the keyword rather than from each word start keeps this fast.
    (?P<key>password|passwd|pwd|passphrase|secret(?:[_-]?key)?|token
        |api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)
    (?P<sep>["']?[ \t]*[:=][ \t]*)
    (?!\[REDACTED\])
    (?:
        (?P<quote>["'])(?P<quoted>[^"'\r\n]+)(?P=quote)
        # A bare value must end where a word ends: `password = getPassword();` and
        # `secret: req.body.secret` are code in rule help, not credentials.
      | (?![=>$%{<])(?![A-Za-z_]\w*\.[A-Za-z_])[\w\-+/=!@#%^~.]+(?=[\s,;&)\]}"'<>]|$)
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets` and every recognised token replaced by REDACTED."""
    if secrets:
        for secret in _usable(secrets):
            text = text.replace(secret, REDACTED)

    # Findings number in the hundreds of thousands: substring tests, much cheaper than
    # the patterns, spare most messages the patterns that cannot match them.
    lowered = text.lower()
    if "private key" in lowered:
        text = _PRIVATE_KEY.sub(REDACTED, text)
    if "_" in text or "xox" in text or "eyJ" in text or "AKIA" in text or "ASIA" in text:
        text = _TOKENS.sub(REDACTED, text)
    if "bearer" in lowered:
        text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    if (
        "pass" in lowered
        or "pwd" in lowered
        or "secret" in lowered
        or "token" in lowered
        or "key" in lowered
    ):
        text = _ASSIGNMENT.sub(_redact_value, text)
    return text


def _usable(secrets: Iterable[str]) -> list[str]:
    """The secrets worth replacing, longest first so that no part of a longer one survives."""
    found: set[str] = set()
    for secret in secrets:
        # A snippet may carry whitespace or a newline that the message does not.
        for candidate in (secret, secret.strip()):
            if len(candidate) >= _MIN_SECRET_LENGTH:
                found.add(candidate)
    return sorted(found, key=len, reverse=True)


def _redact_value(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"
