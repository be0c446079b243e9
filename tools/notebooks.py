"""Build and check the chapter notebooks: the jupytext ``.py`` is the source of truth.

    python tools/notebooks.py build [NAME ...]   # .py -> executed .ipynb (outputs committed)
    python tools/notebooks.py check              # every pair in sync, headers as measured? (exit 1 if not)
    python tools/notebooks.py headers            # rewrite headers and README from build.json (no run)
    python tools/notebooks.py solutions [NAME ...]  # run every solution's code in place (exit 1 if one fails)
    python tools/notebooks.py student --out DIR [NAME ...]  # the student edition: no solutions
    python tools/notebooks.py site --out DIR     # a static web site of the notebooks, to read without installing
    python tools/notebooks.py slides [NAME ...]  # every cell's slide type, by rules; nothing runs

``build`` executes each notebook from its ``.py`` in a fresh kernel with the full
training budget, removes what churns between runs (widget state, execution timings),
writes the ``.ipynb`` and rewrites the ``.py`` from it, so the pair is identical.
It also measures Run All (the cells' wall time, kernel start excluded) and counts the
trainings (``vaelib.train.trainings_run()`` read from the kernel after the last cell, by
a cell that is not kept), records both in ``notebooks/build.json`` and writes them into
the notebook's ``**Run time:**`` header line and the README's run time column.
``check`` renders each ``.ipynb`` as percent text and compares it with its ``.py``: it
catches drift in either direction (``jupytext --diff`` exits 0 even when files differ);
and it compares every header line and README run time with ``build.json``.
``solutions`` runs the code of the exercises' solutions: a solution is a Markdown cell tagged
``solution`` (a closed ``<details>``, so it stays hidden on GitHub and in JupyterLab until
opened), its code a fenced ```` ```python ```` block; each block becomes a code cell right
after its solution cell and the notebook runs top to bottom in a fresh kernel.
``student`` writes the student edition to DIR: each ``.ipynb`` with its outputs, less the cells
tagged ``solution``; the exercise cells (tagged ``exercise``) stay as committed, skeletons whose
body is ``...``. The committed notebooks are the teacher's edition. It refuses (exit 1, nothing
written) when an exercise cell has no ``...`` line, when a code cell of the exercise section is
still hidden (the old solution style) or when a solution would survive untagged.
``site`` writes DIR/index.html (each notebook's thumbnail, title and summary from the README's table)
and one page per notebook, exported by nbconvert's lab template from the committed outputs (nothing
runs): figures embedded, solutions closed until clicked, links between notebooks rewritten to the
pages, each widget replaced by a picture of it with a caption (a static page cannot run one), and
MathJax copied from the jupyter-server-mathjax package, so the pages need no network. Copy DIR to any
static host, or open DIR/index.html from the disk.
``slides`` writes each cell's ``slideshow.slide_type`` (what jupyterlab-slideshow presents) into the
``.ipynb`` and the ``.py``, from rules over the cells' content, tags and committed outputs (see
:func:`slide_types`); outputs are untouched and a second run changes nothing. Run it after ``build``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import difflib
import functools
import html
import json
import os
import platform
import posixpath
import re
import shutil
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_configuration_file

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
THUMBNAILS = NOTEBOOKS / "thumbnails"
FORMAT = "py:percent"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: Per-cell metadata that changes on every run and says nothing about the notebook.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")
#: What the last build of each notebook measured: the one home of the run times and training counts.
BUILD_RECORD = NOTEBOOKS / "build.json"
README = ROOT / "README.md"
#: The header line in a notebook's markdown (in the .py it is this line behind "# ").
HEADER_PREFIX = "**Run time:**"
#: Run times are stated to the nearest this many seconds (a build on a busy machine varies by more).
ROUND_SECONDS = 5
#: Executed after a notebook's last cell, then dropped: what the kernel counted, as one JSON line.
MEASURE_SOURCE = (
    'import json as _json, vaelib.train as _train\nprint(_json.dumps({"trainings": _train.trainings_run()}))'
)


#: The thread count every notebook kernel trains with unless VAELIB_NUM_THREADS says otherwise:
#: a training's numbers can depend on it (conftest.py sets the same for the test suite).
BUILD_THREADS = "2"
#: A table cell boundary in the README: a pipe not escaped as `\|` (a summary may hold one).
CELL_BOUNDARY = re.compile(r"(?<!\\)\|")
#: The tag of the Markdown cells that hold an exercise's solution (AUTHORING.md).
SOLUTION_TAG = "solution"
#: A widget's output: a live view of objects in the kernel, which a static page cannot run.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: A solution's code: a fenced python block, its fences on lines of their own.
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def pairs() -> list[tuple[Path, Path]]:
    """(py, ipynb) for every chapter notebook, in order."""
    return [(py, py.with_suffix(".ipynb")) for py in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))]


def as_text(notebook) -> str:
    config = load_jupytext_configuration_file(str(NOTEBOOKS / "jupytext.toml"))
    return jupytext.writes(notebook, fmt=FORMAT, config=config)


def clean(notebook) -> None:
    """Drop what churns between runs: widget state (random ids) and timings."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = KERNEL
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


def save_thumbnail(notebook, path: Path) -> Path | None:
    """Write the first PNG of the cell tagged "thumbnail" to ``path``."""
    for cell in notebook.cells:
        if "thumbnail" in cell.metadata.get("tags", []):
            images = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            if images:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(base64.b64decode(images[0]))
                return path
    return None


