"""Gate settings read from real workflow files: which step is a gate and whether it blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.model import GateId
from auditpack.evidence.sources.github_workflows import (
    StepSetting,
    WorkflowError,
    gate_settings,
    split_uses,
    workflow_triggers,
)


def read(data_dir: Path, name: str) -> str:
    return (data_dir / "workflows" / name).read_text(encoding="utf-8")


def test_trivy_starter_reports_but_does_not_block(data_dir: Path, matrix: ControlMatrix) -> None:
    text = read(data_dir, "starter-workflows_trivy.yml")

    [step] = gate_settings(text, matrix)

    assert step == StepSetting(
        job="build",
        job_name="Build",
        step="Run Trivy vulnerability scanner",
        action="aquasecurity/trivy-action",
        ref="7b7aa264d83dc58691451798b4d117d53d21edfe",
        # A Trivy step in the job that builds the image: the matrix calls it an image scan.
        gate=GateId("image-scan"),
        settings=(
            ("image-ref", "docker.io/my-organization/my-app:${{ github.sha }}"),
            ("severity", "CRITICAL,HIGH"),
        ),
    )
    assert step.pinned
    # No exit-code: trivy-action's default is 0, so CRITICAL findings do not fail the job.
    assert step.blocks() is False
    assert workflow_triggers(text) == ("push", "pull_request", "schedule")


def test_checkov_soft_fail_through_a_local_action(data_dir: Path, matrix: ControlMatrix) -> None:
    text = read(data_dir, "checkov-action_pr.yml")

    steps = gate_settings(text, matrix)

    assert [(s.job, s.step, s.action, s.ref, s.gate, s.settings) for s in steps] == [
        ("tests", "Scan terragoat", "./", None, None, (("soft_fail", "true"),)),
        ("tests", "Scan private module", "./", None, None, (("soft_fail", "true"),)),
    ]
    assert [step.blocks() for step in steps] == [False, False]
    assert not any(step.pinned for step in steps)
    assert workflow_triggers(text) == ("pull_request",)


def test_gitleaks_action_pinned_with_a_comment(data_dir: Path, matrix: ControlMatrix) -> None:
    text = read(data_dir, "gitleaks_gitleaks.yml")

    [step] = gate_settings(text, matrix)

    assert step == StepSetting(
        job="scan",
        job_name="gitleaks",
        step="Run gitleaks/gitleaks-action@e0c47f4f8be36e29cdc102c57e68cb5cbf0e8d1e",
        action="gitleaks/gitleaks-action",
        ref="e0c47f4f8be36e29cdc102c57e68cb5cbf0e8d1e",  # the "# v3" comment is not the ref
        gate=GateId("secret-scanning"),
        settings=(),
    )
    assert step.blocks() is True
    assert workflow_triggers(text) == ("push", "workflow_dispatch")


def test_semgrep_starter_uses_the_semgrep_app_policy(data_dir: Path, matrix: ControlMatrix) -> None:
    text = read(data_dir, "starter-workflows_semgrep.yml")

    [step] = gate_settings(text, matrix)

    assert (step.job, step.job_name, step.step, step.action, step.gate, step.settings) == (
        "semgrep",
        "Scan",
        "Run returntocorp/semgrep-action@fcd5ab7459e8d91cb1777481980d1b18b4fc6735",
        "returntocorp/semgrep-action",
        "sast",
        (),  # no `config`: the rules come from the semgrep.dev policy
    )
    assert step.blocks() is True


def test_trivy_configured_to_block_on_critical_and_high(
    data_dir: Path, matrix: ControlMatrix
) -> None:
    steps = gate_settings(read(data_dir, "probo_release-probod.yaml"), matrix)

    assert [(s.job, s.step, s.action, s.gate, s.settings, s.blocks()) for s in steps] == [
        (
            "github-release",
            "Run vulnerability scan",
            "anchore/scan-action",
            None,
            (("fail-build", "true"), ("severity-cutoff", "critical")),
            True,
        ),
        (
            "github-release",
            "Trivy scan Docker image",
            "aquasecurity/trivy-action",
            "image-scan",
            (
                (
                    "image-ref",
                    "artifact.probo.inc/probo/probo:${{ needs.docker-manifest.outputs.image_tag }}",
                ),
                ("exit-code", "1"),  # a number in the file
                ("ignore-unfixed", "true"),
                ("vuln-type", "os,library"),
                ("severity", "CRITICAL,HIGH"),
            ),
            True,
        ),
    ]


SYNTHETIC = """
on: push
jobs:
  scan:
    continue-on-error: true
    runs-on: ubuntu-latest
    steps:
      - uses: "aquasecurity/trivy-action@master"
        with: {scan-type: fs, exit-code: "1", ignore-unfixed: yes}
      - name: Trivy with an input
        uses: Aquasecurity/Trivy-Action@0.28.0
        continue-on-error: false
        with:
          exit-code: ${{ inputs.exit-code }}
      - run: semgrep scan --error
      - uses: docker://returntocorp/semgrep
"""


def test_yaml_as_github_reads_it_and_blocking_by_expression(matrix: ControlMatrix) -> None:
    first, second = gate_settings(SYNTHETIC, matrix)

    # YAML 1.2: `yes` stays the text the action receives, `on` stays a key.
    assert first.settings == (
        ("scan-type", "fs"),
        ("exit-code", "1"),
        ("ignore-unfixed", "yes"),
        ("continue-on-error", "true"),
    )
    assert (first.ref, first.pinned, first.blocks()) == ("master", False, False)
    assert second.action == "aquasecurity/trivy-action"
    assert second.setting("continue-on-error") == "false"
    assert second.blocks() is None  # an expression decides the exit code
    assert workflow_triggers(SYNTHETIC) == ("push",)


@pytest.mark.parametrize(
    ("uses", "expected"),
    [
        ("actions/checkout@v4", ("actions/checkout", "v4")),
        ("github/codeql-action/upload-sarif@v3", ("github/codeql-action/upload-sarif", "v3")),
        ("./.github/actions/setup", ("./.github/actions/setup", None)),
        ("docker://alpine:3.20", ("docker://alpine:3.20", None)),
        ("owner/action", ("owner/action", None)),
    ],
)
def test_split_uses(uses: str, expected: tuple[str, str | None]) -> None:
    assert split_uses(uses) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs: [unclosed", "ci.yml: not YAML (while parsing a flow sequence"),
        ("name: no jobs", "ci.yml: not a GitHub Actions workflow (no 'jobs' mapping)"),
    ],
)
def test_a_file_that_is_no_workflow_is_one_error(
    text: str, message: str, matrix: ControlMatrix
) -> None:
    with pytest.raises(WorkflowError) as raised:
        gate_settings(text, matrix, source="ci.yml")

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, CollectionError)
