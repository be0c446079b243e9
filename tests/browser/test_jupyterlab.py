"""The notebooks work where students use them: in JupyterLab, in a real browser (issue 6).

nbval runs a notebook's cells but never renders a widget, so a widget can pass it and
still be broken in JupyterLab. These tests open copies of the notebooks in a throw-away
JupyterLab (see conftest.py), run all cells through the menu, and use the widgets with
real clicks in headless Chromium.

Select them with ``pytest -m browser``; deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from browser_tools import WATCH_TRAINING_JS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# The notebooks under test.
PLAYGROUND = ROOT / "notebooks" / "08_playground.ipynb"
INTRO = ROOT / "notebooks" / "01_introduction.ipynb"

#: A prior other than the initial "standard", chosen in the dropdown by keyboard after a click.
CHOSEN_PRIOR = "vampprior"
#: What the status widget starts with once a run has finished.
DONE = "Done:"
KERNEL_READY_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = 90
TRAINING_TIMEOUT_S = 90

pytestmark = pytest.mark.browser

# Output texts that show a cell or a widget failed, one entry each (empty when all is well).
OUTPUT_PROBLEMS_JS = r"""() => {
    const problems = [];
    for (const output of document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')) {
        const text = output.textContent;
        const isStderr = output.dataset.mimeType === 'application/vnd.jupyter.stderr';
        if (text.includes('Traceback (most recent call last)') || text.includes('Error displaying widget')
                || (isStderr && /^\s*\w*(Error|Exception)\b/m.test(text))) {
            problems.push(text.trim().slice(0, 800));
        }
    }
    if (problems.length === 0 && document.body.textContent.includes('Error displaying widget')) {
        problems.push('"Error displaying widget" outside the notebook outputs');
    }
    return problems;
}"""

# The prompts ("[ ]:", "[*]:", "[3]:") of the code cells that have source, given which of
# the notebook's code cells have (empty cells are never sent to the kernel: they keep "[ ]:").
CODE_PROMPTS_JS = r"""(hasSource) => {
    const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')];
    if (cells.length !== hasSource.length) return [`${cells.length} code cells shown of ${hasSource.length}`];
    return cells.filter((cell, i) => hasSource[i])
        .map(cell => (cell.querySelector('.jp-InputPrompt')?.textContent ?? '').trim());
}"""

# Run All has finished: every code cell shows its execution count, or a cell failed (which
# stops the run) and nothing is queued any more.
RUN_ALL_FINISHED_JS = f"""(hasSource) => {{
    const prompts = ({CODE_PROMPTS_JS})(hasSource);
    if (prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p))) return true;
    return !prompts.some(p => p.includes('*')) && ({OUTPUT_PROBLEMS_JS})().length > 0;
}}"""

# The widget outputs: how many show a rendered widget, and the texts of those that do not
# (still "Loading widget...", or "Error displaying widget: ...").
WIDGET_OUTPUTS_JS = r"""() => {
    const outputs = [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')];
    return {
        rendered: outputs.filter(o => o.querySelector(':scope > .jupyter-widgets')).length,
        broken: outputs.map(o => o.textContent.trim())
            .filter(text => text.startsWith('Loading widget') || text.startsWith('Error displaying widget')),
    };
}"""


@pytest.fixture(autouse=True)
def committed_notebooks_stay_untouched():
    before = {path: path.read_bytes() for path in (PLAYGROUND, INTRO)}
    yield
    for path, content in before.items():
        assert path.read_bytes() == content, f"the test modified {path}"


def wait_for_js(page, expression: str, timeout_s: float, explain, arg=None) -> None:
    """Waits until the JavaScript expression is truthy; on timeout fails with explain()'s text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout_s * 1000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"after {timeout_s} s: {explain()}") from None


def wait_for_kernel(lab_server, server_path: str) -> None:
    """Waits until the page's kernel is attached (the toolbar says "Idle" before it is)."""
    deadline = time.monotonic() + KERNEL_READY_TIMEOUT_S
    sessions = []
    while time.monotonic() < deadline:
        sessions = lab_server.sessions()
        for session in sessions:
            kernel = session.get("kernel") or {}
            if (
                session["path"] == server_path
                and kernel.get("connections", 0) >= 1
                and kernel.get("execution_state") == "idle"
            ):
                return
        time.sleep(0.25)
    raise AssertionError(f"no idle, connected kernel for {server_path} after {KERNEL_READY_TIMEOUT_S} s: {sessions}")


def open_notebook(page, lab_server, notebook: Path) -> str:
    """Opens a copy of the notebook in JupyterLab with its kernel attached; its server path."""
    server_path = lab_server.copy_notebook(notebook)
    page.goto(lab_server.lab_url(server_path))
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible")
    wait_for_kernel(lab_server, server_path)
    return server_path


def menu_command(page, menu: str, command: str) -> None:
    """Clicks a main-menu entry, found by its JupyterLab command id (stable, unlike labels)."""
    page.locator(".lm-MenuBar-item").filter(has_text=re.compile(rf"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]:not(.lm-mod-disabled)').click()


def code_cells_with_source(notebook: Path) -> list[bool]:
    """For each code cell of the notebook file, in order: whether it has any source."""
    cells = json.loads(notebook.read_text())["cells"]
    return [bool("".join(cell["source"]).strip()) for cell in cells if cell["cell_type"] == "code"]


def run_all_cells(page, notebook: Path) -> None:
    """Expands hidden code (its prompts show whether it ran), clears the saved outputs (so a
    "[n]:" prompt is this run's), then Run > Run All Cells and waits until the run ends."""
    has_source = code_cells_with_source(notebook)

    def prompts() -> list[str]:
        return page.evaluate(CODE_PROMPTS_JS, has_source)

    menu_command(page, "View", "notebook:show-all-cell-code")
    menu_command(page, "Edit", "editmenu:clear-all")
    wait_for_js(
        page,
        f"h => ({CODE_PROMPTS_JS})(h).every(p => p === '[ ]:')",
        10,
        lambda: f"Clear Outputs left prompts {prompts()}",
        arg=has_source,
    )
    menu_command(page, "Run", "runmenu:run-all")
    wait_for_js(
        page,
        RUN_ALL_FINISHED_JS,
        RUN_ALL_TIMEOUT_S,
        lambda: f"Run All has not finished; prompts: {prompts()}",
        arg=has_source,
    )


def assert_cells_ran_cleanly(page, notebook: Path) -> None:
    problems = page.evaluate(OUTPUT_PROBLEMS_JS)
    assert not problems, "outputs show errors:\n" + "\n---\n".join(problems)
    prompts = page.evaluate(CODE_PROMPTS_JS, code_cells_with_source(notebook))
    assert all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts), f"not every code cell ran: {prompts}"


def assert_copy_not_written_back(lab_server, server_path: str, notebook: Path) -> None:
    """Autosave is off and nothing saves: the opened copy is still the committed file."""
    assert (lab_server.root_dir / server_path).read_bytes() == notebook.read_bytes()


def choose_by_keyboard(page, select, label: str) -> None:
    """Chooses an option as a person does: a click opens the list, arrows move, Enter picks."""
    labels = select.evaluate("s => [...s.options].map(o => o.textContent.trim())")
    assert label in labels, f"{label!r} is not an option of the prior dropdown: {labels}"
    steps = labels.index(label) - select.evaluate("s => s.selectedIndex")
    select.click()
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    page.keyboard.press("Enter")


def test_playground_trains_the_prior_chosen_by_click_and_redraws_while_training(page, lab_server, artifacts_dir):
    server_path = open_notebook(page, lab_server, PLAYGROUND)
    run_all_cells(page, PLAYGROUND)
    assert_cells_ran_cleanly(page, PLAYGROUND)

    prior = page.locator(".vaelib-prior select")
    plot = page.locator("img.vaelib-plot, .vaelib-plot img")
    status = page.locator(".vaelib-status")
    rows = page.locator(".vaelib-results tbody tr")
    page.locator(".vaelib-results table").wait_for()
    plot.scroll_into_view_if_needed()
    rows_before = rows.count()

    choose_by_keyboard(page, prior, CHOSEN_PRIOR)
    assert prior.evaluate("s => s.options[s.selectedIndex].textContent.trim()") == CHOSEN_PRIOR
    page.screenshot(path=artifacts_dir / "playground-before-training.png")

    page.evaluate(WATCH_TRAINING_JS, {"root": ".jp-Notebook", "done": DONE})
    page.locator(".vaelib-train").click()

    def explain() -> str:
        return f"status {status.text_content()!r}, output errors {page.evaluate(OUTPUT_PROBLEMS_JS)}"

    wait_for_js(
        page,
        "() => window.__vaelibTraining.frames.length > 1",
        TRAINING_TIMEOUT_S,
        lambda: "the plot never changed after Train; " + explain(),
    )
    page.screenshot(path=artifacts_dir / "playground-during-training.png")
    wait_for_js(
        page,
        "() => window.__vaelibTraining.doneSeen",
        TRAINING_TIMEOUT_S,
        lambda: f"the status never showed {DONE!r}; " + explain(),
    )
    wait_for_js(
        page,
        "() => window.__vaelibTraining.frames.every(f => f.hash !== null)",
        10,
        lambda: "the plot's pictures could not be read",
    )
    record = page.evaluate("() => window.__vaelibTraining")
    rows.nth(rows_before).wait_for()  # the row may arrive just after the status
    plot.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "playground-after-training.png")

    before_training, *new_frames = record["frames"]
    while_training = {f["hash"] for f in new_frames if f["beforeDone"]} - {before_training["hash"]}
    assert len(while_training) >= 2, f"the plot showed {len(while_training)} new pictures before training ended"
    assert record["progressMax"] > 0, "the progress bar never moved"
    assert rows.count() == rows_before + 1
    assert CHOSEN_PRIOR in rows.nth(rows_before).text_content(), "the new result row is not for the chosen prior"
    assert_cells_ran_cleanly(page, PLAYGROUND)
    assert_copy_not_written_back(lab_server, server_path, PLAYGROUND)


def test_introduction_renders_its_widgets_and_runs_without_tracebacks(page, lab_server, artifacts_dir):
    server_path = open_notebook(page, lab_server, INTRO)
    page.screenshot(path=artifacts_dir / "introduction-as-opened.png")
    run_all_cells(page, INTRO)
    assert_cells_ran_cleanly(page, INTRO)

    # A widget view renders once its model has arrived from the kernel.
    all_rendered = f"() => {{ const w = ({WIDGET_OUTPUTS_JS})(); return w.rendered > 0 && !w.broken.length; }}"
    wait_for_js(page, all_rendered, 10, lambda: f"widgets not all rendered: {page.evaluate(WIDGET_OUTPUTS_JS)}")
    assert_cells_ran_cleanly(page, INTRO)
    page.locator(".jp-OutputArea-output > .jupyter-widgets").last.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "introduction-after-run-all.png")
    assert_copy_not_written_back(lab_server, server_path, INTRO)
