"""The static site reads well in a real browser, offline (issue 15).

`python tools/notebooks.py site --out DIR` turns the committed notebooks into web pages. These
tests build it into a temporary folder, serve it on 127.0.0.1 (as any static host would) and open
every page in headless Chromium, any request that would leave the site refused: each page must
load with every image drawn, no console error and no failed request, typeset its equations with
the MathJax copied into the site, show no live widget (a picture stands in for each), keep every
solution closed, and link only to pages that exist. On one notebook page a real click on a
solution's summary must show its text. A page is opened from the disk (file://) too.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)

NOTEBOOKS = {ipynb.stem: ipynb for _, ipynb in notebook_tools.pairs()}
PAGES = ["index", *NOTEBOOKS]
#: The notebook page whose solution the test opens with a click, and that solution's summary.
SOLUTION_PAGE, SUMMARY = "03_mixture_prior", "Solution to exercise 1"
#: MathJax typesets a long page in a few seconds; past this it is stuck.
TYPESET_TIMEOUT_MS = 20_000

pytestmark = pytest.mark.browser

# Marks the page once MathJax has typeset it (its queue runs in order: the typesetting that
# the page's configuration queued comes first); false when the page has no MathJax.
TYPESET_JS = """() => {
    if (!window.MathJax || !window.MathJax.Hub) return false;
    MathJax.Hub.Queue(() => { window.siteTypeset = true; });
    return true;
}"""

# What the page shows that it should not: images not drawn, TeX that MathJax could not typeset,
# live widgets, solutions open before a click.
PAGE_STATE_JS = """() => ({
    images: document.images.length,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
        .map(i => i.getAttribute('src').slice(0, 80)),
    typeset: window.MathJax && MathJax.Hub.getAllJax ? MathJax.Hub.getAllJax().length : 0,
    // TeX MathJax could not read: an merror (noErrors keeps the source in one) or an undefined
    // macro (noUndefined draws it as red text).
    texErrors: window.MathJax && MathJax.Hub.getAllJax ? MathJax.Hub.getAllJax().filter(jax => {
        const bad = n => !!n && (n.type === 'merror' || (n.type === 'mtext' && n.mathcolor === 'red')
            || (n.data || []).some(bad));
        return bad(jax.root);
    }).map(jax => jax.originalText.slice(0, 80)) : [],
    // A dollar left in the prose (code aside) is maths that was never typeset.
    untypeset: [...document.querySelectorAll('.jp-RenderedMarkdown')].map(m => {
        const copy = m.cloneNode(true);
        copy.querySelectorAll('code, pre, script').forEach(c => c.remove());
        return copy.textContent;
    }).filter(text => text.includes('$')).map(text => text.slice(text.indexOf('$'), text.indexOf('$') + 60)),
    liveWidgets: document.querySelectorAll(
        '.jupyter-widgets, script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgetPictures: [...document.querySelectorAll('figure.widget-picture')].map(f => ({
        drawn: f.querySelector('img').naturalWidth > 0, caption: f.querySelector('figcaption').textContent})),
    openSolutions: [...document.querySelectorAll('details')].filter(d => d.open).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
})"""


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's folder without logging every request to the test's output."""

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    problems = notebook_tools.write_site(out)
    assert not problems, "\n".join(problems)
    return out


