"""The prior explorer app's files, without a browser (tests/browser/test_prior_explorer_app.py
serves it with Voilà and clicks through it).

apps/ is not under nbval (pyproject's testpaths): the app's .ipynb is committed without outputs,
since Voilà runs it whenever the page opens; the test below runs it once as Voilà's kernel would.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_configuration_file

import vaelib
from vaelib.cli import PRIOR_FIGURES

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "apps"
APP_PY, APP_IPYNB = APPS / "prior_explorer.py", APPS / "prior_explorer.ipynb"

spec = importlib.util.spec_from_file_location("render_panels", APPS / "render_panels.py")
render_panels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_panels)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_app_notebook_is_its_jupytext_script_without_outputs():
    notebook = nbformat.read(APP_IPYNB, as_version=4)
    config = load_jupytext_configuration_file(str(APPS / "jupytext.toml"))
    assert jupytext.writes(notebook, fmt="py:percent", config=config) == APP_PY.read_text()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_every_prior_has_its_committed_panel():
    for prior in vaelib.PRIORS:
        path = render_panels.panel_path(prior)
        assert path.is_file(), f"{path} is missing: run python apps/render_panels.py"
        assert path.read_bytes().startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    # render_panels keeps the files that `vaelib figures` writes under these names.
    assert "contours-{prior}" in [stem for stem, _ in PRIOR_FIGURES]


def _fake_figures(calls: list, status: int = 0):
    """Stands in for `vaelib figures`: writes a contours-PRIOR.png of each prior into --out."""

    def figures(argv):
        calls.append(argv)
        out = Path(argv[argv.index("--out") + 1])
        for prior in vaelib.PRIORS:
            (out / f"contours-{prior}.png").write_bytes(PNG_SIGNATURE + prior.encode())
        return status

    return figures


def test_render_panels_keeps_the_six_contour_plots_of_vaelib_figures(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(render_panels, "vaelib_main", _fake_figures(calls))
    assert render_panels.render_panels(["--seed", "1"], panels=tmp_path / "panels") == 0
    (argv,) = calls
    assert argv[0] == "figures" and argv[-2:] == ["--seed", "1"] and "--priors" not in argv
    for prior in vaelib.PRIORS:
        assert render_panels.panel_path(prior, tmp_path / "panels").read_bytes() == PNG_SIGNATURE + prior.encode()
    assert len(list((tmp_path / "panels").iterdir())) == len(vaelib.PRIORS)


def test_a_failed_vaelib_figures_leaves_the_panels_as_they_were(tmp_path, monkeypatch):
    monkeypatch.setattr(render_panels, "vaelib_main", _fake_figures([], status=1))
    panels = tmp_path / "panels"
    panels.mkdir()
    (panels / "contours-mog.png").write_bytes(b"the old picture")
    assert render_panels.render_panels([], panels=panels) == 1
    assert [p.name for p in panels.iterdir()] == ["contours-mog.png"]
    assert (panels / "contours-mog.png").read_bytes() == b"the old picture"


@pytest.mark.parametrize("option", ["--priors", "--out=elsewhere", "--formats"])
def test_render_panels_refuses_the_options_it_sets_itself(option, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(render_panels, "vaelib_main", _fake_figures(calls))
    assert render_panels.render_panels([option, "x"], panels=tmp_path) == 2
    assert not calls and option in capsys.readouterr().err


def test_the_app_runs_as_voilas_kernel_runs_it_and_shows_one_widget_and_nothing_else():
    """The cells run in apps/ (Voilà's working directory for the notebook); the page would show
    every output, so the only one is the app's widget: no print, no warning, no traceback."""
    from nbclient import NotebookClient

    notebook = nbformat.read(APP_IPYNB, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(APPS)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert [output.output_type for output in outputs] == ["display_data"], outputs
    assert "application/vnd.jupyter.widget-view+json" in outputs[0].data
    # Every panel was found: the "missing" notice is in no widget the kernel made.
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    assert state, "the run stored no widget state to inspect"
    models = state["state"].values()
    assert not [m for m in models if "missing:" in str(m["state"].get("value", ""))]
    pictures = [m for m in models if m["model_name"] == "ImageModel"]
    assert len(pictures) == 2 + len(vaelib.PRIORS)  # the playground's plot and samples, and the panels
