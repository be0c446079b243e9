"""Training speed and quality per prior (and per recipe): prints Markdown tables.

    python benchmarks/train_speed.py                       # every prior, every recipe, seed 0
    python benchmarks/train_speed.py --seeds 0 1 2 --iwae 1000

Runs are interleaved (for each seed, each prior, each recipe) so that drifts in machine
speed hit every recipe alike. Times are wall-clock seconds of ``fit`` (validation
included); "epoch s" is the run's seconds / epochs (the mean epoch, validation included;
History records only the run's total time). Test -ELBO uses 10 posterior samples per image.
"book's code" is the test -ELBO of the book's companion code as published (crash fixes
only, flow log-Jacobian counted once), mean of seeds 0-2, measured on a 2-core machine.

Last, the redraw time of the Fig. 4.13 plot (prior contours on the grid + the encoder's
samples of the test images) in the widgets' ContourView: the part spent in prior_contours,
and the whole redraw to PNG. Median of several redraws of each prior's model from the last recipe and
first seed; the same model every time, so the view reuses its rendered ticks.
benchmarks/redraw_speed.py times redraws as in training, against the path before.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _tables import markdown  # noqa: E402  (benchmarks/_tables.py, beside this script)

import vaelib  # noqa: E402
from vaelib.train import RECIPES  # noqa: E402

#: Test -ELBO of the book's companion code (mean of seeds 0-2): the quality bar.
BOOK_CODE_NELBO = {
    "standard": 99.4,
    "mog": 100.4,
    "vampprior": 102.1,
    "gtm": 100.6,
    "gtm-vampprior": 101.1,
    "flow": 100.3,
}


def redraw_ms(model, data, repeats=10):
    """(prior_contours, whole redraw) median milliseconds of redrawing the widgets' contour view."""
    from vaelib.widgets import ContourView

    view = ContourView(data.test)
    view.draw(model, "warm-up")
    plot, total = [], []
    original = vaelib.plots.prior_contours

    def timed(*args, **kwargs):  # the part of each redraw spent in prior_contours
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            plot.append(time.perf_counter() - start)

    vaelib.plots.prior_contours = timed
    try:
        for i in range(repeats):
            start = time.perf_counter()
            view.draw(model, f"redraw {i}")
            total.append(time.perf_counter() - start)
    finally:
        vaelib.plots.prior_contours = original
    return 1000 * statistics.median(plot), 1000 * statistics.median(total)


def run_one(prior, recipe, seed, data, iwae, models=None):
    model = vaelib.make_vae(prior, seed=seed, device="cpu")
    history = vaelib.fit(model, data, recipe=recipe, seed=seed, progress=False)
    torch.manual_seed(1000 + seed)
    row = dict(
        prior=prior,
        recipe=recipe,
        seed=seed,
        epochs=history.epochs,
        best_epoch=history.best_epoch,
        epoch_s=history.seconds / max(history.epochs, 1),
        seconds=history.seconds,
        test_nelbo=vaelib.negative_elbo(model, data.test, num_samples=10),
    )
    row["iwae"] = vaelib.negative_log_likelihood(model, data.test, num_samples=iwae) if iwae else float("nan")
    if models is not None:
        models[prior, recipe, seed] = model
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--priors", nargs="+", default=list(vaelib.PRIORS), choices=list(vaelib.PRIORS))
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iwae", type=int, default=1000, help="IWAE samples K for -log p(x) (0: skip)")
    args = parser.parse_args(argv)

    print(
        f"# train_speed: torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}\n"
    )
    data = vaelib.load_digits(device="cpu")
    rows, models = [], {}
    for seed in args.seeds:
        for prior in args.priors:
            for recipe in args.recipes:
                row = run_one(prior, recipe, seed, data, args.iwae, models)
                rows.append(row)
                print(
                    f"  {prior:14s} {recipe:5s} seed {seed}: {row['epochs']:4d} epochs, "
                    f"{row['epoch_s'] * 1000:5.0f} ms/epoch, {row['seconds']:6.1f} s, "
                    f"test -ELBO {row['test_nelbo']:.2f}, IWAE {row['iwae']:.2f}",
                    flush=True,
                )

    print("\n## Per run\n")
    print(
        markdown(
            ["prior", "recipe", "seed", "epochs (best)", "epoch s", "total s", "test -ELBO", "IWAE -log p(x)"],
            [
                [
                    r["prior"],
                    r["recipe"],
                    r["seed"],
                    f"{r['epochs']} ({r['best_epoch']})",
                    f"{r['epoch_s']:.3f}",
                    f"{r['seconds']:.1f}",
                    f"{r['test_nelbo']:.2f}",
                    f"{r['iwae']:.2f}",
                ]
                for r in rows
            ],
        )
    )

    print(f"\n## Mean over seeds {args.seeds} (time: median over seeds)\n")
    summary = []
    for prior in args.priors:
        book_seconds = None
        for recipe in args.recipes:
            group = [r for r in rows if r["prior"] == prior and r["recipe"] == recipe]
            seconds = statistics.median(r["seconds"] for r in group)
            if recipe == "book":
                book_seconds = seconds
            ratio = f"{seconds / book_seconds:.2f}" if book_seconds and recipe != "book" else ""
            mean_nelbo = statistics.mean(r["test_nelbo"] for r in group)
            summary.append(
                [
                    prior,
                    recipe,
                    f"{statistics.mean(r['epochs'] for r in group):.0f}",
                    f"{statistics.median(r['epoch_s'] for r in group):.3f}",
                    f"{seconds:.1f}",
                    f"{mean_nelbo:.2f}",
                    f"{BOOK_CODE_NELBO[prior]:.1f}",
                    "yes" if mean_nelbo <= BOOK_CODE_NELBO[prior] else "no",
                    f"{statistics.mean(r['iwae'] for r in group):.2f}",
                    ratio,
                ]
            )
    print(
        markdown(
            [
                "prior",
                "recipe",
                "epochs",
                "epoch s",
                "median s",
                "test -ELBO",
                "book's code",
                "as good?",
                "IWAE -log p(x)",
                "time / book",
            ],
            summary,
        )
    )

    recipe, seed = args.recipes[-1], args.seeds[0]
    print(f"\n## Redraw of the contour + encoder-scatter plot ({recipe} recipe, seed {seed}; median of 10)\n")
    redraws = []
    for prior in args.priors:
        plot, total = redraw_ms(models[prior, recipe, seed], data)
        redraws.append([prior, f"{plot:.0f}", f"{total:.0f}"])
    print(
        markdown(["prior", "prior_contours ms", "ContourView.draw, PNG included (what the widget shows) ms"], redraws)
    )


if __name__ == "__main__":
    main()
