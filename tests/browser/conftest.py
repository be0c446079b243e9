"""Fixtures for the real-browser tests: a throw-away JupyterLab server and headless Chromium.

The server runs on 127.0.0.1 with a fresh token, a free port and empty Jupyter config,
data, runtime and settings directories, so nothing from the machine's own Jupyter set-up
leaks in and nothing the test does is written back. Notebooks are opened from copies in
the server's temporary root directory, with autosave off.

Screenshots and the server's log go to ``$VAE_PRIORS_ARTIFACTS/browser`` (default:
``artifacts/browser`` at the repository root), so CI can keep them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_tools import free_port, missing

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# The flags that keep Debian's Chromium quiet, offline and self-contained in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 10

# JupyterLab user settings for the test server: no autosave (the opened copy is never
# written), no news or update checks (no network), every cell attached to the DOM (so the
# test sees all prompts and outputs, not only those in view).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    base = Path(os.environ.get("VAE_PRIORS_ARTIFACTS") or ROOT / "artifacts")
    path = base / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class LabServer:
    """A running ``jupyter lab`` and what a test needs to talk to it."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET"):
        """Calls the server's REST API (``path`` below the base URL); the JSON answer, or None."""
        request = urllib.request.Request(
            f"{self.base_url}/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def copy_notebook(self, notebook: Path) -> str:
        """Copies the notebook's folder into the server's root; the copy's path for the server.

        The whole folder, so that a notebook that reads a file beside it still finds it.
        """
        target = self.root_dir / notebook.parent.name
        if not target.exists():
            shutil.copytree(
                notebook.parent, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
            )
        return f"{notebook.parent.name}/{notebook.name}"

    def lab_url(self, server_path: str) -> str:
        """The page that opens the notebook in a new, empty workspace (no tabs left by another test)."""
        workspace = f"test-{secrets.token_hex(4)}"
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{server_path}?token={self.token}"

    def sessions(self) -> list[dict]:
        return self.api("api/sessions")

    def delete_sessions(self) -> None:
        """Shuts down every kernel started from the browser (they outlive the page)."""
        for session in self.sessions():
            try:
                self.api(f"api/sessions/{session['id']}", method="DELETE")
            except urllib.error.HTTPError as error:
                if error.code != 404:  # 404: it ended by itself meanwhile
                    raise

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _start_lab(tmp: Path, port: int, token: str) -> LabServer:
    dirs = {name: tmp / name for name in ("root", "config", "data", "runtime", "settings", "workspaces", "ipython")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    for plugin, settings in LAB_SETTINGS.items():
        settings_file = dirs["settings"] / f"{plugin}.jupyterlab-settings"
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(json.dumps(settings))

    # No news feed and no update check: no request may leave the machine.
    (dirs["config"] / "jupyter_lab_config.json").write_text(
        json.dumps({"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}})
    )

    env = dict(os.environ)
    # The kernel should see what a student's sees: matplotlib's inline backend, not the
    # Agg that the test suite sets for itself.
    env.pop("MPLBACKEND", None)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI runs as root; harmless otherwise
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={dirs['root']}",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
    ]
    log_path = tmp / f"jupyter-lab-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=dirs["root"], stdout=log, stderr=subprocess.STDOUT)
    return LabServer(process=process, port=port, token=token, root_dir=dirs["root"], log_path=log_path)


def _wait_until_serving(server: LabServer) -> bool:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            server.api("api/status")
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    return False


def _stop_lab(server: LabServer) -> None:
    if server.process.poll() is None:
        try:
            server.delete_sessions()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass  # the process is stopped below all the same
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=SERVER_STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, artifacts_dir):
    """A fresh ``jupyter lab`` on 127.0.0.1, stopped (kernels included) even when a test fails."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing("JupyterLab is not installed (pip install -e '.[dev]')")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    server = None
    for _attempt in range(3):  # the free port may be taken between choosing and binding it
        server = _start_lab(tmp, free_port(), secrets.token_hex(24))
        if _wait_until_serving(server):
            break
        _stop_lab(server)
    else:
        pytest.fail(f"jupyter lab did not start; the end of its log:\n{server.log_tail()}", pytrace=False)
    try:
        # Guards against a renamed setting: an autosave would write the opened copy back.
        served = server.api("lab/api/settings/@jupyterlab/docmanager-extension:plugin")["settings"]
        assert served.get("autosave") is False, f"the test server did not take autosave off: {served}"
        yield server
    finally:
        _stop_lab(server)
        shutil.copy(server.log_path, artifacts_dir / "jupyter-lab.log")


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (which may not download a browser of its own)."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary user-data-dir.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, for the page fixture to see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(request, browser, lab_server, artifacts_dir):
    """A new browser page; on failure its screenshot is saved; its kernels are shut down after."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        try:
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:
                page.screenshot(path=artifacts_dir / f"{request.node.name}-failed.png")
        finally:
            context.close()
            lab_server.delete_sessions()
