"""The set-up the README promises is the one CI runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command.*?-->\s*```bash\n(.+?)\n```", readme, re.S)
    assert match, "README.md lost its marked test command"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command():
    command = readme_test_command()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in lines


def test_constraints_pin_the_tested_torch():
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d+\.\d+\.\d+$", pins, re.M)


@pytest.mark.skipif(not os.environ.get("CI"), reason="elsewhere any PyTorch >= 2.1 may be installed")
def test_ci_installed_the_pinned_cpu_torch():
    pinned = re.search(r"^torch==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert torch.__version__.split("+")[0] == pinned
