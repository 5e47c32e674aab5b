"""Terraform's own checks, run from the test suite: formatting, validation of every module and
environment (offline, from the provider mirror), and checkov's static security scan.

They run the Makefile targets, so the suite checks exactly what CI and developers run.
`make tf-test` (plan-level `terraform test` files, ~2 min) runs in the GitHub workflow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="terraform is not installed on this machine"
)


def make(*targets: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_given_the_terraform_tree_when_formatted_and_validated_then_clean():
    result = make("tf-fmt", "tf-validate", timeout=600)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "terraform/envs/prod" in result.stdout


def test_given_the_terraform_tree_when_scanned_by_checkov_then_no_failed_check():
    result = make("tf-scan", timeout=900)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
