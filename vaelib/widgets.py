"""Widgets: training you can watch, and the prior playground.

Plots are drawn with matplotlib's object-oriented API into a PNG and swapped into an
``ipywidgets.Image``: the picture changes in place (no flicker) and shows every frame in
JupyterLab, even while the kernel is busy running the cell.
"""

from __future__ import annotations

import html
import io
import re
import struct
import threading
import time
import zlib

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from . import analysis, plots
from ._checks import check_positive_float
from .data import Digits, image_shape
from .evaluate import negative_elbo
from .model import make_vae
from .priors import PRIORS
from .seeding import fixed_seed
from .threads import AUTO, CPUMeter, choose_threads, get_num_threads, scoped_threads
from .train import StopReason, TrainingDiverged, fit, get_recipe

#: Resolution of the widgets' pictures: one image pixel per CSS pixel at the widths they are shown.
PNG_DPI = 96
#: zlib level of the widgets' PNGs: 1 is several times faster than higher levels, and the
#: flat colours of a plot compress about as well (benchmarks/redraw_speed.py).
PNG_COMPRESS_LEVEL = 1


def png_bytes(rgba: np.ndarray, level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """An RGBA image (H, W, 4) of uint8 as PNG bytes; RGB when it is opaque.

    Rows go unfiltered into zlib at a fast level: a plot is mostly runs of one colour, which
    zlib packs as well as the filtered rows a general encoder writes, at a third of its time.
    """
    height, width = rgba.shape[:2]
    opaque = bool(rgba[..., 3].min() == 255)
    pixels = rgba[..., :3] if opaque else rgba
    rows = np.empty((height, 1 + width * pixels.shape[2]), np.uint8)
    rows[:, 0] = 0  # filter type 0: the row as it is
    rows[:, 1:] = pixels.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, level)),
            _png_chunk(b"IEND", b""),
        ]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """What ``canvas`` rendered last, as PNG bytes."""
    return png_bytes(np.asarray(canvas.buffer_rgba()))


def figure_png(figure: Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes, rendered at ``dpi`` as savefig renders it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="rgba", dpi=dpi)
    width, height = int(figure.get_figwidth() * dpi), int(figure.get_figheight() * dpi)
    return png_bytes(np.frombuffer(buffer.getbuffer(), np.uint8).reshape(height, width, 4))


#: Latent grid resolution of the widgets' contour plots: a grid square per ~6 pixels of the plot.
CONTOUR_RESOLUTION = 56