# ---------------------------------------------------------------------------------------
# Run times and training counts: measured by build, kept in build.json, written into headers
# ---------------------------------------------------------------------------------------
def rounded_seconds(seconds: float) -> int:
    """A measured run time as stated: to the nearest ROUND_SECONDS, at least ROUND_SECONDS."""
    return max(ROUND_SECONDS, ROUND_SECONDS * round(seconds / ROUND_SECONDS))


def trainings_text(trainings: int) -> str:
    return "1 training" if trainings == 1 else f"{trainings} trainings"


def header_line(entry: dict) -> str:
    """The notebook's header line (markdown) for one build.json entry."""
    count = trainings_text(entry["trainings"])
    return f"{HEADER_PREFIX} about {rounded_seconds(entry['seconds'])} s on a 2-core laptop CPU ({count})."


def readme_time(entry: dict) -> str:
    """The README table's run time cell for one build.json entry."""
    return f"{rounded_seconds(entry['seconds'])} s"


def read_record(path: Path = BUILD_RECORD) -> dict:
    """build.json: notebook stem -> {"seconds", "trainings", "date", ...} ({} when missing)."""
    return json.loads(path.read_text()) if path.exists() else {}


def write_record(record: dict, path: Path = BUILD_RECORD) -> None:
    path.write_text(json.dumps(dict(sorted(record.items())), indent=2, sort_keys=True) + "\n")


def machine() -> dict:
    """Where a build ran, so a reader can judge its times: processor, cores, thread setting, load."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": os.environ.get("VAELIB_NUM_THREADS", "auto"),
        # Other processes' load at the start: a build on a busy machine runs slow.
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def header_lines(text: str) -> list[int]:
    """Indices of the header lines in a markdown cell's source (or in a .py, behind "# ")."""
    return [i for i, line in enumerate(text.splitlines()) if line.lstrip("# ").startswith(HEADER_PREFIX)]


def set_header(notebook, entry: dict) -> bool:
    """Rewrite the first markdown cell's header line from ``entry`` (whatever it said: an old
    shape without the training count is replaced whole). False when the notebook has none."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        found = header_lines(cell.source)
        if found:
            lines[found[0]] = header_line(entry)
            cell.source = "\n".join(lines)
            return True
    return False


def readme_rows(text: str) -> dict:
    """Notebook stem -> (line index, cells) of each README table row that links a notebook."""
    rows = {}
    for i, line in enumerate(text.splitlines()):
        match = re.search(r"\]\(notebooks/(\d\d_[\w-]+)\.ipynb\)", line)
        if match and line.startswith("|"):
            rows[match.group(1)] = (i, CELL_BOUNDARY.split(line.strip().strip("|")))
    return rows


def set_readme_times(text: str, record: dict) -> str:
    """The README with each notebook row's last cell (its run time) taken from ``record``."""
    lines = text.split("\n")
    for stem, (i, cells) in readme_rows(text).items():
        if stem in record:
            cells[-1] = f" {readme_time(record[stem])} "
            lines[i] = "|" + "|".join(cells) + "|"
    return "\n".join(lines)


def timing_problems(record: dict | None = None, readme: Path = README) -> list[str]:
    """Every header line and README run time that disagrees with build.json (empty when all agree)."""
    record = read_record() if record is None else record
    problems = []
    fix = "run `python tools/notebooks.py build {}` (or `headers` to rewrite from build.json)"
    for py, _ in pairs():
        stem = py.stem
        lines = py.read_text().splitlines()
        found = header_lines(py.read_text())
        if stem not in record:
            problems.append(
                f"{stem} has no measured run time in {BUILD_RECORD.name}: "
                f"run `python tools/notebooks.py build {stem[:2]}`"
            )
            continue
        expected = header_line(record[stem])
        if not found:
            problems.append(f"{py.name} has no `# {HEADER_PREFIX}` header line (expected `# {expected}`)")
        elif lines[found[0]] != f"# {expected}":
            problems.append(
                f"{py.name}: header `{lines[found[0]]}` disagrees with {BUILD_RECORD.name} (`# {expected}`): "
                + fix.format(stem[:2])
            )
    rows = readme_rows(readme.read_text()) if readme.exists() else {}
    for py, _ in pairs():
        stem = py.stem
        if stem not in record:
            continue
        if stem not in rows:
            problems.append(f"{readme.name} has no table row linking notebooks/{stem}.ipynb")
        elif rows[stem][1][-1].strip() != readme_time(record[stem]):
            problems.append(
                f"{readme.name}: run time of {stem} is `{rows[stem][1][-1].strip()}`, {BUILD_RECORD.name} says "
                f"`{readme_time(record[stem])}`: run `python tools/notebooks.py headers`"
            )
    return problems


def pin_threads() -> None:
    """Kernels started from now on train with BUILD_THREADS threads, unless VAELIB_NUM_THREADS is set."""
    os.environ.setdefault("VAELIB_NUM_THREADS", BUILD_THREADS)


def execute(notebook) -> dict:
    """Run every cell of ``notebook`` in a fresh kernel (in place) and measure the run:
    {"seconds": wall time from the first cell's start to the last cell's end, "trainings": count}."""
    from nbclient import NotebookClient

    pin_threads()

    last = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(MEASURE_SOURCE))
    times = {}

    def started(cell, cell_index):
        times.setdefault("start", time.perf_counter())  # the first cell: the kernel is up

    def reached(cell, cell_index):
        if cell_index == last:
            times["end"] = time.perf_counter()

    try:
        NotebookClient(
            notebook,
            timeout=900,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
            on_cell_execute=started,
            on_cell_start=reached,
        ).execute()
    finally:
        measure = notebook.cells.pop()
    text = "".join(o.get("text", "") for o in measure.outputs if o.get("output_type") == "stream")
    counted = json.loads(text.strip().splitlines()[-1])
    return {"seconds": round(times["end"] - times.get("start", times["end"]), 1), "trainings": counted["trainings"]}


