"""Build and check the chapter notebooks: the jupytext ``.py`` is the source of truth.

    python tools/notebooks.py build [NAME ...]   # .py -> executed .ipynb (outputs committed)
    python tools/notebooks.py check              # every pair in sync, headers as measured? (exit 1 if not)
    python tools/notebooks.py headers            # rewrite headers and README from build.json (no run)
    python tools/notebooks.py solutions [NAME ...]  # run every solution's code in place (exit 1 if one fails)
    python tools/notebooks.py student --out DIR [NAME ...]  # the student edition: no solutions

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
"""

from __future__ import annotations

import argparse
import base64
import datetime
import difflib
import json
import os
import platform
import re
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
#: The tag of the Markdown cells that hold an exercise's solution (AUTHORING.md).
SOLUTION_TAG = "solution"
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
            rows[match.group(1)] = (i, line.strip().strip("|").split("|"))
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
