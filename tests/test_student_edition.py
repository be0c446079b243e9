"""The student edition and the shape of the solutions (issue 13).

`python tools/notebooks.py student --out DIR` writes the committed notebooks (the teacher's
edition) less their solution cells. These tests build it and look for every distinctive line of
every solution in what it wrote; check that the exercise skeletons and every other cell survive
as committed; run nbval over it (slow); and check, on the committed notebooks, that each
solution is a closed `<details>` Markdown cell numbered like its exercise, the shape that stays
hidden both on GitHub and in JupyterLab until the reader opens it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)

NOTEBOOKS = [ipynb for _, ipynb in notebook_tools.pairs()]
#: A solution line shorter than this may well appear elsewhere ("```python", "(b)"): not distinctive.
DISTINCTIVE_LENGTH = 20
#: The one shape of a solution cell: a closed <details> (no `open`), its summary naming the
#: exercise, blank lines around the body (without them neither GitHub nor JupyterLab renders the
#: Markdown inside an HTML block), nothing after </details>.
SOLUTION_SHAPE = re.compile(
    r"\A<details><summary>Solution to exercise (\d+)</summary>\n\n(?P<body>.*\S.*)\n\n</details>\s*\Z", re.DOTALL
)
#: A numbered exercise: a top-level Markdown list item ("1. ...") in the exercise section.
EXERCISE_ITEM = re.compile(r"^(\d+)\. ", re.MULTILINE)


def read(ipynb: Path):
    return nbformat.read(ipynb, as_version=4)


def is_solution(cell) -> bool:
    return notebook_tools.is_solution(cell)


def is_exercise(cell) -> bool:
    return notebook_tools.EXERCISE_TAG in cell.metadata.get("tags", [])


def distinctive_lines(notebook) -> dict[int, set[str]]:
    """Solution cell index -> the lines of its source and outputs that no other cell of the
    teacher's notebook has (its code's `def` line, say, is also the skeleton's: not distinctive)."""
    elsewhere = "\n".join(s for cell in notebook.cells if not is_solution(cell) for s in notebook_tools.strings(cell))
    found = {}
    for index, cell in enumerate(notebook.cells):
        if is_solution(cell):
            texts = [cell.source] + notebook_tools.strings(cell.get("outputs", []))
            lines = {line.strip() for text in texts for line in text.splitlines()}
            found[index] = {line for line in lines if len(line) >= DISTINCTIVE_LENGTH and line not in elsewhere}
    return found


# ---------------------------------------------------------------------------------------
# The student edition, built once for this module with the command a teacher runs
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    """The student edition of every notebook, written by `tools/notebooks.py student --out DIR`."""
    out = tmp_path_factory.mktemp("student") / "notebooks"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "notebooks.py"), "student", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"the student command failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_the_student_edition_has_every_notebook_and_nothing_else(edition):
    assert sorted(p.name for p in edition.iterdir()) == sorted(ipynb.name for ipynb in NOTEBOOKS)


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_text_or_output_survives(edition, ipynb):
    teacher = read(ipynb)
    written = json.loads((edition / ipynb.name).read_text())
    text = "\n".join(notebook_tools.strings(written))
    for index, lines in distinctive_lines(teacher).items():
        assert lines, f"solution cell {index} of {ipynb.name} has no line of its own to look for"
        leaked = sorted(line for line in lines if line in text)
        assert not leaked, f"solution cell {index} of {ipynb.name} survives in the student edition: {leaked[:5]}"
    assert notebook_tools.SOLUTION_MARK not in text
    assert not any(is_solution(cell) for cell in read(edition / ipynb.name).cells)


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_other_cell_survives_as_committed_skeletons_and_outputs_included(edition, ipynb):
    teacher, student = read(ipynb), read(edition / ipynb.name)
    solutions = sum(is_solution(cell) for cell in teacher.cells)
    assert len(student.cells) == len(teacher.cells) - solutions
    assert student.cells == [cell for cell in teacher.cells if not is_solution(cell)]  # outputs and metadata too
    assert student.metadata == teacher.metadata
    skeletons = [cell for cell in student.cells if is_exercise(cell)]
    assert len(skeletons) == sum(is_exercise(cell) for cell in teacher.cells)
    for cell in skeletons:
        assert notebook_tools.SKELETON_LINE.search(cell.source), f"not a skeleton:\n{cell.source}"