@pytest.fixture(scope="module")
def site_url(site):
    """The site served over HTTP on 127.0.0.1 (port 0: the system picks a free one)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def open_page(browser, artifacts_dir, request):
    """Opens a page of the site in a fresh context -> (page, problems): every console error,
    uncaught exception, failed request, error response and request off the site, as it happens."""
    contexts = []

    def open_(url: str, site_prefix: str, without_mathjax: bool = False):
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(TYPESET_TIMEOUT_MS)
        contexts.append(context)
        problems = []

        def refuse_off_site(route):
            problems.append(f"a request left the site: {route.request.url[:120]}")
            route.abort()

        # Anything not under the site is refused, so that a page that works here works offline.
        context.route(lambda url: not url.startswith(site_prefix) and not url.startswith("data:"), refuse_off_site)
        if without_mathjax:  # a test that needs no equations need not wait for them to typeset
            context.route(lambda url: "/mathjax/" in url, lambda route: route.abort())
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text[:200]}"))
        page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url[:120]}"))
        page.goto(url, wait_until="load")
        return page, problems

    yield open_
    for context in contexts:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed and context.pages:
            context.pages[0].screenshot(path=artifacts_dir / f"{request.node.name}-failed.png")
        context.close()


def typeset(page) -> bool:
    """Waits until MathJax has typeset the page (at most TYPESET_TIMEOUT_MS); False: no MathJax."""
    if not page.evaluate(TYPESET_JS):
        return False
    page.wait_for_function("() => window.siteTypeset === true", timeout=TYPESET_TIMEOUT_MS)
    return True


def expected_widget_pictures(stem: str) -> int:
    """How many widgets of the notebook are not progress bars: each gets a picture."""
    notebook = nbformat.read(NOTEBOOKS[stem], as_version=4)
    return sum(
        notebook_tools.WIDGET_MIME in output.get("data", {})
        and not notebook_tools.PROGRESS_BAR.search(output["data"].get("text/plain", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


def has_maths(stem: str) -> bool:
    notebook = nbformat.read(NOTEBOOKS[stem], as_version=4)
    return any("$" in cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def link_problems(site: Path, page_name: str, state: dict) -> list[str]:
    """Every link of the page (read from its DOM) that leads nowhere: to a file the site does
    not have, to an anchor its target page does not have, or still to a notebook file."""
    problems = []
    base = f"http://site/{page_name}"
    for href in state["links"]:
        target = urllib.parse.urlsplit(urllib.parse.urljoin(base, href))
        if target.netloc != "site":
            continue  # a web address, not a link between pages
        path = target.path.lstrip("/")
        if path.endswith(".ipynb"):
            problems.append(f"{href!r} still links a notebook file, not its page")
        elif not (site / path).is_file():
            problems.append(f"{href!r} leads to {path}, which the site does not have")
        elif target.fragment:
            ids = state["ids"] if path == page_name else re.findall(r'\bid="([^"]*)"', (site / path).read_text())
            # nbconvert writes heading ids percent-encoded; a browser tries the fragment as written, then decoded.
            if target.fragment not in ids and urllib.parse.unquote(target.fragment) not in ids:
                problems.append(f"{href!r}: {path} has no anchor {target.fragment!r}")
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_with_every_image_no_error_and_working_links(name, site, site_url, open_page, artifacts_dir):
    page, problems = open_page(f"{site_url}{name}.html", site_url)
    has_mathjax = typeset(page)
    state = page.evaluate(PAGE_STATE_JS)
    problems += [f"image not drawn: {src}" for src in state["brokenImages"]]
    problems += [f"TeX MathJax could not read: {tex}" for tex in state["texErrors"]]
    problems += [f"maths not typeset: {text}" for text in state["untypeset"]]
    problems += link_problems(site, f"{name}.html", state)
    assert not problems, f"{name}.html:\n" + "\n".join(problems)
    assert state["images"] > 0
    assert state["openSolutions"] == 0, "a solution is open before its summary is clicked"
    if name == "index":
        assert {f"{stem}.html" for stem in NOTEBOOKS} <= set(state["links"]), "the index misses a notebook's page"
        page.screenshot(path=artifacts_dir / "site-index.png")
        return
    assert "index.html" in state["links"], "no way back to the index"
    assert has_mathjax, "MathJax did not load from the site"
    if has_maths(name):
        assert state["typeset"] > 0, "the page has equations but MathJax typeset none"
    assert state["liveWidgets"] == 0, "a widget is left in the page, where it cannot run"
    pictures = state["widgetPictures"]
    assert len(pictures) == expected_widget_pictures(name), "not every widget has its picture"
    for picture in pictures:
        assert picture["drawn"] and "runs in JupyterLab" in picture["caption"], picture
    if name == "01_introduction":
        page.screenshot(path=artifacts_dir / "site-01_introduction.png")


def test_a_solution_stays_closed_until_its_summary_is_clicked(site_url, open_page):
    """A real click on the summary shows the text (the page's errors are the test above's business)."""
    page, _ = open_page(f"{site_url}{SOLUTION_PAGE}.html", site_url, without_mathjax=True)
    solution = page.locator("details", has=page.locator("summary", has_text=SUMMARY))
    assert solution.count() == 1, f"no solution with the summary {SUMMARY!r}"
    answer = solution.locator("p").first
    assert len(answer.text_content().strip()) > 20, "the solution has no text to hide"
    summary = solution.locator("summary")
    summary.scroll_into_view_if_needed()
    assert summary.is_visible()
    assert not answer.is_visible(), "the solution's text shows before its summary is clicked"
    summary.click()
    answer.wait_for(state="visible", timeout=5_000)
    assert solution.evaluate("d => d.open")


@pytest.mark.parametrize("name", ["index", "08_playground"])
def test_page_works_from_the_disk(name, site, open_page):
    """Opened as a file (no server): the same images, equations and no error."""
    page, problems = open_page((site / f"{name}.html").as_uri(), site.as_uri())
    has_mathjax = typeset(page)
    state = page.evaluate(PAGE_STATE_JS)
    assert not problems + state["brokenImages"] + state["texErrors"], problems + state["brokenImages"]
    assert name == "index" or (has_mathjax and state["typeset"] > 0), "MathJax did not typeset from the disk"
