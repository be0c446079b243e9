"""Redraw time of the widgets' contour plot: today's path against the new ContourView, side by side.

    python benchmarks/redraw_speed.py                          # every prior, 15 frames each
    python benchmarks/redraw_speed.py --priors flow --repeats 30 --out /tmp/redraw

The live widgets redraw the Fig. 4.13 plot (prior contours on a grid + the encoder's samples
of the test images) every few epochs, and every redraw stalls training. This trains each
prior briefly (fast recipe, seed 0, ``--epochs`` epochs) and keeps the weights of its last
two epochs. Frames alternate between the two, as in training, where the prior and the
encoder change between redraws; each frame has a new title.

Three paths draw every frame, in rotating order:

* old: the code of vaelib.widgets before this benchmark (copied below): prior_contours into
  a constrained-layout figure, then ``savefig`` to PNG, torch on ``--threads`` threads;
* old 1 thread: the same with torch on one thread (what the new path uses for its torch
  work), to tell the drawing's gains from the thread setting's;
* new: ``vaelib.widgets.ContourView.draw``.

"plot" is the time spent in plots.prior_contours (the torch work, the contours, the dots);
"total" is the whole redraw up to the PNG bytes the widget shows. Median over frames.
"same model" redraws one model repeatedly (the end of training, or a menu switching back).

The last frame of each path is written to ``--out`` (old-PRIOR.png, new-PRIOR.png) so a
person can compare them; the script prints the byte sizes, where each puts the plot's box
and how many pixels differ (the new view keeps the layout of its first frame, so its box may
sit a pixel or two away; its contour lines come from a coarser grid, see ContourView, and
their labels may sit elsewhere along them: ``--resolution 80`` draws on the old grid).
Timings from a shared machine are noisy: compare the ratios inside one run, and measure on
a quiet machine for figures to quote.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import torch  # noqa: E402
from _tables import markdown  # noqa: E402  (benchmarks/_tables.py, beside this script)
from matplotlib.figure import Figure  # noqa: E402

import vaelib  # noqa: E402
from vaelib import analysis, plots  # noqa: E402
from vaelib.threads import scoped_threads  # noqa: E402
from vaelib.widgets import CONTOUR_RESOLUTION, ContourView  # noqa: E402


# --- today's path, copied from vaelib/widgets.py before the change -----------------------
def old_figure_png(figure: Figure, dpi: int = 96) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class OldContourView:
    """ContourView as it was: a constrained-layout figure, drawn from scratch and saved."""

    def __init__(self, x, labels=None, size=(4.4, 4.2)):
        self.x, self.labels = x, labels
        self.figure = Figure(figsize=size, layout="constrained")
        self.ax = self.figure.add_subplot()
        self.png = b""

    def draw(self, model, title: str) -> None:
        def draw():
            with torch.no_grad():
                plots.prior_contours(model, self.x, self.labels, ax=self.ax, title=title, legend=False)

        analysis.with_fixed_seed(0, model.device, draw)
        self.png = old_figure_png(self.figure)


class OneThread(OldContourView):
    """Today's path with torch on one thread."""

    def draw(self, model, title: str) -> None:
        with scoped_threads(1):
            super().draw(model, title)


class NewContourView(ContourView):
    resolution_option = None  # --resolution

    def __init__(self, x, labels=None):
        super().__init__(x, labels, resolution=self.resolution_option)

    @property
    def png(self) -> bytes:
        return bytes(self.image.value)


# --- timing -------------------------------------------------------------------------------
class PlotTimer:
    """Times the calls of plots.prior_contours (every path calls it through the module)."""

    def __init__(self):
        self.seconds = 0.0
        self._original = plots.prior_contours

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self._original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        plots.prior_contours = timed
        return self

    def __exit__(self, *exc):
        plots.prior_contours = self._original


def trained_states(prior: str, data, epochs: int) -> list[dict]:
    """The weights of the last two validated epochs of a short training run."""
    model = vaelib.make_vae(prior, seed=0, device="cpu")
    states = []

    def keep(validated, history):
        states.append({k: v.detach().clone() for k, v in validated.state_dict().items()})
        del states[:-2]
        return False

    vaelib.fit(
        model, data, recipe="fast", seed=0, progress=False, max_epochs=epochs, patience=epochs + 1000, callback=keep
    )
    return states


def compare_pngs(old: bytes, new: bytes, reach: int = 6) -> str:
    """How many pixels differ, as drawn and after the best shift of the new picture by up to
    ``reach`` pixels (the layout may place the axes a few pixels away, as it does between
    two frames of the old path)."""
    a = np.asarray(PIL.Image.open(io.BytesIO(old)).convert("RGB")).astype(np.int16)
    b = np.asarray(PIL.Image.open(io.BytesIO(new)).convert("RGB")).astype(np.int16)
    if a.shape != b.shape:
        return f"sizes differ: {a.shape[1]}x{a.shape[0]} and {b.shape[1]}x{b.shape[0]}"
    height, width = a.shape[:2]

    def differ(dx: int, dy: int) -> float:
        part_a = a[max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx)]
        part_b = b[max(0, -dy) : height + min(0, -dy), max(0, -dx) : width + min(0, -dx)]
        return float(np.mean(np.abs(part_a - part_b).max(axis=2) > 64))

    shifts = [(dx, dy) for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)]
    best = min(shifts, key=lambda shift: differ(*shift))
    return (
        f"{width}x{height}; {differ(0, 0):.2%} of pixels differ by more than 64 of 255, "
        f"{differ(*best):.2%} after shifting the new one by {best} px"
    )