class ContourView:
    """A Fig. 4.13 plot (prior contours + encoder samples) redrawn into one Image widget.

    A redraw takes a fraction of the time of drawing the figure from scratch and saving it
    (benchmarks/redraw_speed.py measures both), because:

    * two Axes share one place: :func:`plots.prior_contours` draws into ``ax`` (lines, their
      labels, dots, title), whose background and axes are hidden, and ``frame``, below it,
      shows the ticks and axis labels. Clearing ``ax`` removes only what was drawn (a full
      clear rebuilds every tick), and the rendered ``frame`` is kept as a background image
      until the limits change (a menu switching back, the end of training);
    * the layout (constrained) is computed for the first frame and again only when the
      decorations it makes room for change size (the tick labels' digits and signs, the axis
      labels, the title's lines), so the plot also stays in place from frame to frame;
    * the prior's density is evaluated on a grid of :data:`CONTOUR_RESOLUTION` squared points,
      one per ~6 pixels of the plot: the contour lines look as they do on plots' finer grid
      at half the cost (the flow prior's network is the slowest part of its redraw), though
      their labels may sit elsewhere along them;
    * the figure is rendered once, by Agg at :data:`PNG_DPI`, and encoded fast (png_bytes);
    * the torch work follows vaelib's thread policy: on a busy machine a second thread would
      wait for a core at every operation.

    size: inches; resolution: the latent grid's points per side (default CONTOUR_RESOLUTION);
    scale: the picture is drawn at ``scale`` times PNG_DPI and shown that many times larger,
    text and lines included (1.5 for a projector: sharp, not a stretched picture).
    """

    def __init__(self, x, labels=None, size=(4.4, 4.2), resolution: int | None = None, scale: float = 1.0):
        self.x, self.labels = x, labels
        self.resolution = CONTOUR_RESOLUTION if resolution is None else resolution
        self.figure = Figure(figsize=size, dpi=PNG_DPI * check_positive_float("scale", scale))
        self.canvas = FigureCanvasAgg(self.figure)
        self.frame = self.figure.add_subplot()  # below: background, ticks, axis labels
        self.ax = self.figure.add_subplot(axes_class=_RedrawAxes)  # above: what prior_contours draws
        width = int(self.figure.bbox.width)  # as Agg renders it: one image pixel per CSS pixel
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        self.frames = 0
        self.layouts = 0  # how many frames ran the constrained layout
        self.backgrounds = 0  # how many frames rendered the ticks and labels anew
        self._layout = ConstrainedLayoutEngine()
        self._layout_key = None
        self._background = None  # (key, the rendered frame)
        self._meter = CPUMeter()  # the load since the last look, for the thread count
        self._threads = 1

    def draw(self, model, title: str) -> None:
        """Redraw for ``model`` (its current prior and encoder) under ``title``.

        The encoder's samples use their own random numbers (the same in every frame, so the
        dots move only as the encoder moves): redrawing during training never changes the
        training run, and ``live_fit(model, data, seed=0)`` trains what ``fit`` would.
        """

        def draw():
            with torch.no_grad():
                plots.prior_contours(
                    model, self.x, self.labels, ax=self.ax, title=title, legend=False, resolution=self.resolution
                )

        with scoped_threads(self._torch_threads()):
            analysis.with_fixed_seed(0, model.device, draw)
        self.render()
        self.image.value = canvas_png(self.canvas)
        self.frames += 1

    def _torch_threads(self) -> int | None:
        """Threads for a redraw's torch work: vaelib's policy (vaelib.threads), judged by the
        load since its last look (a redraw never waits to measure it), and no more than the
        caller uses (a training run's own choice, or one thread in the playground's)."""
        policy = get_num_threads()
        if policy != AUTO:
            return policy
        if self._meter.window >= 0.1:  # /proc/stat counts in 10 ms ticks: a shorter look is noise
            self._threads = choose_threads(AUTO, meter=self._meter)
        return min(self._threads, torch.get_num_threads())

    def render(self) -> None:
        """Render what ``ax`` holds onto the canvas, over the frame's ticks and labels."""
        ax, frame = self.ax, self.frame
        # prior_contours cleared ax: hide its background and axes again; the frame shows them.
        ax.patch.set_visible(False)
        ax.xaxis.set_visible(False)
        ax.yaxis.set_visible(False)
        frame.set_xlim(ax.get_xlim())
        frame.set_ylim(ax.get_ylim())
        frame.set_aspect(ax.get_aspect())
        for ours, theirs in ((frame.xaxis, ax.xaxis), (frame.yaxis, ax.yaxis)):
            if ours.label.get_text() != theirs.label.get_text():
                ours.set_label_text(theirs.label.get_text())
        for spine in frame.spines.values():  # drawn by ax, above the dots as in a single Axes
            spine.set_visible(False)

        title_lines = ax.get_title().count("\n") + 1 if ax.get_title() else 0
        layout_key = (
            _tick_label_shapes(frame.xaxis),
            _tick_label_shapes(frame.yaxis),
            frame.get_xlabel(),
            frame.get_ylabel(),
            title_lines,
        )
        if layout_key != self._layout_key:
            for _ in range(2):  # the second pass sees the box as the aspect shrinks it, as later frames would
                self._layout.execute(self.figure)
                frame.apply_aspect()
                ax.apply_aspect()
            self._layout_key = layout_key
            self.layouts += 1

        background_key = (
            frame.get_xlim(),
            frame.get_ylim(),
            frame.get_xlabel(),
            frame.get_ylabel(),
            tuple(frame.get_position(original=True).bounds),
            tuple(ax.get_position(original=True).bounds),
        )
        if self._background is None or self._background[0] != background_key:
            ax.set_visible(False)
            self.canvas.draw()
            ax.set_visible(True)
            self._background = (background_key, self.canvas.copy_from_bbox(self.figure.bbox))
            self.backgrounds += 1
        else:
            self.canvas.restore_region(self._background[1])
        ax.draw(self.canvas.get_renderer())


