"""The static site's parts, without a browser (issue 15): links rewritten to pages, the index
from the README's table, widgets replaced by pictures, and a page that needs no network.
tests/browser/test_site_in_chromium.py builds the whole site and reads it in Chromium."""

from __future__ import annotations

import base64
import html
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_tools", ROOT / "tools" / "notebooks.py")
notebook_tools = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_tools)

NOTEBOOKS = {ipynb.stem: ipynb for _, ipynb in notebook_tools.pairs()}
STEMS = set(NOTEBOOKS)
README = notebook_tools.README.read_text()


def read(stem: str):
    return nbformat.read(NOTEBOOKS[stem], as_version=4)


def widget_outputs(notebook) -> list[dict]:
    return [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if notebook_tools.WIDGET_MIME in output.get("data", {})
    ]


@pytest.mark.parametrize(
    ("target", "base", "expected"),
    [
        ("02_standard_prior.ipynb", "notebooks", "02_standard_prior.html"),  # as the notebooks link each other
        (
            "03_mixture_prior.ipynb#4.-What-makes-it-spread",
            "notebooks",
            "03_mixture_prior.html#4.-What-makes-it-spread",
        ),
        ("./04_vampprior.ipynb", "notebooks", "04_vampprior.html"),
        ("notebooks/05_gtm_priors.ipynb", "", "05_gtm_priors.html"),  # as the README links them
        ("notebooks/thumbnails/06_flow_prior.png", "", "thumbnails/06_flow_prior.png"),
        ("thumbnails/06_flow_prior.png", "notebooks", "thumbnails/06_flow_prior.png"),
        # Not a page of the site: left as it is.
        ("10_not_a_notebook_yet.ipynb", "notebooks", "10_not_a_notebook_yet.ipynb"),
        ("https://example.org/01_introduction.ipynb", "notebooks", "https://example.org/01_introduction.ipynb"),
        ("#5.-The-bound", "notebooks", "#5.-The-bound"),
        ("data:image/png;base64,iVBORw0KGgo=", "notebooks", "data:image/png;base64,iVBORw0KGgo="),
        ("mailto:someone@example.org", "", "mailto:someone@example.org"),
    ],
)
def test_links_to_notebooks_and_thumbnails_point_into_the_site(target, base, expected):
    assert notebook_tools.site_link(target, base, STEMS) == expected


def test_only_link_attributes_are_rewritten():
    page = (
        '<a href="02_standard_prior.ipynb">notebook 2</a> <img src="thumbnails/02_standard_prior.png">'
        "<code>open 02_standard_prior.ipynb</code> <a href='#top'>top</a>"
    )
    assert notebook_tools.site_links(page, "notebooks", STEMS) == page.replace(
        'href="02_standard_prior.ipynb"', 'href="02_standard_prior.html"'
    )


def test_readme_rows_split_at_unescaped_pipes_only():
    """The ELBO surgery summary writes `q(z\\|x)`: still four cells, the pipes in the summary."""
    for stem, (_, cells) in notebook_tools.readme_rows(README).items():
        assert len(cells) == 4, f"{stem}: {cells}"
    entry = notebook_tools.index_entries(README)["07_elbo_surgery"]
    assert "E KL(q(z|x) || p(z)) = I(x;z) + KL(q(z) || p(z))" in entry["summary"]


def test_index_shows_every_notebook_with_its_readme_title_summary_thumbnail_and_run_time():
    entries = notebook_tools.index_entries(README)
    assert set(entries) == STEMS, "a notebook without a row in the README's table, or a row without a notebook"
    page = notebook_tools.index_page(README, entries)
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for stem, entry in entries.items():
        assert f'href="{stem}.html"' in page
        assert f'src="thumbnails/{stem}.png"' in page and (notebook_tools.THUMBNAILS / f"{stem}.png").exists()
        assert entry["title"] in text
        # The summary's words, as the README writes them less its Markdown and escapes.
        words = re.sub(r"[*_`]", "", entry["summary"])
        assert words in text, f"{stem}: the README's summary is not on the index page"
        assert f"Run time: {entry['run_time']}" in text
    assert "priors for Variational Auto-Encoders" in text, "the README's first paragraph is not on the index"
    assert ".ipynb" not in page


