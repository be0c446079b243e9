"""The prior explorer app works as a class sees it: served by Voilà, in a real browser (issue 15).

`voila apps/prior_explorer.ipynb` (the README's command) runs the notebook and shows its
outputs only. This test starts it on 127.0.0.1 with a free port, a token and empty Jupyter
directories, opens the page in headless Chromium and checks what a teacher relies on: the
widgets render, no code and no traceback is on the page, the six Fig. 4.13 pictures are one
click away, and a prior chosen with a click trains with a live plot and adds a row to the
table. The server and its kernels are stopped even when the test fails.

voila.json (read from the repository root, where the command runs) leaves out jupytext's
JupyterLab extension, which fails to load in Voilà's front end; the page logs no other error.

Select it with ``pytest -m browser``. Its screenshot of the trained panel goes to the artifacts
folder (conftest.py); with ``VAE_PRIORS_UPDATE_DOCS=1`` also to docs/prior-explorer-app.png,
the README's picture (a normal run leaves the committed files as they are).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_tools import WATCH_TRAINING_JS, free_port, missing

import vaelib

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "apps" / "prior_explorer.ipynb"
README_SCREENSHOT = ROOT / "docs" / "prior-explorer-app.png"

#: A prior other than the initial "standard", chosen in the dropdown with a click and the keyboard.
CHOSEN_PRIOR = "vampprior"
#: What the status says once a run has finished.
DONE = "Done:"
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 10
#: From the page request to the rendered panel: a kernel starts, imports torch, runs the notebook.
APP_READY_TIMEOUT_S = 90
TRAINING_TIMEOUT_S = 90
#: Voilà's page template links Font Awesome from this CDN; offline (as here) the request fails, a
#: console error that the test forgives (JupyterLab's own copy draws the icons).
OFFLINE_CDN = "https://cdn.jsdelivr.net/"

pytestmark = pytest.mark.browser


@dataclass
class VoilaServer:
    """A running ``voila apps/prior_explorer.ipynb`` and what the test needs to reach it."""

    process: subprocess.Popen
    port: int
    token: str
    connection_dir: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _start_voila(tmp: Path, port: int) -> VoilaServer:
    dirs = {name: tmp / name for name in ("config", "data", "runtime", "ipython")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel runs as a student's would
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    token = secrets.token_hex(24)
    # The README's command, from the repository root, plus what keeps the test to itself.
    command = [
        sys.executable,
        "-m",
        "voila",
        str(APP.relative_to(ROOT)),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        f"--Voila.connection_dir_root={dirs['runtime']}",
    ]
    log_path = tmp / f"voila-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return VoilaServer(process, port, token, dirs["runtime"], log_path)


def _wait_until_listening(server: VoilaServer) -> bool:
    """Whether the server accepts connections (a page request would already start a kernel)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.25)
    return False


def _our_kernels(server: VoilaServer) -> list[int]:
    """The process ids of kernels still running with a connection file of this server's."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(server.connection_dir).encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            pass  # it ended meanwhile
    return pids


def _stop_voila(server: VoilaServer) -> None:
    """SIGTERM: Voilà shuts its kernels down and exits; whatever is left of them is killed."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    for pid in _our_kernels(server):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory, artifacts_dir):
    """``voila apps/prior_explorer.ipynb`` on 127.0.0.1, stopped (kernels included) even when a test fails."""
    try:
        import voila  # noqa: F401
    except ImportError:
        missing("Voilà is not installed (pip install -e '.[lab]')")
    tmp = tmp_path_factory.mktemp("voila")
    server = None
    try:
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            server = _start_voila(tmp, free_port())
            if _wait_until_listening(server):
                break
            _stop_voila(server)
        else:
            pytest.fail(f"voila did not start; the end of its log:\n{server.log_tail()}", pytrace=False)
        yield server
    finally:
        if server is not None:
            _stop_voila(server)
            shutil.copy(server.log_path, artifacts_dir / "voila.log")
            assert not _our_kernels(server), "a kernel of the Voilà server outlived it"


# What the page shows besides the app: code, tracebacks, error texts, outputs that are not the
# app's widget (a stray print or repr), widgets that did not render.
PAGE_PROBLEMS_JS = r"""() => {
    const problems = [];
    // A code cell's input as nbconvert's lab template writes it (Voilà leaves it out), or an editor.
    const CODE = '.jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-CodeMirrorEditor, .cm-editor, div.highlight';
    for (const code of document.querySelectorAll(CODE))
        if (code.offsetParent !== null) problems.push(`code shown: ${code.textContent.trim().slice(0, 200)}`);
    const text = document.body.innerText;
    for (const sign of ['Traceback', 'Error displaying widget', 'Exception', 'Error:', 'Voilà could not']) {
        const at = text.indexOf(sign);
        if (at >= 0) problems.push(`the page says: …${text.slice(at, at + 300)}`);
    }
    for (const output of document.querySelectorAll('.jp-OutputArea-output')) {
        if (!output.querySelector(':scope > .vaelib-app'))
            problems.push(`an output that is not the app: ${output.textContent.trim().slice(0, 200)}`);
    }
    return problems;
}"""


