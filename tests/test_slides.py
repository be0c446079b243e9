"""Every notebook is a slideshow too (issue 15, item 2): `tools/notebooks.py slides` gives each
cell a `slideshow.slide_type` (what jupyterlab-rise presents) by rules, in the .ipynb and the .py.

On the committed notebooks: every cell has a slide type, the title and every `## ` section start
a slide, a widget is alone on its slide, both files agree, and running the command again changes
nothing. On toy notebooks: what each rule does, and that a new notebook gets its slide types from
the command. No kernel runs.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)

PAIRS = notebook_tools.pairs()
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
STARTS = notebook_tools.SLIDE_STARTS
HIDDEN = notebook_tools.HIDDEN_SLIDE_TYPES


def slide_type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def widget_output():
    return nbformat.v4.new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
            "text/plain": "Panel: a widget",
        },
    )


def figure_output():
    return nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})


def printed(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def code(source: str, *outputs, tags=()):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs), execution_count=1)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def markdown(source: str, tags=()):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def toy_notebook():
    """One cell for each rule, in the order a chapter notebook has them."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = notebook_tools.KERNEL
    notebook.cells = [
        markdown("# 10. Toy\n\nWhat you will learn."),  # 0 slide: the title
        code("%matplotlib inline\nimport vaelib\n\ndata = vaelib.load_digits()"),  # 1 skip: set-up
        markdown("## 1. A section"),  # 2 slide
        code("model = vaelib.make_vae('mog', seed=0)"),  # 3 -
        code("vaelib.plots.prior_contours(model, data.test)", figure_output()),  # 4 -: the slide's first figure
        code("vaelib.plots.samples(model)", figure_output()),  # 5 subslide: a second figure
        code("check('a claim', True)", printed("✓ a claim\n✓ another\n")),  # 6 notes: checks only
        markdown("Prose after a result."),  # 7 subslide
        code("panel = vaelib.Playground(data)\npanel", widget_output()),  # 8 subslide: a widget
        code("print(1)", printed("1\n")),  # 9 subslide: after a widget
        markdown("### A smaller heading"),  # 10 subslide
        markdown("## Exercises\n\n1. Do it."),  # 11 slide
        markdown("<details><summary>Solution to exercise 1</summary>\n\nIt.\n\n</details>", tags=["solution"]),
        code("import math"),  # 13 skip: imports only
    ]
    return notebook


EXPECTED_TOY = [
    "slide",
    "skip",
    "slide",
    "-",
    "-",
    "subslide",
    "notes",
    "subslide",
    "subslide",
    "subslide",
    "subslide",
    "slide",
    "notes",
    "skip",
]


# ---------------------------------------------------------------------------------------
# The committed notebooks
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=PAIRS, ids=lambda pair: pair[0].stem)
def pair(request):
    py, ipynb = request.param
    return nbformat.read(ipynb, as_version=4), jupytext.read(py)


def test_every_cell_has_a_slide_type_and_both_files_agree(pair):
    notebook, script = pair
    types = [slide_type(cell) for cell in notebook.cells]
    missing = [i for i, kind in enumerate(types) if kind not in SLIDE_TYPES]
    assert not missing, f"cells {missing} have no slide type: run `python tools/notebooks.py slides`"
    assert [slide_type(cell) for cell in script.cells] == types, "the .py's slide types differ from the .ipynb's"


def test_the_title_and_every_section_start_a_slide(pair):
    notebook, _ = pair
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "the first cell is not the title"
    assert slide_type(first) == "slide"
    sections = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "markdown" and cell.source[:3] == "## "]
    assert sections, "a chapter notebook has `## ` sections"
    assert [i for i in sections if slide_type(notebook.cells[i]) != "slide"] == []


def test_a_widget_is_alone_on_its_slide(pair):
    """A cell that shows a widget starts a slide, and the next cell a class sees starts another."""
    notebook, _ = pair
    shown = [i for i, cell in enumerate(notebook.cells) if slide_type(cell) not in HIDDEN]
    widgets = [i for i in shown if notebook_tools.shows_widget(notebook.cells[i])]
    for i in widgets:
        assert slide_type(notebook.cells[i]) in STARTS, f"cell {i} shows a widget below other cells"
        following = [j for j in shown if j > i]
        if following:
            assert slide_type(notebook.cells[following[0]]) in STARTS, (
                f"cell {following[0]} shares cell {i}'s widget slide"
            )


def test_the_playground_and_the_explorer_are_widget_slides():
    """The rule above is not empty: the notebooks' two panels are found and have slides of their own."""
    found = {}
    for _, ipynb in PAIRS:
        for cell in nbformat.read(ipynb, as_version=4).cells:
            for name in ("Playground(", "LatentExplorer("):
                if name in cell.source and notebook_tools.shows_widget(cell):
                    found[name] = slide_type(cell)
    assert found == {"Playground(": "subslide", "LatentExplorer(": "subslide"}


