"""Secret redaction: given secrets, token shapes, assignments, and text that must survive."""

import pytest

from auditpack.evidence.redact import REDACTED, redact_text

# Fake tokens are assembled at run time so that secret scanners run on this repository
# (gitleaks, GitHub push protection) do not flag the test file itself.
GITHUB_CLASSIC = "ghp_" + ("A1b2C3d4E5f6G7h8I9j0" * 2)[:36]
GITHUB_FINE_GRAINED = "github_pat_" + "11ABCDEFG0" * 3 + "_" + "xY9" * 20
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_STS_KEY_ID = "ASIA" + "Y34FZKBOKMUTVV7A"
SLACK_BOT = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
JWT = (
    "eyJ"
    + "hbGciOiJIUzI1NiJ9"
    + ".eyJ"
    + "zdWIiOiIxMjM0NTY3ODkwIn0"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n"
)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE" + " KEY-----\nMIIEowIBAAKCAQEA7bq3\nq9Hs0w==\n"
    "-----END RSA PRIVATE" + " KEY-----"
)


def test_fake_classic_token_has_the_real_shape() -> None:
    assert len(GITHUB_CLASSIC) == 4 + 36 and GITHUB_CLASSIC.startswith("ghp_")


@pytest.mark.parametrize(
    "token",
    [
        GITHUB_CLASSIC,
        "gho_" + "x" * 36,
        "ghs_" + "Y" * 36,
        "ghu_" + "7" * 36,
        GITHUB_FINE_GRAINED,
        AWS_KEY_ID,
        AWS_STS_KEY_ID,
        SLACK_BOT,
        "xoxp-" + "1234567890-abcdef",
        JWT,
        PRIVATE_KEY,
    ],
)
def test_known_token_shapes_are_redacted(token: str) -> None:
    redacted = redact_text(f"Found {token} in config.yml line 3")
    assert redacted == f"Found {REDACTED} in config.yml line 3"


def test_a_private_key_cut_short_loses_its_body() -> None:
    text = "key: -----BEGIN OPENSSH PRIVATE" + " KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    assert "b3BlbnNzaC1rZXktdjEAAAA" not in redact_text(text)


def test_bearer_token_keeps_the_scheme() -> None:
    text = "Authorization: Bearer abcdef0123456789ABCDEF.xyz"
    assert redact_text(text) == f"Authorization: Bearer {REDACTED}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2", f"password={REDACTED}"),
        ("DB_PASSWORD = s3cr3t!x", f"DB_PASSWORD = {REDACTED}"),
        ("secret: abc123def", f"secret: {REDACTED}"),
        ("token=0a1b2c3d; path=/", f"token={REDACTED}; path=/"),
        ('{"api_key": "abcd1234"}', f'{{"api_key": "{REDACTED}"}}'),
        (
            "Possible hardcoded password: 'custom_pass'",
            f"Possible hardcoded password: '{REDACTED}'",
        ),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", f"aws_secret_access_key={REDACTED}"),
    ],
)
def test_assignments_keep_the_key_and_lose_the_value(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Real finding messages from tests/data that must reach the pack unchanged.
        "Password from [an access to password](1) is hashed insecurely.",
        "This logs sensitive data returned by [an access to CERT_PASSWORD](2) as clear text.",
        "Consider possible security implications associated with the subprocess module.",
        "Package: apk-tools\nInstalled Version: 2.10.6-r0\nVulnerability CVE-2021-36159\n"
        "Severity: CRITICAL\nFixed Version: 2.10.7-r0",
        "test-rule has detected secret for file auth.py at commit 0000000000000000.",
        # Prose and code that mention secrets without containing one.
        "Bearer authentication is used for the API.",
        "if password == 'x': return",
        "password = getPassword();",
        "secret: req.body.secret",
        "token = ${{ secrets.GITHUB_TOKEN }}",
        "The tokenizer: splits words",
        "ghp_ prefixed tokens are GitHub classic tokens",
    ],
)
def test_ordinary_finding_text_survives(text: str) -> None:
    assert redact_text(text) == text


def test_given_secrets_are_removed_wherever_they_occur() -> None:
    text = "leaked 'hunter2-prod' twice: hunter2-prod"
    assert redact_text(text, ["hunter2-prod"]) == f"leaked '{REDACTED}' twice: {REDACTED}"


def test_a_snippet_with_surrounding_whitespace_still_matches() -> None:
    assert redact_text("value a secret here", ["  a secret\n"]) == f"value {REDACTED} here"


def test_longer_secrets_go_first_so_no_tail_survives() -> None:
    text = "abcd-efgh-ijkl"
    assert redact_text(text, ["abcd", "abcd-efgh-ijkl"]) == REDACTED


@pytest.mark.parametrize("too_short", ["", "   ", "abc"])
def test_empty_and_very_short_secrets_are_ignored(too_short: str) -> None:
    assert redact_text("abc is a word", [too_short]) == "abc is a word"


def test_redaction_is_idempotent() -> None:
    text = f"password={GITHUB_CLASSIC} and Bearer {JWT} and 'pw: x1y2z3'"
    once = redact_text(text, ["x1y2z3"])
    assert redact_text(once, ["x1y2z3"]) == once
    assert GITHUB_CLASSIC not in once and JWT not in once and "x1y2z3" not in once
