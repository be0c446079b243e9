# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: jupyter,tags,-all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The prior explorer: six priors for a VAE
#
# Choose a prior, press **Train** and watch its contours move over the codes of the test digits;
# the second tab shows all six priors trained.

# %%
# An app for a classroom: `voila apps/prior_explorer.ipynb` shows the outputs of this
# notebook and none of its code. The panel is the playground of notebook 8, drawn larger.
from pathlib import Path

import ipywidgets as widgets
from IPython.display import display

import vaelib

#: Projector sizes: the pictures are drawn this many times larger, the page's text at FONT_PX.
SCALE = 1.5
FONT_PX = 20
#: The six Fig. 4.13 pictures, written by `python apps/render_panels.py` (beside this notebook).
PANELS = Path("panels")

# CSS variables of ipywidgets and JupyterLab, set on the app's widgets only (and, in Voilà, on
# the page's text): opened in JupyterLab, the rest of JupyterLab keeps its sizes.
PROJECTOR_CSS = f"""<style>
.vaelib-app {{
  --jp-widgets-font-size: {FONT_PX}px;
  --jp-widgets-inline-height: {round(1.7 * FONT_PX)}px;
  --jp-ui-font-size1: {FONT_PX}px;
  --jp-content-font-size1: {FONT_PX}px;
  --jp-widgets-inline-width: {22 * FONT_PX}px;
  --jp-widgets-slider-handle-size: {round(0.8 * FONT_PX)}px;
  --jp-widgets-horizontal-tab-width: {14 * FONT_PX}px;
  --jp-widgets-horizontal-tab-height: {round(1.7 * FONT_PX)}px;
  font-size: {FONT_PX}px;
}}
.vaelib-app .vaelib-results table {{ font-size: {FONT_PX - 2}px; }}
body[data-voila] .jp-RenderedMarkdown {{ font-size: {FONT_PX + 2}px; }}
</style>"""

# %%
data = vaelib.load_digits()
playground = vaelib.Playground(data, scale=SCALE)


def panel(prior: str) -> widgets.Widget:
    """The picture of ``prior`` trained, under its name; a notice where the file is missing."""
    path = PANELS / f"contours-{prior}.png"
    if path.exists():
        picture = widgets.Image(value=path.read_bytes(), format="png", layout=widgets.Layout(width="100%"))
    else:
        picture = widgets.HTML(f"missing: {path.resolve()}<br>draw it with <code>python apps/render_panels.py</code>")
    name = widgets.HTML(f"<b>{prior}</b>")
    name.add_class("vaelib-panel-name")
    return widgets.VBox([name, picture])


# %%
# Only the last line shows anything (add_class returns its widget: never last in a cell).
panels = widgets.VBox(
    [
        widgets.HTML(
            "Each prior trained once (the fast recipe, seed 0) by <code>python apps/render_panels.py</code>, "
            "which runs <code>python -m vaelib figures</code>; each title gives the test −ELBO."
        ),
        widgets.GridBox(
            [panel(prior) for prior in vaelib.PRIORS],
            layout=widgets.Layout(grid_template_columns="repeat(2, 1fr)", grid_gap="12px"),
        ),
    ]
)
panels.add_class("vaelib-panels")
tabs = widgets.Tab([playground, panels], titles=["Train a prior", "The six priors (Fig. 4.13)"])
app = widgets.VBox([widgets.HTML(PROJECTOR_CSS), tabs])
app.add_class("vaelib-app")
display(app)