def test_the_edition_has_solutions_to_remove_and_skeletons_to_fill_in():
    """Not an empty test: the committed notebooks do have solutions and coding exercises."""
    notebooks = [read(ipynb) for ipynb in NOTEBOOKS]
    assert sum(is_solution(cell) for nb in notebooks for cell in nb.cells) >= 2 * len(NOTEBOOKS)
    assert sum(is_exercise(cell) for nb in notebooks for cell in nb.cells) >= 1


def nbval_command(notebooks: list[str]) -> list[str]:
    """pytest on ``notebooks`` with the repository's options: pyproject.toml's addopts give
    ``--nbval --nbval-current-env --nbval-sanitize-with ...``. pytest finds its configuration
    from the paths it is given, not from where it runs: hence -c and --rootdir (run it from the root)."""
    addopts = re.search(r'^addopts = "(.*)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1).split()
    for option in ("--nbval", "--nbval-current-env", "--nbval-sanitize-with"):
        assert option in addopts, f"pyproject.toml's addopts lost {option}: {addopts}"
    return [
        sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
        "-p", "no:cacheprovider", "-q", *notebooks,
    ]  # fmt: skip


@pytest.mark.slow
def test_the_student_edition_passes_nbval(edition):
    """nbval over the student edition, from its own folder (the kernel starts beside each notebook):
    every stored output, the checks' "Not done yet" lines included, comes out the same."""
    notebooks = sorted(str(p) for p in edition.glob("0*.ipynb"))
    assert notebooks
    result = subprocess.run(
        nbval_command(notebooks),
        cwd=ROOT,  # pyproject.toml's addopts apply, and the sanitize file's relative path with them
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, f"nbval failed on the student edition:\n{result.stdout[-6000:]}\n{result.stderr}"


# ---------------------------------------------------------------------------------------
# What the command refuses
# ---------------------------------------------------------------------------------------
def toy_notebook(exercise: str = "def f(x):\n    ...  # your code here") -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 2"),
        nbformat.v4.new_markdown_cell("## Exercises\n\n1. Write f."),
        nbformat.v4.new_code_cell(exercise, metadata={"tags": ["exercise"]}),
        nbformat.v4.new_markdown_cell(
            "<details><summary>Solution to exercise 1</summary>\n\nDouble it.\n\n</details>",
            metadata={"tags": ["solution"]},
        ),
        nbformat.v4.new_markdown_cell("## References"),
        nbformat.v4.new_code_cell("y = 3", metadata={"jupyter": {"source_hidden": True}}),
    ]
    return notebook


def test_a_toy_notebook_loses_exactly_its_solution():
    notebook = toy_notebook()
    assert notebook_tools.student_problems(notebook, "toy") == []
    assert list(notebook_tools.exercise_section(notebook)) == [1, 2, 3]
    student = notebook_tools.student_edition(notebook)
    assert [c.source for c in student.cells] == [c.source for i, c in enumerate(notebook.cells) if i != 3]
    assert len(notebook.cells) == 6  # the original is untouched


@pytest.mark.parametrize("skeleton", ["...", "    ...  # your code here", "\t...\t"])
def test_a_skeleton_is_a_line_of_dots_alone_or_with_a_comment(skeleton):
    assert notebook_tools.SKELETON_LINE.search(f"def f(x):\n{skeleton}\n")


def test_an_exercise_cell_without_its_dots_is_refused():
    problems = notebook_tools.student_problems(toy_notebook("def f(x):\n    return 2 * x"), "toy")
    assert len(problems) == 1
    assert "toy cell 2 is tagged 'exercise' but has no `...` line" in problems[0]
    docstring_only = toy_notebook('def f(x):\n    """Twice x..."""\n    return x  # ... later')
    assert notebook_tools.student_problems(docstring_only, "toy")


def test_a_hidden_code_cell_among_the_exercises_is_refused():
    notebook = toy_notebook()
    notebook.cells.insert(4, nbformat.v4.new_code_cell("print(2 * x)", metadata={"jupyter": {"source_hidden": True}}))
    problems = notebook_tools.student_problems(notebook, "toy")
    assert len(problems) == 1 and "toy cell 4: a code cell of the exercise section is hidden" in problems[0]


def test_a_solution_without_its_tag_is_refused():
    notebook = toy_notebook()
    notebook.cells[3].metadata = {}
    problems = notebook_tools.student_problems(notebook, "toy")
    assert len(problems) == 1 and "toy cell 3 shows '<summary>Solution' but is not tagged 'solution'" in problems[0]


def test_the_command_writes_nothing_when_refusing_and_never_into_the_teachers_folder(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "01_toy.py").write_text("# %%\n")
    nbformat.write(toy_notebook("def f(x):\n    return 2 * x"), folder / "01_toy.ipynb")
    monkeypatch.setattr(notebook_tools, "NOTEBOOKS", folder)
    out = tmp_path / "student"
    assert notebook_tools.main(["student", "--out", str(out)]) == 1
    assert "no student edition written" in capsys.readouterr().err
    assert not out.exists()
    assert notebook_tools.main(["student", "--out", str(folder)]) == 1
    assert "would overwrite the teacher's" in capsys.readouterr().err
    nbformat.write(toy_notebook(), folder / "01_toy.ipynb")
    assert notebook_tools.main(["student", "--out", str(out)]) == 0
    assert len(read(out / "01_toy.ipynb").cells) == 5


# ---------------------------------------------------------------------------------------
# The committed notebooks: solutions in closed <details>, numbered like their exercises
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_are_closed_details_numbered_like_the_exercises(ipynb):
    notebook = read(ipynb)
    section = notebook_tools.exercise_section(notebook)
    assert section, f"{ipynb.name} has no Markdown cell with the heading `## Exercises`"
    exercises = {}  # number -> index of the cell that states it
    for index in section:
        cell = notebook.cells[index]
        if cell.cell_type == "markdown" and not is_solution(cell):
            text = cell.source.split("## Exercises", 1)[-1] if index == section.start else cell.source
            for number in EXERCISE_ITEM.findall(text):
                exercises.setdefault(int(number), index)
    assert list(exercises) == list(range(1, len(exercises) + 1)), f"{ipynb.name}: exercises {list(exercises)}"
    assert len(exercises) >= 2, f"{ipynb.name} numbers {len(exercises)} exercises"

    solutions = {}  # number -> index of its solution cell
    for index, cell in enumerate(notebook.cells):
        if not is_solution(cell):
            continue
        assert index in section, f"{ipynb.name}: solution cell {index} is outside the exercise section"
        assert cell.cell_type == "markdown", f"{ipynb.name}: solution cell {index} is a {cell.cell_type} cell"
        match = SOLUTION_SHAPE.match(cell.source)
        assert match, (
            f"{ipynb.name}: solution cell {index} is not `<details><summary>Solution to exercise N</summary>`, "
            f"blank line, the answer, blank line, `</details>`:\n{cell.source[:300]}"
        )
        assert "<details" not in match.group("body"), f"{ipynb.name}: solution cell {index} nests <details>"
        number = int(match.group(1))
        assert number not in solutions, f"{ipynb.name}: two solutions to exercise {number}"
        solutions[number] = index
    assert sorted(solutions) == list(exercises), f"{ipynb.name}: solutions to {sorted(solutions)}"
    assert list(solutions) == sorted(solutions), f"{ipynb.name}: solutions out of order"
    for number, index in solutions.items():
        assert index > exercises[number], f"{ipynb.name}: the solution to exercise {number} comes before it"
    assert not any("<details open" in s for s in notebook_tools.strings(notebook)), f"{ipynb.name}: an open <details>"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_cell_of_the_exercises_is_hidden_any_more(ipynb):
    """Hidden code cells were the old solutions: their outputs showed. Solutions are <details> now."""
    notebook = read(ipynb)
    hidden = [
        index
        for index in notebook_tools.exercise_section(notebook)
        if notebook.cells[index].cell_type == "code"
        and any(v for k, v in notebook.cells[index].metadata.get("jupyter", {}).items() if k.endswith("_hidden"))
    ]
    assert not hidden, f"{ipynb.name}: code cells {hidden} of the exercise section carry jupyter.*_hidden"
