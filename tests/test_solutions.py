"""The exercises' solutions: hidden in closed <details> Markdown cells, their code run in place.

A solution's code does not run when the notebook runs (it is Markdown, so that GitHub and
JupyterLab keep it closed); this test runs it: each fenced python block becomes a code cell
right after its solution cell, and the whole notebook runs in a fresh kernel. A solution that
no longer works, or whose `vaelib.check` claim stopped holding, fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)

WITH_SOLUTIONS = [py for py, _ in notebook_tools.pairs() if notebook_tools.solution_blocks(jupytext.read(py))]


def solution(number: int, answer: str, code: str) -> nbformat.NotebookNode:
    source = f"<details><summary>Solution to exercise {number}</summary>\n\n{answer}\n\n{code}\n</details>"
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": ["solution"]})


def toy_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 2"),
        nbformat.v4.new_markdown_cell("1. Square x.\n\n```python\nnot_a_solution = 1\n```"),
        solution(1, "Multiply.", "```python\ny = x * x\n```\n\nand then\n\n```python\nassert y == 4\n```\n"),
        nbformat.v4.new_markdown_cell("2. Cube it."),
        solution(2, "Once more.", "```python\nassert x**3 == 8\n```\n"),
    ]
    return notebook


def test_solution_blocks_are_the_python_fences_of_solution_cells_only():
    blocks = notebook_tools.solution_blocks(toy_notebook())
    assert blocks == [(2, "y = x * x\n"), (2, "assert y == 4\n"), (4, "assert x**3 == 8\n")]


def test_each_block_runs_right_after_its_solution_and_the_original_is_untouched():
    notebook = toy_notebook()
    expanded = notebook_tools.with_solutions(notebook)
    kinds = [(c.cell_type, c.source) for c in expanded.cells]
    assert kinds[2:5] == [
        ("markdown", notebook.cells[2].source),
        ("code", "y = x * x"),
        ("code", "assert y == 4"),
    ]
    assert kinds[-1] == ("code", "assert x**3 == 8")
    assert all("solution-code" in c.metadata["tags"] for c in expanded.cells if c.source.startswith(("y", "assert")))
    assert len(notebook.cells) == 5


def test_a_failing_solution_is_reported_by_its_summary(tmp_path, monkeypatch):
    notebook = toy_notebook()
    notebook.cells[4] = solution(2, "Wrong.", "```python\nassert x**3 == 9, 'the cube of 2 is not 9'\n```")
    py = tmp_path / "99_toy.py"
    py.write_text(jupytext.writes(notebook, fmt="py:percent"))
    monkeypatch.setattr(notebook_tools, "NOTEBOOKS", tmp_path)
    problems = notebook_tools.run_solutions(py)
    assert len(problems) == 1
    assert "the code of 'Solution to exercise 2' failed" in problems[0]
    assert "the cube of 2 is not 9" in problems[0]


def test_notebooks_with_exercises_have_solutions_to_run():
    assert len(WITH_SOLUTIONS) >= 2, [py.name for py in WITH_SOLUTIONS]


@pytest.mark.slow
@pytest.mark.parametrize("py", WITH_SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_runs_in_place(py):
    problems = notebook_tools.run_solutions(py)
    assert not problems, "\n\n".join(problems)
