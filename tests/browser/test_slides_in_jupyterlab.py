"""A notebook presented as live slides in JupyterLab (issue 15, item 2), in a real browser.

As a teacher does: open the playground notebook in JupyterLab, run the cells above the panel
(the set-up cell is skipped in the slides, so it runs before the show), select the title and
press the Deck button in the notebook's toolbar (jupyterlab-slideshow). The notebook becomes its
slides, built from the cells' `slideshow.slide_type`: the test checks that the title slide is
all that shows, moves on with the keyboard (Space) to the panel's slide, runs it with Ctrl+Enter
and sees the panel render there, live. Uses conftest.py's throw-away JupyterLab and Chromium.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = ROOT / "notebooks" / "08_playground.ipynb"
#: The code of the widget cell the test runs on its slide, and the notebook's title.
WIDGET_SOURCE = "vaelib.Playground(data)"
TITLE = "8. Prior playground"
#: How many key presses may lie between the title and the panel's slide before the test gives up.
MAX_STEPS = 8
KERNEL_READY_TIMEOUT_S = 60
SET_UP_TIMEOUT_S = 60
RUN_TIMEOUT_S = 30

pytestmark = pytest.mark.browser

# The slide on screen: the cells the deck shows now (it marks them), their text, their code
# cells' sources and prompts, and what their outputs hold.
PRESENT_SLIDE_JS = r"""() => {
    const visible = el => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Cell.jp-deck-mod-onscreen')].filter(visible);
    const shown = selector => cells.flatMap(cell => [...cell.querySelectorAll(selector)]).filter(visible);
    const code = cells.filter(cell => cell.classList.contains('jp-CodeCell'));
    return {
        text: cells.map(cell => cell.innerText).join('\n'),
        cells: cells.length,
        code: code.map(cell => cell.querySelector('.jp-InputArea-editor')?.textContent ?? ''),
        prompts: code.map(cell => cell.querySelector('.jp-InputPrompt')?.textContent.trim() ?? ''),
        widgets: shown('.jp-OutputArea-output .jupyter-widgets').length,
        trainButtons: shown('.vaelib-train').length,
        broken: shown('.jp-OutputArea-output').map(o => o.textContent.trim())
            .filter(t => t.startsWith('Error displaying widget') || t.startsWith('Loading widget')
                         || t.includes('Traceback')),
    };
}"""

# Notes when the slide's code cell is queued to run (its prompt turns to "[*]:"): the saved
# notebook already shows an execution count, so only this tells that the keyboard ran it.
WATCH_PROMPT_JS = r"""(source) => {
    window.__slideCellQueued = false;
    const notebook = document.querySelector('.jp-NotebookPanel .jp-Notebook');
    const cell = [...notebook.querySelectorAll('.jp-CodeCell')].find(c => c.textContent.includes(source));
    new MutationObserver(() => {
        if (cell.querySelector('.jp-InputPrompt').textContent.includes('*')) window.__slideCellQueued = true;
    }).observe(cell, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(autouse=True)
def committed_notebook_stays_untouched():
    before = PLAYGROUND.read_bytes()
    yield
    assert PLAYGROUND.read_bytes() == before, f"the test modified {PLAYGROUND}"


def wait_for_kernel(lab_server, server_path: str) -> None:
    """Waits until the notebook's kernel is connected and idle."""
    deadline = time.monotonic() + KERNEL_READY_TIMEOUT_S
    sessions = []
    while time.monotonic() < deadline:
        sessions = [s for s in lab_server.sessions() if s["path"] == server_path]
        kernel = (sessions[0].get("kernel") or {}) if sessions else {}
        if kernel.get("connections", 0) >= 1 and kernel.get("execution_state") == "idle":
            return
        time.sleep(0.25)
    raise AssertionError(f"no idle, connected kernel for {server_path} after {KERNEL_READY_TIMEOUT_S} s: {sessions}")


def widget_cell_index(notebook: Path) -> int:
    cells = nbformat.read(notebook, as_version=4).cells
    return next(i for i, cell in enumerate(cells) if WIDGET_SOURCE in cell.source)


def run_cells_above(page, index: int) -> None:
    """Selects cell ``index`` and runs every cell above it (Run > Run All Above Selected Cell)."""
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    cells.nth(index).locator(".jp-InputPrompt").click()
    page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
    page.locator('.lm-Menu-item[data-command="notebook:run-all-above"]:not(.lm-mod-disabled)').click()
    set_up = page.locator(".jp-NotebookPanel .jp-CodeCell").first.locator(".jp-InputPrompt")
    page.wait_for_function(
        "el => /^\\[\\d+\\]:$/.test(el.textContent.trim())",
        arg=set_up.element_handle(),
        timeout=SET_UP_TIMEOUT_S * 1000,
    )


def leave_the_deck(page) -> None:
    """End the slideshow, as a presenter does with Escape (the deck button, if that did not):
    the deck remembers that it was on, and the next notebook this server opens would start as slides."""
    onscreen = "() => document.querySelectorAll('.jp-deck-mod-onscreen').length === 0"
    page.keyboard.press("Escape")
    try:
        page.wait_for_function(onscreen, timeout=5_000)
    except Exception:
        page.locator('.jp-NotebookPanel-toolbar [data-command="deck:toggle"]').click()
        page.wait_for_function(onscreen, timeout=5_000)


def test_the_playground_as_slides_title_then_keyboard_to_the_panel_which_runs(page, lab_server, artifacts_dir):
    server_path = lab_server.copy_notebook(PLAYGROUND)
    page.goto(lab_server.lab_url(server_path))
    try:
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible")
        wait_for_kernel(lab_server, server_path)
        run_cells_above(page, widget_cell_index(PLAYGROUND))

        def present() -> dict:
            return page.evaluate(PRESENT_SLIDE_JS)

        # The slides start at the selected cell: select the title, then the toolbar's Deck button.
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")
        page.locator('.jp-NotebookPanel-toolbar [data-command="deck:toggle"]').click()
        page.wait_for_function(f"() => ({PRESENT_SLIDE_JS})().text.includes({TITLE!r})", timeout=30_000)
        title = present()
        assert title["cells"] == 1 and title["code"] == [], f"the title slide shows more than the title: {title}"
        page.screenshot(path=artifacts_dir / "slides-title.png")

        # The keyboard, as a presenter: Space moves to the next slide (down through subslides, then on).
        seen = [title["text"].splitlines()[0]]
        for _ in range(MAX_STEPS):
            page.keyboard.press("Space")
            page.wait_for_timeout(300)  # the deck's transition
            now = present()
            seen.append((now["text"].splitlines() or [""])[0])
            if any(WIDGET_SOURCE in code for code in now["code"]):
                break
        else:
            raise AssertionError(f"no slide with {WIDGET_SOURCE!r} after {MAX_STEPS} presses of Space; saw {seen}")
        assert now["cells"] == 1, f"the panel shares its slide: {now['text'][:300]}"

        # Ctrl+Enter runs the cell and stays on its slide (Shift+Enter runs it and moves on).
        page.evaluate(WATCH_PROMPT_JS, WIDGET_SOURCE)
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            f"() => window.__slideCellQueued && /^\\[\\d+\\]:$/.test(({PRESENT_SLIDE_JS})().prompts[0])",
            timeout=RUN_TIMEOUT_S * 1000,
        )
        page.wait_for_function(f"() => ({PRESENT_SLIDE_JS})().trainButtons > 0", timeout=RUN_TIMEOUT_S * 1000)
        shown = present()
        assert shown["widgets"] >= 1 and not shown["broken"], shown
        assert any(WIDGET_SOURCE in code for code in shown["code"]), "the deck left the panel's slide"
        page.screenshot(path=artifacts_dir / "slides-widget.png")
    finally:
        leave_the_deck(page)