def write_pair(notebook, py: Path, ipynb: Path) -> None:
    nbformat.write(notebook, ipynb)
    py.write_text(as_text(notebook))


def apply_record(record: dict, stems=None) -> list[str]:
    """Rewrite the header lines (of ``stems``, default all recorded) and the README from ``record``,
    nothing else: the outputs stay, and an edited .py keeps its edits (its header line is replaced
    in place). -> the notebooks that have no header line to rewrite"""
    missing = []
    for py, ipynb in pairs():
        if py.stem not in record or (stems is not None and py.stem not in stems):
            continue
        line = header_line(record[py.stem])
        source = py.read_text().split("\n")
        found = header_lines(py.read_text())
        if not found:
            missing.append(py.stem)
            continue
        source[found[0]] = f"# {line}"
        py.write_text("\n".join(source))
        if ipynb.exists():
            notebook = nbformat.read(ipynb, as_version=4)
            set_header(notebook, record[py.stem])
            nbformat.write(notebook, ipynb)
    if README.exists():
        README.write_text(set_readme_times(README.read_text(), record))
    return missing


def build(names: list[str]) -> None:
    selected = [p for p in pairs() if not names or any(n in p[0].stem for n in names)]
    if not selected:
        raise SystemExit(f"no notebook matches {names}; notebooks: {[p[0].stem for p in pairs()]}")
    pin_threads()  # before machine() records the setting
    for py, ipynb in selected:
        notebook = jupytext.read(py)
        notebook.metadata["kernelspec"] = KERNEL
        where = machine()
        measured = execute(notebook)
        entry = {**measured, "date": datetime.date.today().isoformat(), **where}
        record = read_record()
        record[py.stem] = entry
        write_record(record)
        clean(notebook)
        set_slide_types(notebook)  # new outputs may show a widget or checks where the old did not
        if not set_header(notebook, entry):
            print(f"warning: {py.name} has no `{HEADER_PREFIX}` line in its markdown; add one (AUTHORING.md)")
        write_pair(notebook, py, ipynb)
        README.write_text(set_readme_times(README.read_text(), record))
        thumbnail = save_thumbnail(notebook, THUMBNAILS / f"{py.stem}.png")
        print(
            f"{ipynb.relative_to(ROOT)}: Run All {entry['seconds']:.1f} s, {trainings_text(entry['trainings'])}"
            f" (load {entry['load_average']} on {entry['cores']} cores at the start)"
            + (f", thumbnail {thumbnail.relative_to(ROOT)}" if thumbnail else "")
        )


# ---------------------------------------------------------------------------------------
# Solutions: hidden in Markdown <details>, their code run in place by a test
# ---------------------------------------------------------------------------------------
def solution_blocks(notebook) -> list[tuple[int, str]]:
    """(cell index, code) of every fenced python block of every cell tagged ``solution``, in order."""
    return [
        (index, match.group(1))
        for index, cell in enumerate(notebook.cells)
        if SOLUTION_TAG in cell.metadata.get("tags", [])
        for match in PYTHON_BLOCK.finditer(cell.source)
    ]


def with_solutions(notebook):
    """A copy of ``notebook`` in which each solution's code blocks follow it as code cells
    (tagged ``solution-code``): the notebook a student has once they paste every solution in."""
    result = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cells = []
    blocks = solution_blocks(notebook)
    for index, cell in enumerate(result.cells):
        cells.append(cell)
        for _, code in (b for b in blocks if b[0] == index):
            cells.append(nbformat.v4.new_code_cell(code.rstrip("\n"), metadata={"tags": ["solution-code"]}))
    result.cells = cells
    return result


def run_solutions(py: Path) -> list[str]:
    """Run ``py`` with its solutions' code in place, in a fresh kernel: what failed (empty: all ran)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = with_solutions(jupytext.read(py))
    notebook.metadata["kernelspec"] = KERNEL
    pin_threads()
    try:
        NotebookClient(
            notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
    except CellExecutionError as error:
        failed = next(
            (
                i
                for i, c in enumerate(notebook.cells)
                if any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        where = "a notebook cell"
        if failed is not None and "solution-code" in notebook.cells[failed].metadata.get("tags", []):
            summary = re.search(r"<summary>(.*?)</summary>", notebook.cells[failed - 1].source)
            where = f"the code of '{summary.group(1) if summary else 'a solution'}'"
        lines = str(error).strip().splitlines()
        return [f"{py.name}: {where} failed:\n" + "\n".join(lines[-15:])]
    except Exception as error:  # the kernel died (e.g. out of memory) or never started: say so, no traceback
        cause = error.__context__ or error  # nbclient's clean-up may raise over a DeadKernelError
        return [f"{py.name}: the run stopped: {type(cause).__name__}: {cause}"]
    return []


# ---------------------------------------------------------------------------------------
# Slides: every cell's place in a slideshow, assigned by rules from its content
# ---------------------------------------------------------------------------------------
#: The cell metadata a slideshow reads (jupyterlab-slideshow, RISE, nbconvert's slides): {"slide_type": ...}.
SLIDESHOW = "slideshow"
#: The mark of a claim's check line (vaelib.check and its kin print it): cells that print only these
#: prove the prose to the author; a class does not need to watch them.
CHECK_MARK = "✓"
#: Slide types that start a new slide (reveal.js: a horizontal and a vertical one).
SLIDE_STARTS = ("slide", "subslide")
#: Slide types a class never sees on a slide.
HIDDEN_SLIDE_TYPES = ("skip", "notes")


def shows_widget(cell) -> bool:
    """Whether a code cell's committed outputs display a widget (a live view, a panel, a progress bar)."""
    return any(WIDGET_MIME in output.get("data", {}) for output in cell.get("outputs", []))


