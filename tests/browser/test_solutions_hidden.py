"""A solution stays hidden in JupyterLab until the student opens it (issue 13).

Solutions are Markdown cells holding a closed ``<details>``: JupyterLab must render the
summary ("Solution to exercise 1") and keep the answer hidden, and one click on the summary
must show it. Nothing runs: the notebook is only opened (a copy, as in test_jupyterlab.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
MIXTURE = ROOT / "notebooks" / "03_mixture_prior.ipynb"
SUMMARY = "Solution to exercise 1"

pytestmark = pytest.mark.browser


def solution_cells(notebook) -> list:
    return [cell for cell in notebook.cells if "solution" in cell.metadata.get("tags", [])]


def first_sentence_of_answer(cell) -> str:
    """The start of the answer's first paragraph, up to the first Markdown or maths (which
    render as other text): plain words that appear in the page exactly as written."""
    body = cell.source.split("</summary>", 1)[1].strip()
    paragraph = " ".join(body.split("\n\n", 1)[0].split())
    plain = re.split(r"[$`*_\[<\\]", paragraph, maxsplit=1)[0].strip()
    assert len(plain) >= 20, f"the answer starts with too little plain text to look for: {paragraph[:80]!r}"
    return plain


def test_a_solution_stays_closed_until_its_summary_is_clicked(page, lab_server, artifacts_dir):
    notebook = nbformat.read(MIXTURE, as_version=4)
    solutions = solution_cells(notebook)
    assert solutions and SUMMARY in solutions[0].source
    sentence = first_sentence_of_answer(solutions[0])

    page.goto(lab_server.lab_url(lab_server.copy_notebook(MIXTURE)))
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible")
    details = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown details")
    details.last.wait_for(state="attached")
    assert details.count() == len(solutions), "not every solution renders as a <details>"
    assert details.evaluate_all("all => all.filter(d => d.open).length") == 0, "a solution is open when the page opens"

    first = details.filter(has=page.locator("summary", has_text=SUMMARY))
    summary = first.locator("summary")
    answer = first.get_by_text(sentence)
    summary.scroll_into_view_if_needed()
    assert summary.is_visible(), f"the summary {SUMMARY!r} is not visible"
    assert answer.count() == 1, f"the answer's text {sentence!r} is not in the page"
    assert not answer.is_visible(), "the solution shows before its summary is clicked"
    page.screenshot(path=artifacts_dir / "solution-closed.png")

    summary.click()
    answer.wait_for(state="visible", timeout=5_000)
    assert first.evaluate("d => d.open")
    page.screenshot(path=artifacts_dir / "solution-opened.png")