class _RedrawAxes(Axes):
    """Axes whose ``clear()`` removes what was drawn into them and keeps their own parts.

    A full clear rebuilds the ticks, spines, title and background of an Axes, a third of the
    time of a redraw. plots.prior_contours clears the Axes it draws into and sets everything
    it shows (limits, aspect, axis labels, title), so removing its artists is enough.
    """

    _ready = False

    def clear(self) -> None:
        if not self._ready:  # the first clear, while the Axes are being built
            super().clear()
            self._ready = True
            return
        if self.legend_ is not None:
            self.legend_.remove()
        for artist in [
            *self.collections,
            *self.lines,
            *self.patches,
            *self.texts,
            *self.images,
            *self.artists,
            *self.tables,
        ]:
            if artist.axes is self:  # not removed with its owner already (a contour set's labels)
                artist.remove()
        self.containers = []
        # As a full clear leaves them: where the next plot's labels are placed depends on it.
        self.ignore_existing_data_limits = True
        self.set_xmargin(matplotlib.rcParams["axes.xmargin"])
        self.set_ymargin(matplotlib.rcParams["axes.ymargin"])
        self.set_xlim(0, 1, auto=True)
        self.set_ylim(0, 1, auto=True)
        self.set_title("")


def _tick_label_shapes(axis) -> tuple:
    """What the layout makes room for on ``axis``: its tick labels with every digit written
    as 0 (the digits of matplotlib's fonts are one width), as a set and the two outer ones."""
    low, high = sorted(axis.get_view_interval())
    locations = [v for v in axis.get_majorticklocs() if low <= v <= high]
    shapes = [re.sub(r"\d", "0", text) for text in axis.get_major_formatter().format_ticks(locations)] or [""]
    return tuple(sorted(set(shapes))), shapes[0], shapes[-1]


class LiveTraining(widgets.VBox):
    """A progress bar and the prior's contours over the encoder's samples, redrawn every
    ``every`` epochs while :func:`fit` runs. Use it as fit's callback (see live_fit)."""

    def __init__(self, model, data, every: int = 5):
        self.every = every
        self.prior_name = model.prior_name
        self.view = ContourView(data.test)
        self.progress = widgets.IntProgress(min=0, max=get_recipe().max_epochs, description="epoch")
        self.status = widgets.HTML("")
        super().__init__([widgets.HBox([self.progress, self.status]), self.view.image])
        self.view.draw(model, f"{self.prior_name} prior: before training")

    def __call__(self, model, history) -> bool:
        self.progress.max = history.recipe["max_epochs"]
        self.progress.value = history.epochs
        self.status.value = (
            f"val −ELBO {history.val_loss[-1]:.2f} (best {history.best_val_loss:.2f} at epoch {history.best_epoch})"
        )
        if history.epochs % self.every == 0:
            self.view.draw(model, f"{self.prior_name} prior: epoch {history.epochs}")
        return False

    def finish(self, model, history) -> None:
        """Show the kept model and how training ended."""
        self.progress.max = max(history.epochs, 1)
        self.progress.value = history.epochs
        self.progress.bar_style = "success"
        self.status.value = (
            f"{history.stopped} after {history.epochs} epochs ({history.seconds:.1f} s): "
            f"best val −ELBO {history.best_val_loss:.2f} at epoch {history.best_epoch}"
        )
        self.view.draw(model, f"{self.prior_name} prior: kept model (epoch {history.best_epoch})")

    def __repr__(self) -> str:
        return f"LiveTraining({self.prior_name!r}): progress and prior contours, redrawn while the cell runs"