def wait_for_js(page, expression: str, timeout_s: float, explain, arg=None) -> None:
    """Waits until the JavaScript expression is truthy; on timeout fails with explain()'s text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout_s * 1000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"after {timeout_s} s: {explain()}") from None


def choose_by_keyboard(page, select, label: str) -> None:
    """Chooses an option as a person does: a click opens the list, arrows move, Enter picks."""
    labels = select.evaluate("s => [...s.options].map(o => o.textContent.trim())")
    assert label in labels, f"{label!r} is not an option of the prior dropdown: {labels}"
    steps = labels.index(label) - select.evaluate("s => s.selectedIndex")
    select.click()
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    page.keyboard.press("Enter")


@pytest.fixture
def app_page(browser, voila_server, artifacts_dir, request):
    """(A page with the app opened, the console errors and uncaught exceptions it logs); its
    screenshot is saved when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors = []

    def on_console(message) -> None:
        where = message.location.get("url", "")
        if message.type == "error" and not where.startswith(OFFLINE_CDN):
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    try:
        page.goto(voila_server.url, wait_until="commit")
        app_ready = """() => {
            const plot = document.querySelector('.vaelib-app img.vaelib-plot, .vaelib-app .vaelib-plot img');
            return !!plot && plot.naturalWidth > 0 && !!document.querySelector('.vaelib-results table');
        }"""
        wait_for_js(
            page,
            app_ready,
            APP_READY_TIMEOUT_S,
            lambda: (
                "the app's plot and results table never rendered; the page says: "
                f"{page.evaluate('() => document.body.innerText.slice(0, 600)')!r}; "
                f"Voilà's log ends:\n{voila_server.log_tail()}"
            ),
        )
        yield page, errors
    finally:
        try:
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:
                page.screenshot(path=artifacts_dir / f"{request.node.name}-failed.png")
        finally:
            context.close()


def test_app_shows_no_code_and_trains_a_prior_chosen_by_click_with_a_live_plot(app_page, artifacts_dir):
    page, console_errors = app_page
    problems = page.evaluate(PAGE_PROBLEMS_JS)
    assert not problems, "the app's page shows what a class should not see:\n" + "\n".join(problems)

    # The six Fig. 4.13 pictures: one click on their tab, each drawn, in the order of vaelib.PRIORS.
    page.get_by_role("tab", name="The six priors").click()
    panels = page.locator(".vaelib-panels")
    panels.wait_for(state="visible")
    pictures = panels.locator("img")
    wait_for_js(
        page,
        "() => { const i = [...document.querySelectorAll('.vaelib-panels img')];"
        " return i.length === 6 && i.every(p => p.naturalWidth > 0 && p.offsetWidth > 0); }",
        10,
        lambda: f"{pictures.count()} of the six pictures shown",
    )
    names = panels.locator(".vaelib-panel-name").all_text_contents()
    assert [n.strip() for n in names] == list(vaelib.PRIORS), names
    page.screenshot(path=artifacts_dir / "prior-explorer-six-priors.png")
    page.get_by_role("tab", name="Train a prior").click()

    prior = page.locator(".vaelib-app .vaelib-prior select")
    status = page.locator(".vaelib-app .vaelib-status")
    rows = page.locator(".vaelib-app .vaelib-results tbody tr")
    prior.wait_for(state="visible")
    rows_before = rows.count()
    choose_by_keyboard(page, prior, CHOSEN_PRIOR)
    assert prior.evaluate("s => s.options[s.selectedIndex].textContent.trim()") == CHOSEN_PRIOR
    wait_for_js(
        page,
        f"() => document.querySelector('.vaelib-app .vaelib-status').textContent.includes('{CHOSEN_PRIOR}')",
        10,
        lambda: f"the kernel did not take the choice: status {status.text_content()!r}",
    )

    page.evaluate(WATCH_TRAINING_JS, {"root": ".vaelib-app", "done": DONE})
    page.locator(".vaelib-app .vaelib-train").click()

    def explain() -> str:
        return f"status {status.text_content()!r}, page problems {page.evaluate(PAGE_PROBLEMS_JS)}"

    wait_for_js(
        page,
        "() => window.__vaelibTraining.doneSeen",
        TRAINING_TIMEOUT_S,
        lambda: f"the status never showed {DONE!r} after Train; " + explain(),
    )
    wait_for_js(
        page,
        "() => window.__vaelibTraining.frames.every(f => f.hash !== null)",
        10,
        lambda: "the plot's pictures could not be read",
    )
    record = page.evaluate("() => window.__vaelibTraining")
    rows.nth(rows_before).wait_for()  # the row may arrive just after the status
    page.locator(".vaelib-app").screenshot(path=artifacts_dir / "prior-explorer-app.png")
    if os.environ.get("VAE_PRIORS_UPDATE_DOCS"):
        shutil.copy(artifacts_dir / "prior-explorer-app.png", README_SCREENSHOT)

    before_training, *new_frames = record["frames"]
    while_training = {f["hash"] for f in new_frames if f["beforeDone"]} - {before_training["hash"]}
    assert len(while_training) >= 2, f"the plot showed {len(while_training)} new pictures before training ended"
    assert record["progressMax"] > 0, "the progress bar never moved"
    assert rows.count() == rows_before + 1
    assert CHOSEN_PRIOR in rows.nth(rows_before).text_content(), "the new result row is not for the chosen prior"
    problems = page.evaluate(PAGE_PROBLEMS_JS)
    assert not problems, "after training the page shows:\n" + "\n".join(problems)
    assert not console_errors, "the page logged errors:\n" + "\n".join(console_errors)