def shows_figure(cell) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def is_setup(cell) -> bool:
    """The set-up cell (`%matplotlib inline`, AUTHORING.md) or a cell of imports only."""
    lines = [line.strip() for line in cell.source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(lines) and (
        lines[0].startswith("%matplotlib") or all(re.match(r"(import|from) \w", line) for line in lines)
    )


def is_check(cell) -> bool:
    """A cell whose only output is claim checks: printed lines that all start with the check mark."""
    outputs = cell.get("outputs", [])
    printed = [line for o in outputs if o.get("output_type") == "stream" for line in o["text"].splitlines()]
    only_printed = all(o.get("output_type") == "stream" and o.get("name") == "stdout" for o in outputs)
    return bool(printed) and only_printed and all(line.startswith(CHECK_MARK) for line in printed if line.strip())


def heading_level(cell) -> int:
    """The level of the Markdown heading a cell opens with (0: none)."""
    match = re.match(r"(#{1,6}) ", cell.source) if cell.cell_type == "markdown" else None
    return len(match.group(1)) if match else 0


def hidden_slide_type(cell) -> str | None:
    """ "skip" or "notes" for a cell a class should not see on a slide, else None."""
    if cell.cell_type == "code" and is_setup(cell):
        return "skip"  # it runs with Run All before the show; nothing to teach
    if cell.cell_type == "code" and is_check(cell):
        return "notes"  # the claims' checks: for the teacher's eyes (speaker notes)
    if SOLUTION_TAG in cell.metadata.get("tags", []):
        return "notes"  # the teacher may read it out; the class does not see it
    return None


def slide_types(notebook) -> list[str]:
    """The slide type of each cell, from its content, tags and committed outputs (the rules below).

    The title cell and every `## ` section start a slide; a `### ` heading, a widget, the cell after
    a widget, prose after a result and a second figure on one slide start a subslide (one idea per
    slide, a widget alone on its own); set-up cells are skipped, checks and solutions are notes;
    everything else continues the slide it is on."""
    types = []
    after_widget = after_code = has_figure = False
    for index, cell in enumerate(notebook.cells):
        hidden = hidden_slide_type(cell) if index else None
        if hidden:
            types.append(hidden)
            continue
        level, widget = heading_level(cell), cell.cell_type == "code" and shows_widget(cell)
        figure = cell.cell_type == "code" and shows_figure(cell)
        if index == 0 or level in (1, 2):
            kind = "slide"
        elif (
            level or widget or after_widget or (cell.cell_type == "markdown" and after_code) or (figure and has_figure)
        ):
            kind = "subslide"
        else:
            kind = "-"
        has_figure = figure or (has_figure and kind not in SLIDE_STARTS)
        after_widget, after_code = widget, cell.cell_type == "code"
        types.append(kind)
    return types


def set_slide_types(notebook) -> int:
    """Write each cell's slide type into its metadata (nothing else changes). -> how many changed"""
    changed = 0
    for cell, kind in zip(notebook.cells, slide_types(notebook)):
        if cell.metadata.get(SLIDESHOW) != {"slide_type": kind}:
            cell.metadata[SLIDESHOW] = {"slide_type": kind}
            changed += 1
        # Keys in the order the .ipynb stores them (sorted), so the .py that build writes is the
        # one `slides` writes after reading the .ipynb back.
        cell.metadata = nbformat.from_dict(dict(sorted(cell.metadata.items())))
    return changed


def without_slides(notebook):
    """A copy of ``notebook`` without slide types: what the rules read is the same in both files."""
    result = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in result.cells:
        cell.metadata.pop(SLIDESHOW, None)
    return result


def write_slides(names=()) -> list[str]:
    """Assign slide types in each notebook of ``names`` (default all), .ipynb and .py in place, outputs
    untouched. -> the problems that stopped a notebook (empty: all written)"""
    selected = [p for p in pairs() if not names or any(n in p[0].stem for n in names)]
    if not selected:
        return [f"no notebook matches {list(names)}; notebooks: {[p[0].stem for p in pairs()]}"]
    problems = []
    for py, ipynb in selected:
        if not ipynb.exists():
            problems.append(f"{py.name} has no {ipynb.name} (the rules read its outputs): build it first")
            continue
        notebook = nbformat.read(ipynb, as_version=4)
        if as_text(without_slides(notebook)) != as_text(without_slides(jupytext.read(py))):
            problems.append(f"{py.name} and {ipynb.name} differ: build it first (`python tools/notebooks.py check`)")
            continue
        changed = set_slide_types(notebook)
        notebook.metadata.setdefault("jupytext", {})["cell_metadata_filter"] = cell_metadata_filter()
        write_pair(notebook, py, ipynb)
        print(f"{ipynb.name}: {len(notebook.cells)} cells, {changed} slide types changed")
    return problems


def cell_metadata_filter() -> str:
    """The cell metadata that jupytext keeps in the .py (notebooks/jupytext.toml)."""
    return load_jupytext_configuration_file(str(NOTEBOOKS / "jupytext.toml")).cell_metadata_filter


# ---------------------------------------------------------------------------------------
# The student edition: the committed notebooks less their solutions
# ---------------------------------------------------------------------------------------
#: The tag of the code cells a student fills in (a skeleton whose body is `...  # your code here`).
EXERCISE_TAG = "exercise"
#: The line of an exercise cell that the student replaces: `...`, maybe with a comment.
SKELETON_LINE = re.compile(r"^[ \t]*\.\.\.[ \t]*(#.*)?$", re.MULTILINE)
#: Where a notebook's exercise section starts: this heading in a Markdown cell.
EXERCISES_HEADING = re.compile(r"^## Exercises[ \t]*$", re.MULTILINE)
#: A heading of a new section (`# ` or `## `), which ends the exercise section.
SECTION_HEADING = re.compile(r"^##? \S", re.MULTILINE)
#: What only a solution shows: found in a student edition, a solution cell lost its tag.
SOLUTION_MARK = "<summary>Solution"


def exercise_section(notebook) -> range:
    """The indices of the cells of the exercise section: from the Markdown cell with the
    `## Exercises` heading to the next `#`/`##` heading (or the end); empty when there is none."""
    cells = notebook.cells
    start = next(
        (i for i, c in enumerate(cells) if c.cell_type == "markdown" and EXERCISES_HEADING.search(c.source)), None
    )
    if start is None:
        return range(0)
    end = next(
        (
            i
            for i in range(start + 1, len(cells))
            if cells[i].cell_type == "markdown" and SECTION_HEADING.match(cells[i].source.lstrip())
        ),
        len(cells),
    )
    return range(start, end)


def is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def strings(node) -> list[str]:
    """Every string of a notebook's JSON (a list of strings, as nbformat may store a source, as one)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        if node and all(isinstance(item, str) for item in node):
            return ["".join(node)]
        return [s for item in node for s in strings(item)]
    return []


def student_problems(notebook, name: str) -> list[str]:
    """Why ``notebook`` cannot go to students as its edition without solutions (empty: it can)."""
    problems = []
    section = exercise_section(notebook)
    for index, cell in enumerate(notebook.cells):
        where = f"{name} cell {index}"
        if EXERCISE_TAG in cell.metadata.get("tags", []):
            if cell.cell_type != "code":
                problems.append(f"{where} is tagged {EXERCISE_TAG!r} but is not a code cell")
            elif not SKELETON_LINE.search(cell.source):
                problems.append(
                    f"{where} is tagged {EXERCISE_TAG!r} but has no `...` line for the student to fill in: "
                    f"the committed exercise cell is the skeleton (`...  # your code here`), its answer goes "
                    f"in the solution:\n{cell.source}"
                )
            if is_solution(cell):
                problems.append(f"{where} is tagged both {EXERCISE_TAG!r} and {SOLUTION_TAG!r}")
        hidden = {k for k, v in cell.metadata.get("jupyter", {}).items() if k.endswith("_hidden") and v}
        if index in section and cell.cell_type == "code" and hidden:
            problems.append(
                f"{where}: a code cell of the exercise section is hidden ({', '.join(sorted(hidden))}), the old "
                f"way of hiding a solution: move it into a Markdown <details> cell tagged {SOLUTION_TAG!r} "
                "(notebooks/AUTHORING.md)"
            )
    for index, cell in enumerate(notebook.cells):
        if not is_solution(cell) and any(SOLUTION_MARK in s for s in strings(cell)):
            problems.append(
                f"{name} cell {index} shows {SOLUTION_MARK!r} but is not tagged {SOLUTION_TAG!r}: "
                "it would reach the students"
            )
    return problems


def student_edition(notebook):
    """A copy of ``notebook`` without the cells tagged ``solution``; every other cell as it is."""
    result = nbformat.from_dict(json.loads(json.dumps(notebook)))
    result.cells = [cell for cell in result.cells if not is_solution(cell)]
    return result


def write_student_edition(out: Path, names=()) -> list[str]:
    """Write the student edition of the notebooks matching ``names`` (default all) to ``out``.
    -> the problems that stopped it (empty: written); nothing is written when there are any."""
    out = Path(out).resolve()
    if out == NOTEBOOKS.resolve():
        return [f"--out {out} is the notebooks' own folder: the student edition would overwrite the teacher's"]
    selected = [ipynb for _, ipynb in pairs() if not names or any(n in ipynb.stem for n in names)]
    if not selected:
        return [f"no notebook matches {list(names)}; notebooks: {[p[1].stem for p in pairs()]}"]
    notebooks = {ipynb: nbformat.read(ipynb, as_version=4) for ipynb in selected}
    problems = [p for ipynb, notebook in notebooks.items() for p in student_problems(notebook, ipynb.name)]
    if problems:
        return problems
    out.mkdir(parents=True, exist_ok=True)
    for ipynb, notebook in notebooks.items():
        edition = student_edition(notebook)
        nbformat.write(edition, out / ipynb.name)
        exercises = sum(EXERCISE_TAG in c.metadata.get("tags", []) for c in edition.cells)
        removed = len(notebook.cells) - len(edition.cells)
        print(f"{out / ipynb.name}: {removed} solutions removed, {exercises} exercise cells to fill in")
    return []


# ---------------------------------------------------------------------------------------
# The static site: the committed notebooks as web pages, to read without installing anything
# ---------------------------------------------------------------------------------------
#: A tqdm progress bar as its widget's text shows it: "flow:   0%|          | 0/200 [00:00<?, ?epoch/s]".
PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")
#: Widgets pictured by the screenshot of them in JupyterLab that the README shows, by class name.
WIDGET_SCREENSHOTS = {"Playground": ROOT / "docs" / "playground-in-jupyterlab.png"}
#: Widgets whose view the notebook draws from code right below them: pictured by the first figure
#: of their section after them. Any other widget (a live training view) by the notebook's thumbnail.
WIDGETS_DRAWN_BELOW = ("LatentExplorer", "PriorMenu")
#: MathJax 2 as the jupyter-server-mathjax package ships it, copied into the site, so that pages
#: typeset their equations offline (nbconvert's default loads it from a CDN).
MATHJAX_PACKAGE = "jupyter_server_mathjax"
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
#: The package ships MathJax's STIX-Web fonts only: without this MathJax asks for its TeX fonts
#: (requests that fail). Its "font loaded?" probe, a font at about:blank, is a console error in
#: Chromium: a local font that is not there is the same probe without a request.
MATHJAX_CONFIG = """MathJax.Hub.Config({
  "HTML-CSS": {
    availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
    styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}
  }
});"""
#: nbconvert's lab template less what it loads from a CDN and no page needs (require.js for
#: widgets and JavaScript outputs, mermaid for diagrams), plus the links to the other pages and
#: MathJax's configuration (the template's own follows it: delimiters, equation numbers).
PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">{{ resources.mathjax_config }}</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}{{ resources.site_head }}<style>{{ resources.site_css }}</style>{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.site_nav }}{%- endblock body_header -%}
{%- block body_footer -%}{{ resources.site_nav }}{{ super() }}{%- endblock body_footer -%}
"""
SITE_CSS = """
.site-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px; margin: 0 auto;
  padding: 0.6em 1em; font-family: system-ui, sans-serif; font-size: 0.95em; }
.site-nav a { text-decoration: none; }
figure.widget-picture { margin: 0.3em 0; }
figure.widget-picture img { max-width: 100%; border: 1px solid #ccc; }
figure.widget-picture figcaption, p.widget-note { font-size: 0.9em; color: #555; font-style: italic; }
/* MathJax's hidden MathML copy for screen readers asks for TeX fonts the package does not ship. */
.MJX_Assistive_MathML * { font-family: inherit !important; }
"""
INDEX_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 1em; line-height: 1.45; }
.notebooks { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1.5em; padding: 0; }
.notebooks li { list-style: none; border: 1px solid #ddd; border-radius: 6px; padding: 0.8em; }
.notebooks img { width: 100%; height: 220px; object-fit: contain; }
.notebooks h2 { font-size: 1.15em; margin: 0.4em 0; }
.run-time, footer { color: #555; font-size: 0.9em; }
"""
#: No icon: without this line a browser asks the host for /favicon.ico, an error where there is none.
SITE_HEAD = '<link rel="icon" href="data:,">'
#: A link in the HTML that nbconvert writes, or in the index: the attribute and its target.
LINK_ATTRIBUTE = re.compile(r'\b(href|src)="([^"]*)"')


def site_link(target: str, base: str, stems) -> str:
    """Where ``target``, a link in a file of the repository folder ``base`` ("notebooks" for a
    notebook, "" for the README), points in the site: a notebook of ``stems`` to its page, a
    thumbnail to the site's copy; anything else (web addresses, anchors) as it is."""
    if not target or re.match(r"[a-z][a-z0-9+.-]*:|[#/]", target, re.IGNORECASE):
        return target
    path, hash_mark, fragment = target.partition("#")
    in_repository = posixpath.normpath(posixpath.join(base, path))
    notebook = re.fullmatch(r"notebooks/(\d\d_[\w-]+)\.ipynb", in_repository)
    if notebook and notebook.group(1) in stems:
        return f"{notebook.group(1)}.html{hash_mark}{fragment}"
    if in_repository.startswith("notebooks/thumbnails/"):
        return in_repository.removeprefix("notebooks/") + hash_mark + fragment
    return target


def site_links(html_text: str, base: str, stems) -> str:
    """``html_text`` with every href and src rewritten by :func:`site_link`."""
    return LINK_ATTRIBUTE.sub(lambda m: f'{m.group(1)}="{site_link(m.group(2), base, stems)}"', html_text)


def index_entries(readme: str) -> dict:
    """Notebook stem -> {"title", "link", "summary" (Markdown), "run_time", "thumbnail"} from the
    README's notebook table (the one home of the summaries); links as the README writes them."""
    entries = {}
    for stem, (_, cells) in readme_rows(readme).items():
        picture, link, summary, run_time = (cell.strip() for cell in cells)
        title, target = re.match(r"\[(.*?)\]\((.*?)\)", link).groups()
        entries[stem] = {
            "title": title,
            "link": target,
            "summary": summary.replace(r"\|", "|"),
            "run_time": run_time,
            "thumbnail": re.search(r'src="([^"]+)"', picture).group(1),
        }
    return entries


def readme_title(readme: str) -> str:
    """The README's title: the collection's name."""
    return readme.splitlines()[0].lstrip("# ").strip()


def readme_intro(readme: str) -> str:
    """The README's first paragraph (Markdown): what the collection is."""
    return next(p for p in readme.split("\n\n") if p.strip() and not p.startswith("#"))


def markdown_html(text: str) -> str:
    """Inline Markdown as HTML, without the paragraph around it."""
    import mistune

    rendered = mistune.html(text).strip()
    return rendered.removeprefix("<p>").removesuffix("</p>")


def section_figures(notebook, index: int) -> list[str]:
    """The PNG outputs (base64) of the cells after ``index`` up to the next Markdown heading."""
    figures = []
    for cell in notebook.cells[index + 1 :]:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            break
        figures += [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    return figures


def widget_picture(notebook, index: int, text: str, stem: str) -> tuple[str, str]:
    """(image address in the site, what it shows) for the widget shown by cell ``index`` as ``text``."""
    name = re.match(r"\w*", text).group(0)
    if name in WIDGET_SCREENSHOTS:
        return f"images/{WIDGET_SCREENSHOTS[name].name}", "a screenshot of it in JupyterLab"
    figures = section_figures(notebook, index) if name in WIDGETS_DRAWN_BELOW else []
    if figures:
        return f"data:image/png;base64,{''.join(figures[0].split())}", "its view, as the code below draws it"
    return f"thumbnails/{stem}.png", "this notebook's thumbnail figure"


def static_widgets(notebook, stem: str):
    """A copy of ``notebook`` whose widgets are static: a cell's progress bars become one line
    saying how many trainings ran there, any other widget its picture with a one-line caption."""
    result = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for index, cell in enumerate(result.cells):
        if cell.cell_type != "code":
            continue
        outputs, bars, first_bar = [], 0, None
        for output in cell.outputs:
            text = output.get("data", {}).get("text/plain", "")
            if WIDGET_MIME not in output.get("data", {}):
                outputs.append(output)
            elif PROGRESS_BAR.search(text):
                bars += 1
                first_bar = len(outputs) if first_bar is None else first_bar
            else:
                source, shows = widget_picture(notebook, index, text, stem)
                caption = f"{html.escape(text.rstrip('.'))}. A widget: it runs in JupyterLab. Pictured: {shows}."
                figure = (
                    f'<figure class="widget-picture"><img src="{source}" alt="{html.escape(text)}">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
                outputs.append(nbformat.v4.new_output("display_data", data={"text/html": figure}))
        if bars:  # one line, where the first bar stood
            note = (
                f'<p class="widget-note">{trainings_text(bars).capitalize()} ran here, each with a progress bar'
                " (a widget: it runs in JupyterLab).</p>"
            )
            outputs.insert(first_bar, nbformat.v4.new_output("display_data", data={"text/html": note}))
        cell.outputs = outputs
    return result


def site_nav(stems: list[str], titles: dict, stem: str) -> str:
    """The bar of links at the top and bottom of a page: the previous notebook, the index, the next."""
    at = stems.index(stem)
    previous = f'<a href="{stems[at - 1]}.html">← {html.escape(titles[stems[at - 1]])}</a>' if at else "<span></span>"
    following = (
        f'<a href="{stems[at + 1]}.html">{html.escape(titles[stems[at + 1]])} →</a>'
        if at + 1 < len(stems)
        else "<span></span>"
    )
    return f'<nav class="site-nav">{previous}<a href="index.html">All notebooks</a>{following}</nav>'


@functools.lru_cache(maxsize=1)
def page_exporter():
    """nbconvert's HTML exporter with the site's template (one for all pages: its templates compile once)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file="site.html.j2",
        extra_loaders=[DictLoader({"site.html.j2": PAGE_TEMPLATE})],
        mathjax_url=MATHJAX_URL,
    )


def notebook_page(notebook, stem: str, titles: dict, site_title: str) -> str:
    """The HTML page of one notebook: nbconvert's lab template over its committed outputs (figures
    embedded), widgets static, links to the other notebooks rewritten to their pages."""
    stems = list(titles)
    resources = {
        "metadata": {"name": f"{titles[stem]} · {site_title}"},
        "site_nav": site_nav(stems, titles, stem),
        "site_css": SITE_CSS,
        "site_head": SITE_HEAD,
        "mathjax_config": MATHJAX_CONFIG,
    }
    body, _ = page_exporter().from_notebook_node(static_widgets(notebook, stem), resources=resources)
    return site_links(body, "notebooks", set(stems))


def index_page(readme: str, entries: dict) -> str:
    """The site's front page: the README's first paragraph, then each notebook's thumbnail, title,
    summary and run time, linking to its page."""
    stems, title = set(entries), readme_title(readme)
    items = "\n".join(
        f'<li><a href="{e["link"]}"><img src="{e["thumbnail"]}" alt="{html.escape(e["title"])}"></a>'
        f'<h2><a href="{e["link"]}">{html.escape(e["title"])}</a></h2>'
        f'<p>{markdown_html(e["summary"])}</p><p class="run-time">Run time: {html.escape(e["run_time"])}</p></li>'
        for e in entries.values()
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}: the notebooks</title>
{SITE_HEAD}
<style>{INDEX_CSS}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{markdown_html(readme_intro(readme))}</p>
<p>The notebooks as they ran, outputs included: read them here, in order. To train the models and use
the widgets, install the collection and open them in JupyterLab (the repository's README says how).</p>
<ul class="notebooks">
{items}
</ul>
<footer>Built with <code>python tools/notebooks.py site</code> from the committed notebooks.</footer>
</body>
</html>
"""
    return site_links(page, "", stems)


def mathjax_folder() -> Path | None:
    """The folder of MathJax's files in the installed jupyter-server-mathjax (None when it is not installed)."""
    import importlib.util

    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    return Path(spec.submodule_search_locations[0]) / "static" if spec and spec.submodule_search_locations else None


def write_site(out: Path) -> list[str]:
    """Write the static site to ``out``: a page per notebook, index.html, the thumbnails, the
    pictures of widgets and MathJax. -> the problems that stopped it (empty: written)."""
    out = Path(out).resolve()
    if out in (ROOT.resolve(), NOTEBOOKS.resolve()):
        return [f"--out {out} is the repository's own folder: write the site to a folder of its own"]
    readme = README.read_text()
    entries = index_entries(readme)
    notebooks = [ipynb for _, ipynb in pairs()]
    problems = [
        f"{README.name} has no table row linking notebooks/{n.name}" for n in notebooks if n.stem not in entries
    ]
    mathjax = mathjax_folder()
    if mathjax is None:
        problems.append(f"{MATHJAX_PACKAGE} is not installed: pip install -c constraints.txt -e '.[lab]'")
    if problems:
        return problems
    entries = {n.stem: entries[n.stem] for n in notebooks}  # in the notebooks' order
    titles = {stem: entry["title"] for stem, entry in entries.items()}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(mathjax, out / "mathjax", dirs_exist_ok=True)
    (out / "thumbnails").mkdir(exist_ok=True)
    for thumbnail in sorted(THUMBNAILS.glob("*.png")):
        shutil.copy(thumbnail, out / "thumbnails" / thumbnail.name)
    (out / "images").mkdir(exist_ok=True)
    for screenshot in WIDGET_SCREENSHOTS.values():
        shutil.copy(screenshot, out / "images" / screenshot.name)
    for ipynb in notebooks:
        page = out / f"{ipynb.stem}.html"
        page.write_text(
            notebook_page(nbformat.read(ipynb, as_version=4), ipynb.stem, titles, readme_title(readme)),
            encoding="utf-8",
        )
        print(f"{page}: {titles[ipynb.stem]}")
    (out / "index.html").write_text(index_page(readme, entries), encoding="utf-8")
    print(f"{out / 'index.html'}: {len(notebooks)} notebooks")
    return []


def check() -> list[str]:
    """Every pair out of sync, every header or README run time that disagrees with build.json (empty: all agree)."""
    return pair_problems() + timing_problems()


def pair_problems() -> list[str]:
    """Descriptions of every pair that is out of sync (empty when all agree)."""
    problems = []
    for py, ipynb in pairs():
        if not ipynb.exists():
            problems.append(f"{py.name} has no {ipynb.name}: run `python tools/notebooks.py build {py.stem}`")
            continue
        rendered, source = as_text(nbformat.read(ipynb, as_version=4)), py.read_text()
        if rendered != source:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        source.splitlines(True),
                        rendered.splitlines(True),
                        str(py.name),
                        f"{ipynb.name} as text",
                        n=1,
                    )
                )[:40]
            )
            problems.append(f"{py.name} and {ipynb.name} differ:\n{diff}")
        notebook = nbformat.read(ipynb, as_version=4)
        unexecuted = [
            i
            for i, c in enumerate(notebook.cells)
            if c.cell_type == "code" and c.source.strip() and c.execution_count is None
        ]
        if unexecuted:
            problems.append(f"{ipynb.name}: code cells {unexecuted} have no execution count (nbval would skip them)")
    for ipynb in sorted(NOTEBOOKS.glob("*.ipynb")):
        if not ipynb.with_suffix(".py").exists():
            problems.append(f"{ipynb.name} has no paired {ipynb.with_suffix('.py').name}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build").add_argument("names", nargs="*", help="parts of notebook names (default: all)")
    sub.add_parser("check")
    sub.add_parser("headers", help=f"rewrite header lines and the README from {BUILD_RECORD.name} (no run)")
    sub.add_parser("solutions", help="run every solution's code in place").add_argument(
        "names", nargs="*", help="parts of notebook names (default: all)"
    )
    student = sub.add_parser("student", help="write the student edition (the notebooks less their solutions)")
    student.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write it")
    student.add_argument("names", nargs="*", help="parts of notebook names (default: all)")
    site = sub.add_parser("site", help="write the static web site: a page per notebook and an index")
    site.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write it")
    slides = sub.add_parser("slides", help="assign every cell's slide type from rules, in .ipynb and .py")
    slides.add_argument("names", nargs="*", help="parts of notebook names (default: all)")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.names)
        return 0
    if args.command == "solutions":
        selected = [py for py, _ in pairs() if not args.names or any(n in py.stem for n in args.names)]
        problems = []
        for py in selected:
            count = len(solution_blocks(jupytext.read(py)))
            started = time.perf_counter()
            found = run_solutions(py)
            outcome = "FAILED" if found else "all ran"
            print(f"{py.name}: {count} solution blocks, {outcome} ({time.perf_counter() - started:.0f} s)")
            problems += found
        print("\n\n".join(problems))
        return 1 if problems else 0
    if args.command == "student":
        problems = write_student_edition(args.out, args.names)
        if problems:
            print("no student edition written:\n" + "\n".join(problems), file=sys.stderr)
        return 1 if problems else 0
    if args.command == "site":
        problems = write_site(args.out)
        if problems:
            print("no site written:\n" + "\n".join(problems), file=sys.stderr)
        return 1 if problems else 0
    if args.command == "slides":
        problems = write_slides(args.names)
        if problems:
            print("\n".join(problems), file=sys.stderr)
        return 1 if problems else 0
    if args.command == "headers":
        missing = apply_record(read_record())
        for stem in missing:
            print(f"warning: {stem} has no `{HEADER_PREFIX}` line in its markdown")
        return 1 if missing else 0
    problems = check()
    print("\n\n".join(problems) if problems else f"{len(pairs())} notebook pairs in sync")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
