"""The chapter notebooks: every .py/.ipynb pair agrees, every code cell was executed, and each
header and the README state the run time and training count that the last build measured."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)


def test_every_notebook_pair_is_in_sync_and_executed():
    problems = notebook_tools.pair_problems()
    assert not problems, "\n\n".join(problems)


def test_headers_and_readme_state_the_measured_run_times_and_trainings():
    """Each notebook's `**Run time:**` line and its README row agree with notebooks/build.json."""
    problems = notebook_tools.timing_problems()
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize(
    ("seconds", "trainings", "line"),
    [
        (12.4, 1, "**Run time:** about 10 s on a 2-core laptop CPU (1 training)."),
        (12.6, 3, "**Run time:** about 15 s on a 2-core laptop CPU (3 trainings)."),
        (1.2, 0, "**Run time:** about 5 s on a 2-core laptop CPU (0 trainings)."),
    ],
)
def test_header_line_rounds_to_five_seconds_and_counts_trainings(seconds, trainings, line):
    assert notebook_tools.header_line({"seconds": seconds, "trainings": trainings}) == line


def test_an_old_header_without_the_training_count_is_replaced_whole():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            "# Title\n\n**Run time:** about 20 s for Run All; each run in the panel takes a few seconds.\n\nMore."
        ),
        nbformat.v4.new_markdown_cell("**Run time:** in a later cell, left alone"),
    ]
    assert notebook_tools.set_header(notebook, {"seconds": 18.0, "trainings": 4})
    assert notebook.cells[0].source == (
        "# Title\n\n**Run time:** about 20 s on a 2-core laptop CPU (4 trainings).\n\nMore."
    )
    assert notebook.cells[1].source == "**Run time:** in a later cell, left alone"
    assert not notebook_tools.set_header(nbformat.v4.new_notebook(), {"seconds": 1, "trainings": 1})


def test_readme_run_times_are_rewritten_and_disagreements_reported(tmp_path):
    """A record no build could give (1000 s each): every header and README cell disagrees until rewritten."""
    stems = [py.stem for py, _ in notebook_tools.pairs()]
    record = {stem: {"seconds": 1000.0 + i, "trainings": 2} for i, stem in enumerate(stems)}
    readme = tmp_path / "README.md"
    readme.write_text(notebook_tools.README.read_text())
    problems = notebook_tools.timing_problems(record, readme)
    assert sum(": header `" in p for p in problems) == len(stems)
    assert sum(p.startswith("README.md: run time") for p in problems) == len(stems)
    readme.write_text(notebook_tools.set_readme_times(readme.read_text(), record))
    assert not [p for p in notebook_tools.timing_problems(record, readme) if p.startswith("README")]
    rows = notebook_tools.readme_rows(readme.read_text())
    assert rows[stems[0]][1][-1].strip() == "1000 s"
    # Only the run time column changed: the rest of each row, and every other line, is as it was.
    before, after = notebook_tools.README.read_text().splitlines(), readme.read_text().splitlines()
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == sorted(i for i, _ in rows.values())
    for i in changed:
        assert before[i].rsplit("|", 2)[0] == after[i].rsplit("|", 2)[0]


def test_build_measures_run_all_and_counts_trainings_without_keeping_its_measuring_cell():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = notebook_tools.KERNEL
    notebook.cells = [
        nbformat.v4.new_markdown_cell("**Run time:** old"),
        nbformat.v4.new_code_cell("import vaelib.train\nvaelib.train.count_trainings(2)"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(0.5)\nprint('slept')"),
    ]
    measured = notebook_tools.execute(notebook)
    assert measured["trainings"] == 2
    assert 0.5 <= measured["seconds"] < 30  # the sleep, not the kernel's start
    assert len(notebook.cells) == 3
    assert [c.execution_count for c in notebook.cells[1:]] == [1, 2]
    assert notebook.cells[2].outputs[0]["text"] == "slept\n"


def test_the_suite_runs_notebooks_with_the_builds_thread_count():
    """conftest.py pins the kernels' threads to what tools/notebooks.py builds with: the numbers depend on it."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    assert root_conftest.BUILD_THREADS == notebook_tools.BUILD_THREADS
