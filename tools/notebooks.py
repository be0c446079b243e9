"""Build and check the chapter notebooks: the jupytext ``.py`` is the source of truth.

    python tools/notebooks.py build [NAME ...]   # .py -> executed .ipynb (outputs committed)
    python tools/notebooks.py check              # every .py/.ipynb pair in sync? (exit 1 if not)

``build`` executes each notebook from its ``.py`` in a fresh kernel with the full
training budget, removes what churns between runs (widget state, execution timings),
writes the ``.ipynb`` and rewrites the ``.py`` from it, so the pair is identical.
``check`` renders each ``.ipynb`` as percent text and compares it with its ``.py``: it
catches drift in either direction (``jupytext --diff`` exits 0 even when files differ).
"""

from __future__ import annotations

import argparse
import base64
import difflib
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


def build(names: list[str]) -> None:
    from nbclient import NotebookClient

    selected = [p for p in pairs() if not names or any(n in p[0].stem for n in names)]
    if not selected:
        raise SystemExit(f"no notebook matches {names}; notebooks: {[p[0].stem for p in pairs()]}")
    for py, ipynb in selected:
        notebook = jupytext.read(py)
        notebook.metadata["kernelspec"] = KERNEL
        start = time.perf_counter()
        NotebookClient(
            notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
        seconds = time.perf_counter() - start
        clean(notebook)
        nbformat.write(notebook, ipynb)
        py.write_text(as_text(notebook))
        thumbnail = save_thumbnail(notebook, THUMBNAILS / f"{py.stem}.png")
        print(
            f"{ipynb.relative_to(ROOT)}: executed in {seconds:.1f} s"
            + (f", thumbnail {thumbnail.relative_to(ROOT)}" if thumbnail else "")
        )


def check() -> list[str]:
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
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.names)
        return 0
    problems = check()
    print("\n\n".join(problems) if problems else f"{len(pairs())} notebook pairs in sync")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