def test_set_up_is_skipped_and_checks_and_solutions_are_notes(pair):
    notebook, _ = pair
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "%matplotlib inline" in cell.source:
            assert slide_type(cell) == "skip", f"set-up cell {i} is shown"
        if notebook_tools.SOLUTION_TAG in cell.metadata.get("tags", []):
            assert slide_type(cell) == "notes", f"solution cell {i} is shown to the class"
        outputs = cell.get("outputs", [])
        lines = [line for o in outputs for line in o.get("text", "").splitlines() if line]
        if lines and all(o.output_type == "stream" for o in outputs) and all(x.startswith("✓") for x in lines):
            assert slide_type(cell) == "notes", f"cell {i} only checks claims, yet is shown"


def test_running_the_command_on_the_committed_notebooks_changes_nothing(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(notebook_tools.NOTEBOOKS / "jupytext.toml", folder)
    for py, ipynb in PAIRS:
        shutil.copy(py, folder)
        shutil.copy(ipynb, folder)
    monkeypatch.setattr(notebook_tools, "NOTEBOOKS", folder)
    assert notebook_tools.main(["slides"]) == 0
    changed = [p.name for pair in PAIRS for p in pair if (folder / p.name).read_bytes() != p.read_bytes()]
    assert changed == [], f"`slides` changed {changed}: run `python tools/notebooks.py slides` and commit"
    assert capsys.readouterr().out.count(" 0 slide types changed") == len(PAIRS)


def test_jupytext_keeps_the_slide_types_in_the_py():
    """The filter in notebooks/jupytext.toml keeps them, so editing in JupyterLab or a build keeps them."""
    assert "slideshow" in notebook_tools.cell_metadata_filter().split(",")
    text = notebook_tools.as_text(toy_notebook_with_types())
    assert '# %% [markdown] slideshow={"slide_type": "slide"}' in text
    assert [slide_type(c) for c in jupytext.reads(text, fmt="py:percent").cells] == EXPECTED_TOY


# ---------------------------------------------------------------------------------------
# The rules, on a toy notebook
# ---------------------------------------------------------------------------------------
def toy_notebook_with_types():
    notebook = toy_notebook()
    notebook_tools.set_slide_types(notebook)
    return notebook


def test_each_rule_gives_its_slide_type():
    assert notebook_tools.slide_types(toy_notebook()) == EXPECTED_TOY


def test_existing_slide_types_are_replaced_by_the_rules_and_nothing_else_changes():
    notebook = toy_notebook()
    notebook.cells[3].metadata["slideshow"] = {"slide_type": "skip"}
    before = [(c.cell_type, c.source, c.get("outputs"), c.metadata.get("tags")) for c in notebook.cells]
    assert notebook_tools.set_slide_types(notebook) == len(EXPECTED_TOY)
    assert [slide_type(c) for c in notebook.cells] == EXPECTED_TOY
    assert [(c.cell_type, c.source, c.get("outputs"), c.metadata.get("tags")) for c in notebook.cells] == before
    assert notebook_tools.set_slide_types(notebook) == 0


def test_a_cell_that_prints_more_than_checks_is_shown():
    notebook = toy_notebook()
    notebook.cells[6].outputs = [printed("✓ a claim\n-ELBO 97.3\n")]
    assert notebook_tools.slide_types(notebook)[6] == "-"


def test_a_new_notebook_gets_its_slide_types_in_both_files(tmp_path, monkeypatch, capsys):
    """What the lead does for a notebook 10: build it, then `slides 10`; the other notebooks stay as they are."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(notebook_tools.NOTEBOOKS / "jupytext.toml", folder)
    monkeypatch.setattr(notebook_tools, "NOTEBOOKS", folder)
    notebook = toy_notebook()
    notebook_tools.write_pair(notebook, folder / "10_toy.py", folder / "10_toy.ipynb")
    other = folder / "09_other.py"
    other.write_text("# %% [markdown]\n# # 9. Other\n")
    assert notebook_tools.main(["slides", "10"]) == 0
    written = nbformat.read(folder / "10_toy.ipynb", as_version=4)
    assert [slide_type(c) for c in written.cells] == EXPECTED_TOY
    assert [slide_type(c) for c in jupytext.read(folder / "10_toy.py").cells] == EXPECTED_TOY
    assert [c.get("outputs") for c in written.cells] == [c.get("outputs") for c in notebook.cells]
    assert other.read_text() == "# %% [markdown]\n# # 9. Other\n"
    assert "10_toy.ipynb: 14 cells, 14 slide types changed" in capsys.readouterr().out


def test_a_pair_out_of_sync_or_without_outputs_is_refused(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(notebook_tools.NOTEBOOKS / "jupytext.toml", folder)
    monkeypatch.setattr(notebook_tools, "NOTEBOOKS", folder)
    notebook_tools.write_pair(toy_notebook(), folder / "10_toy.py", folder / "10_toy.ipynb")
    edited = (folder / "10_toy.py").read_text().replace("## 1. A section", "## 1. A section, edited")
    (folder / "10_toy.py").write_text(edited)
    (folder / "11_new.py").write_text("# %% [markdown]\n# # 11. New\n")
    assert notebook_tools.main(["slides"]) == 1
    err = capsys.readouterr().err
    assert "10_toy.py and 10_toy.ipynb differ: build it first" in err
    assert "11_new.py has no 11_new.ipynb" in err
    assert (folder / "10_toy.py").read_text() == edited
    assert notebook_tools.main(["slides", "nothing-like-this"]) == 1
    assert "no notebook matches ['nothing-like-this']" in capsys.readouterr().err