def axes_box(view) -> str:
    """Where the plot's box lies in the picture: left, bottom, width, height in pixels."""
    box = view.ax.get_position()
    width, height = view.figure.get_size_inches() * 96
    return f"{box.x0 * width:.1f}, {box.y0 * height:.1f}, {box.width * width:.1f}, {box.height * height:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--priors", nargs="+", default=list(vaelib.PRIORS), choices=list(vaelib.PRIORS))
    parser.add_argument("--repeats", type=int, default=15, help="frames per path and prior (default 15)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs before drawing (default 10)")
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help=f"torch threads of the old path (default: torch's, here {torch.get_num_threads()})",
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="latent grid of the new path (default: the widget's; the old path uses plots' "
        f"{plots.CONTOUR_RESOLUTION})",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default: a new temporary one)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="redraw_speed-"))
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    NewContourView.resolution_option = args.resolution

    print(
        f"# redraw_speed: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, old path on {args.threads} threads; {args.repeats} frames per path; "
        f"latent grid {plots.CONTOUR_RESOLUTION} (old), {args.resolution or CONTOUR_RESOLUTION} (new)\n"
    )
    data = vaelib.load_digits(device="cpu")
    paths = {"old": OldContourView, "old 1 thread": OneThread, "new": NewContourView}
    rows, pictures = [], []
    for prior in args.priors:
        states = trained_states(prior, data, args.epochs)
        model = vaelib.make_vae(prior, seed=0, device="cpu")
        views = {name: cls(data.test) for name, cls in paths.items()}
        for view in views.values():  # warm-up: fonts, first layout, first background
            for state in states:
                model.load_state_dict(state)
                view.draw(model, "warm-up")
        plot = {name: [] for name in views}
        total = {name: [] for name in views}
        same = {name: [] for name in views}
        names = list(views)
        for frame in range(args.repeats):
            model.load_state_dict(states[frame % 2])  # the model changed since the last frame
            for name in names[frame % len(names) :] + names[: frame % len(names)]:
                with PlotTimer() as timer:
                    start = time.perf_counter()
                    views[name].draw(model, f"{prior} prior: epoch {frame}")
                    total[name].append(time.perf_counter() - start)
                plot[name].append(timer.seconds)
        for frame in range(args.repeats):  # the same model again and again
            for name in names[frame % len(names) :] + names[: frame % len(names)]:
                start = time.perf_counter()
                views[name].draw(model, f"{prior} prior: test −ELBO 99.99")
                same[name].append(time.perf_counter() - start)

        ms = {
            name: {
                what: 1000 * statistics.median(values[name])
                for what, values in (("plot", plot), ("total", total), ("same", same))
            }
            for name in views
        }
        old, one, new = ms["old"], ms["old 1 thread"], ms["new"]
        rows.append(
            [
                prior,
                f"{old['plot']:.0f}",
                f"{old['total']:.0f}",
                f"{one['total']:.0f}",
                f"{new['plot']:.0f}",
                f"{new['total']:.0f}",
                f"{new['total'] / old['total']:.2f}",
                f"{new['total'] / one['total']:.2f}",
                f"{old['same']:.0f}",
                f"{new['same']:.0f}",
                f"{new['same'] / old['same']:.2f}",
            ]
        )
        print(
            f"  {prior:14s} old {old['total']:6.0f} ms, old 1 thread {one['total']:6.0f} ms, "
            f"new {new['total']:6.0f} ms ({new['total'] / old['total']:.2f} of old); "
            f"new layouts {views['new'].layouts}, backgrounds {views['new'].backgrounds}",
            flush=True,
        )
        for name, view in (("old", views["old"]), ("new", views["new"])):
            (out / f"{name}-{prior}.png").write_bytes(view.png)
        pictures.append(
            [
                prior,
                f"{len(views['old'].png) / 1024:.1f}",
                f"{len(views['new'].png) / 1024:.1f}",
                axes_box(views["old"]),
                axes_box(views["new"]),
                compare_pngs(views["old"].png, views["new"].png),
            ]
        )

    print(f"\n## Redraw during training (the model changes between frames), ms, median of {args.repeats}\n")
    print(
        markdown(
            [
                "prior",
                "old plot",
                "old total",
                "old 1 thread total",
                "new plot",
                "new total",
                "new / old",
                "new / old 1 thread",
                "same model: old",
                "same model: new",
                "new / old",
            ],
            rows,
        )
    )
    print("\nGoal: new / old at most 0.40 (1/2.5) for every prior.")
    print(f"\n## The pictures (last frame of each path, in {out})\n")
    print(markdown(["prior", "old PNG KiB", "new PNG KiB", "old axes box", "new axes box", "pixels"], pictures))


if __name__ == "__main__":
    main()
