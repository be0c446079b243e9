"""Draw the six Fig. 4.13 panels that the prior explorer app shows, into apps/panels/.

    python apps/render_panels.py              # every prior: the fast recipe, seed 0 (about 2 minutes on a 2-core CPU)
    python apps/render_panels.py --seed 1     # any option of `python -m vaelib figures`

The app must open in seconds, so it shows these pictures instead of training six models.
They are `python -m vaelib figures`' contour plots (`contours-PRIOR.png`): the command trains
every prior into a temporary folder, and only the six pictures are kept, under the names
`panel_path` gives.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from vaelib import PRIORS
from vaelib.cli import main as vaelib_main

PANELS = Path(__file__).resolve().parent / "panels"
#: Options of `vaelib figures` that this script sets itself: the app shows every prior, as PNG.
OWN_OPTIONS = ("--out", "--priors", "--formats")


def panel_path(prior: str, panels: Path = PANELS) -> Path:
    """Where the app finds the picture of ``prior``."""
    return panels / f"contours-{prior}.png"


def render_panels(figure_options: list[str], panels: Path = PANELS) -> int:
    """Run ``vaelib figures`` with ``figure_options`` and keep its six contour plots in ``panels``.

    Returns the command's exit status; on failure nothing in ``panels`` is changed."""
    for option in figure_options:
        if option.split("=")[0] in OWN_OPTIONS:
            print(
                f"render_panels: error: {option} is set by this script; allowed are the other options of "
                "`python -m vaelib figures` (see its --help)",
                file=sys.stderr,
            )
            return 2
    with tempfile.TemporaryDirectory() as out:
        status = vaelib_main(["figures", "--out", out, "--formats", "png", *figure_options])
        if status != 0:
            return status
        panels.mkdir(parents=True, exist_ok=True)
        for prior in PRIORS:
            shutil.copyfile(Path(out) / f"contours-{prior}.png", panel_path(prior, panels))
            print(f"wrote {panel_path(prior, panels)}")
    return 0


if __name__ == "__main__":
    sys.exit(render_panels(sys.argv[1:]))