def live_fit(model, data, *, every: int = 5, callback=None, **fit_options):
    """:func:`fit` with a live view: progress, and the contour plot redrawn every ``every`` epochs.

    callback(model, history): your own, called after the view at every validation (a truthy
    return stops training, as in fit). Returns the History, as fit does.
    """
    from IPython.display import display

    view = LiveTraining(model, data, every)
    display(view)

    def both(model, history):
        stop = view(model, history)
        return bool(callback(model, history)) if callback is not None else stop

    history = fit(model, data, progress=False, callback=both, **fit_options)
    view.finish(model, history)
    return history


class LatentExplorer(widgets.HBox):
    """Pick a latent point with two sliders (or jump to a digit's codes) and see where it lies
    among the prior's contours, what the decoder makes of it and which test code is nearest."""

    def __init__(self, model, x, labels, reach: float = 4.5):
        analysis.require_2d(model, "LatentExplorer")
        self.model, self.labels = model, labels.cpu()
        with torch.no_grad():
            self.codes = model.encode(x, sample=False).cpu()  # posterior means of the images
        self.figure = Figure(figsize=(7.4, 3.7), dpi=PNG_DPI, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax_latent, self.ax_image = self.figure.subplots(1, 2, width_ratios=(1.25, 1))
        analysis.with_fixed_seed(
            0,
            model.device,
            lambda: plots.prior_contours(
                model, x, labels, ax=self.ax_latent, title="prior contours, test codes by digit"
            ),
        )
        self.ax_latent.set_xlim(-reach, reach)
        self.ax_latent.set_ylim(-reach, reach)
        (self.marker,) = self.ax_latent.plot([0], [0], "+", color="red", markersize=16, markeredgewidth=2.5)
        top = model.num_values - 1
        self.image_shape = image_shape(model.input_dim, "LatentExplorer")
        self.picture = self.ax_image.imshow(np.zeros(self.image_shape), cmap=plots.IMAGE_CMAP, vmin=0, vmax=top)
        self.ax_image.set_xticks([])
        self.ax_image.set_yticks([])
        slider = dict(min=-reach, max=reach, step=0.05, readout_format=".2f", continuous_update=True)
        self.z1 = widgets.FloatSlider(value=0.0, description="z₁", **slider)
        self.z2 = widgets.FloatSlider(value=0.0, description="z₂", **slider)
        self.digit = widgets.Dropdown(
            options=[("—", None)] + [(str(d), d) for d in range(10)], description="jump to digit"
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(7.4 * 96)}px"))
        self.z1.observe(self.redraw, names="value")
        self.z2.observe(self.redraw, names="value")
        self.digit.observe(self._jump, names="value")
        super().__init__([widgets.VBox([self.z1, self.z2, self.digit]), self.image])
        self.redraw()

    def show(self, z1: float, z2: float) -> None:
        """Move the cross to (z1, z2) and redraw once."""
        for slider, value in ((self.z1, z1), (self.z2, z2)):
            slider.unobserve(self.redraw, names="value")
            slider.value = value
            slider.observe(self.redraw, names="value")
        self.redraw()

    def _jump(self, change) -> None:
        if change["new"] is not None:
            middle = self.codes[self.labels == change["new"]].median(0).values
            self.show(round(float(middle[0]), 2), round(float(middle[1]), 2))

    def redraw(self, change=None) -> None:
        """Redraw for the sliders' point."""
        z = torch.tensor([[self.z1.value, self.z2.value]], dtype=torch.float32)
        with torch.no_grad():
            decoded = self.model.decode_mean(z.to(self.model.device)).cpu()
            log_prior = float(self.model.prior.log_prob(z.to(self.model.device)))
        self.marker.set_data([z[0, 0]], [z[0, 1]])
        self.picture.set_data(decoded.view(*self.image_shape).numpy())
        distances = (self.codes - z).norm(dim=1)
        nearest = int(distances.argmin())
        self.ax_image.set_title(
            f"decoded at z = ({z[0, 0]:.2f}, {z[0, 1]:.2f})\nlog p(z) = {log_prior:.2f}\n"
            f"nearest test code: a {int(self.labels[nearest])}, {float(distances[nearest]):.2f} away",
            fontsize=9,
        )
        self.canvas.draw()
        if self.figure.get_layout_engine() is not None:
            # Laid out once: a slider move changes the cross, the picture and the numbers of
            # the title, not the room they take; the layout would be half of every redraw.
            self.figure.set_layout_engine(None)
        self.image.value = canvas_png(self.canvas)

    def __repr__(self) -> str:
        return (
            "LatentExplorer: sliders for z, the decoded image beside the prior's contours (run the notebook to use it)"
        )


class PriorMenu(widgets.VBox):
    """A dropdown of trained models and the Fig. 4.13 plot of the chosen one.

    models: {name: VAE}; x: (N, D) images for the encoder's dots; scores: {name: test -ELBO} or None.
    """

    def __init__(self, models: dict, x, scores: dict | None = None):
        if not models:
            raise ValueError("PriorMenu needs at least one model, got none")
        self.models, self.scores = dict(models), scores or {}
        self.menu = widgets.Dropdown(options=list(self.models), description="prior")
        self.view = ContourView(x)
        self.menu.observe(lambda change: self.show(change["new"]), names="value")
        super().__init__([self.menu, self.view.image])
        self.show(self.menu.value)

    def show(self, name: str) -> None:
        """Draw the plot of ``name`` (the dropdown calls this)."""
        score = self.scores.get(name)
        self.view.draw(self.models[name], name if score is None else f"{name}: test −ELBO {score:.2f}")

    def __repr__(self) -> str:
        return f"PriorMenu({', '.join(self.models)}): choose a trained prior to redraw its contours"


# ---------------------------------------------------------------------------------------
# The playground
# ---------------------------------------------------------------------------------------
#: The columns of the playground's results table (labels and formats: analysis.COLUMN_LABELS).
RESULT_COLUMNS = ("run", "prior", "setting", "seed", "epochs", "train_seconds", "neg_elbo", "marginal_kl", "holes")


class Playground(widgets.VBox):
    """Pick a prior and its settings, train it, watch its contours move, compare runs.

    Training runs in a background thread, so Stop works while it trains, with the default
    recipe (``vaelib.train.DEFAULT_RECIPE``) whose epochs and learning rate the sliders start
    at. Every prior in ``vaelib.PRIORS`` is in the menu; its ``size_option`` gives the slider.
    In code: ``pg.prior.value = "mog"; pg.train(wait=True)``; ``pg.results`` is a
    ComparisonTable (``pg.results[-1]["neg_elbo"]``).

    scale: draws the pictures that many times larger (text included, see ContourView) and
    widens the controls' label column to match; the page's own font size is set by CSS
    (apps/prior_explorer.py does both for a projector).
    """

    def __init__(self, data, redraw_every: int = 5, scale: float = 1.0):
        self.data = data
        self.scale = check_positive_float("scale", scale)
        # Models are built for the data's image size and pixels (Digits, MNIST-5k).
        self._model_data = data if isinstance(data, Digits) else None
        self.redraw_every = redraw_every
        self.recipe = get_recipe()
        self.results = analysis.ComparisonTable(columns=RESULT_COLUMNS)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

        style = {"description_width": f"{round(90 * self.scale)}px"}
        self.prior = widgets.Dropdown(options=list(PRIORS), value="standard", description="prior", style=style)
        self.size = widgets.IntSlider(description="components", style=style, continuous_update=False)
        self.epochs = widgets.IntSlider(
            value=self.recipe.max_epochs,
            min=10,
            max=max(400, self.recipe.max_epochs),
            step=10,
            description="max epochs",
            style=style,
        )
        self.lr = widgets.FloatLogSlider(
            value=self.recipe.lr,
            base=10,
            min=-4,
            max=-1.5,
            step=0.25,
            description="learning rate",
            readout_format=".0e",
            style=style,
        )
        self.seed = widgets.IntText(
            value=0, description="seed", style=style, layout=widgets.Layout(width=f"{round(180 * self.scale)}px")
        )
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(min=0, max=self.epochs.value, description="epoch", style=style)
        self.status = widgets.HTML("Choose a prior and press Train.")
        self.contours = ContourView(data.test, scale=self.scale)
        self.samples_figure = Figure(figsize=(3.6, 3.6), dpi=PNG_DPI * self.scale, layout="constrained")
        width = int(self.samples_figure.bbox.width)  # as figure_png renders it
        self.samples = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        self.table = widgets.HTML(self._table_html())

        for widget, name in [
            (self.prior, "prior"),
            (self.train_button, "train"),
            (self.stop_button, "stop"),
            (self.progress, "progress"),
            (self.contours.image, "plot"),
            (self.samples, "samples"),
            (self.table, "results"),
            (self.status, "status"),
        ]:
            widget.add_class(f"vaelib-{name}")

        self.prior.observe(self._on_prior, names="value")
        self.epochs.observe(lambda change: setattr(self.progress, "max", change["new"]), names="value")
        for control in (self.prior, self.size, self.epochs, self.lr, self.seed):
            control.observe(self._on_setting, names="value")
        self.train_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self._on_prior({"new": self.prior.value})

        controls = widgets.VBox(
            [
                self.prior,
                self.size,
                self.epochs,
                self.lr,
                self.seed,
                widgets.HBox([self.train_button, self.stop_button]),
                self.progress,
            ]
        )
        # Top-aligned: a flex row would otherwise stretch the shorter picture to the taller one's height.
        pictures = widgets.HBox([self.contours.image, self.samples], layout=widgets.Layout(align_items="flex-start"))
        super().__init__([widgets.HBox([controls, self.status]), pictures, self.table])
        self._draw_untrained()

    def __repr__(self) -> str:
        return "Playground: choose a prior, press Train, watch its contours; run the notebook to use it"

    # Controls --------------------------------------------------------------------------
    def _on_prior(self, change) -> None:
        prior = PRIORS[change["new"]]
        option = prior.size_option
        if option is None:
            self.size.layout.display = "none"
            return
        self.size.layout.display = None
        self.size.description = option.label
        # Widen first, then narrow: min <= max at every step.
        self.size.min, self.size.max = min(self.size.min, option.minimum), max(self.size.max, option.maximum)
        self.size.min, self.size.max = option.minimum, option.maximum
        self.size.value = prior.default_size()

    def _on_setting(self, change) -> None:
        if not self.running:
            self.status.value = f"Ready to train {self.prior.value}: press Train."

    def settings(self) -> dict:
        """The current choices as keyword arguments of make_vae."""
        options = {"prior": self.prior.value, "seed": int(self.seed.value)}
        size = PRIORS[self.prior.value].size_option
        if size is not None:
            options[size.name] = int(self.size.value)
        return options

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start training the chosen prior in the background (ignored while a run is going)."""
        if self.running:
            return
        self._stop.clear()
        settings = self.settings()
        self.status.value = f"Training {settings['prior']}…"  # first: a stale "Done:" must not outlive the click
        self._set_running(True)
        self._thread = threading.Thread(
            target=self._run, args=(settings, self.epochs.value, self.lr.value), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the running training to stop after the current epoch (it keeps its best model)."""
        if self.running:
            self._stop.set()
            self.status.value = "Stopping…"

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run has finished."""
        if self._thread is not None:
            self._thread.join(timeout)

    def train(self, wait: bool = True) -> None:
        """Press Train (and, with wait=True, return when the run has finished)."""
        self.start()
        if wait:
            self.wait()

    def _set_running(self, running: bool) -> None:
        self.train_button.disabled = running
        self.stop_button.disabled = not running
        for control in (self.prior, self.size, self.epochs, self.lr, self.seed):
            control.disabled = running

    # The run (in the background thread) ------------------------------------------------
    def _run(self, settings: dict, max_epochs: int, lr: float) -> None:
        name = settings["prior"]
        # A second OpenMP team beside the main thread's makes libgomp throttle its spin-waits:
        # two threads here train at half speed (measured 1.8 s vs 0.93 s in the main thread);
        # one thread is faster (1.4 s): fit(threads=1) below. The notebook keeps its own setting.
        try:
            model = make_vae(device="cpu", data=self._model_data, **settings)
            self.progress.value, self.progress.max, self.progress.bar_style = 0, max_epochs, ""
            self.contours.draw(model, f"{name} prior: before training")

            def on_epoch(model, history) -> bool:
                self.progress.value = history.epochs
                self.status.value = f"Training {name}: epoch {history.epochs}, val −ELBO {history.val_loss[-1]:.2f}"
                if history.epochs % self.redraw_every == 0:
                    self.contours.draw(model, f"{name} prior: epoch {history.epochs}")
                return self._stop.is_set()

            history = fit(
                model,
                self.data,
                recipe=self.recipe,
                max_epochs=max_epochs,
                lr=lr,
                seed=settings["seed"],
                progress=False,
                callback=on_epoch,
                threads=1,
            )
            row = self._evaluate(model, history, settings)
            self.results.append(row)
            self.table.value = self._table_html()
            self.contours.draw(model, f"{name} prior: test −ELBO {row['neg_elbo']:.2f}")
            self._draw_samples(model)
            self.progress.max = max(history.epochs, 1)  # a full bar: the run is over
            self.progress.bar_style = "success"
            verb = "Stopped" if history.stopped == StopReason.CALLBACK else "Done"
            self.status.value = (
                f"{verb}: {name}, {history.epochs} epochs in {history.seconds:.1f} s, test −ELBO {row['neg_elbo']:.2f}"
            )
        except TrainingDiverged as error:
            self.progress.bar_style = "danger"
            self.status.value = f"<b>Diverged</b>: {html.escape(str(error))}"
        except Exception as error:  # shown in the panel: a thread's traceback would go unseen
            self.progress.bar_style = "danger"
            self.status.value = f"<b>Error</b>: {html.escape(type(error).__name__)}: {html.escape(str(error))}"
        finally:
            self._set_running(False)

    def _evaluate(self, model, history, settings: dict) -> dict:
        """The table row of a finished run (plain keys: see RESULT_COLUMNS)."""
        start = time.perf_counter()
        with fixed_seed(0, model.device):
            surgery = analysis.elbo_surgery(model, self.data.test, resolution=120)
            neg_elbo = negative_elbo(model, self.data.test)
        option = PRIORS[settings["prior"]].size_option
        return {
            "run": len(self.results) + 1,
            "prior": settings["prior"],
            "setting": f"{option.label} {settings[option.name]}" if option else "",
            "seed": settings["seed"],
            "epochs": history.epochs,
            "train_seconds": history.seconds,
            "neg_elbo": neg_elbo,
            "marginal_kl": surgery.marginal_kl,
            "holes": analysis.holes(model, self.data.test),
            "evaluation_seconds": time.perf_counter() - start,
        }

    # Drawing ---------------------------------------------------------------------------
    def _draw_untrained(self) -> None:
        model = make_vae(**self.settings(), data=self._model_data, device="cpu")
        self.contours.draw(model, "untrained model: press Train")
        self._draw_samples(model)

    def _draw_samples(self, model) -> None:
        self.samples_figure.clear()
        plots.prior_samples(model, n=36, ncols=6, ax=self.samples_figure.add_subplot(), seed=0)
        self.samples.value = figure_png(self.samples_figure, dpi=self.samples_figure.dpi)

    def _table_html(self) -> str:
        return self.results.to_html(empty="Each finished run adds a row here.")