def test_every_widget_becomes_a_picture_with_a_caption_or_a_line_for_its_progress_bars():
    for stem in NOTEBOOKS:
        notebook = read(stem)
        static = notebook_tools.static_widgets(notebook, stem)
        assert not widget_outputs(static), f"{stem}: a widget is left"
        assert len(static.cells) == len(notebook.cells)
        for before, after in zip(notebook.cells, static.cells):
            old = [o for o in before.get("outputs", []) if notebook_tools.WIDGET_MIME in o.get("data", {})]
            bars = [o for o in old if notebook_tools.PROGRESS_BAR.search(o["data"]["text/plain"])]
            shown = [o.get("data", {}).get("text/html", "") for o in after.get("outputs", [])]
            pictures = [h for h in shown if 'class="widget-picture"' in h]
            notes = [h for h in shown if 'class="widget-note"' in h]
            assert len(pictures) == len(old) - len(bars), f"{stem}: not one picture per widget"
            assert len(notes) == (1 if bars else 0), f"{stem}: not one line for a cell's progress bars"
            if bars:
                assert notebook_tools.trainings_text(len(bars)).capitalize() in notes[0]
            for picture in pictures:
                assert "runs in JupyterLab" in picture
                source = re.search(r'<img src="([^"]+)"', picture).group(1)
                if not source.startswith("data:image/png;base64,"):
                    copied = {f"thumbnails/{p.name}" for p in notebook_tools.THUMBNAILS.glob("*.png")} | {
                        f"images/{p.name}" for p in notebook_tools.WIDGET_SCREENSHOTS.values() if p.exists()
                    }
                    assert source in copied, f"{stem}: the picture {source} is not in the site"


def test_the_playground_is_its_screenshot_and_the_explorer_its_view_drawn_below():
    playground = notebook_tools.static_widgets(read("08_playground"), "08_playground")
    assert 'src="images/playground-in-jupyterlab.png"' in str(playground)
    assert notebook_tools.WIDGET_SCREENSHOTS["Playground"].exists()

    intro = read("01_introduction")
    static = notebook_tools.static_widgets(intro, "01_introduction")
    index = next(i for i, c in enumerate(intro.cells) if "LatentExplorer(" in c.source)
    drawn = next(o for c in intro.cells[index + 1 :] for o in c.get("outputs", []) if "image/png" in o["data"])
    picture = static.cells[index].outputs[0]["data"]["text/html"]
    assert f'src="data:image/png;base64,{drawn["data"]["image/png"].strip()}"' in picture
    assert base64.b64decode(drawn["data"]["image/png"])[:4] == b"\x89PNG"
    training = next(i for i, c in enumerate(intro.cells) if "live_fit(" in c.source)
    assert 'src="thumbnails/01_introduction.png"' in static.cells[training].outputs[0]["data"]["text/html"]


def test_a_page_keeps_its_solutions_closed_and_loads_nothing_from_the_web():
    stem = "08_playground"
    titles = {s: e["title"] for s, e in notebook_tools.index_entries(README).items()}
    titles = {s: titles[s] for s in sorted(titles)}
    page = notebook_tools.notebook_page(read(stem), stem, titles, "vae-priors")
    solutions = sum("solution" in c.metadata.get("tags", []) for c in read(stem).cells)
    assert solutions and page.count("<details>") == solutions, "a solution is not a closed <details>"
    assert not re.search(r"<details[^>]*\bopen", page)
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]*)"', page)
    assert scripts == [notebook_tools.MATHJAX_URL], f"a page loads {scripts}, not only the site's MathJax"
    assert not re.search(r'<link[^>]*href="(https?:)?//', page), "a stylesheet from the web"
    assert 'href="07_elbo_surgery.html"' in page and 'href="index.html"' in page
    assert not re.search(r'href="[^"]*\.ipynb', page)
    assert notebook_tools.WIDGET_MIME not in page


def test_mathjax_ships_with_the_site():
    """The MathJax the pages load, its configuration and the fonts they are told to use are installed."""
    folder = notebook_tools.mathjax_folder()
    assert folder is not None, "jupyter-server-mathjax is not installed (it is in the lab extra)"
    script, config = notebook_tools.MATHJAX_URL.removeprefix("mathjax/").split("?config=")
    assert (folder / script).is_file()
    for name in config.split(","):
        assert (folder / "config" / f"{name}.js").is_file()
    assert list((folder / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").glob("*.woff")), "no STIX-Web fonts"


def test_site_refuses_to_write_into_the_repository():
    assert notebook_tools.write_site(notebook_tools.ROOT)
    assert notebook_tools.write_site(notebook_tools.NOTEBOOKS)
    assert not (notebook_tools.ROOT / "index.html").exists()
