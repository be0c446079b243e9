"""The chapter notebooks: every .py/.ipynb pair agrees, and every code cell was executed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)


def test_every_notebook_pair_is_in_sync_and_executed():
    problems = notebook_tools.check()
    assert not problems, "\n\n".join(problems)
