"""What makes a trained MoG prior (K = 16, 2-D latent, Digits) spread into separate components?

    python benchmarks/mog_spread.py                         # every setting, seeds 0-2
    python benchmarks/mog_spread.py --settings default "prior lr x30" --seeds 0 1 2

For each setting and seed: train ``make_vae("mog", seed=s)`` with ``fit(seed=s)`` and measure
- modes: local maxima of the prior density p(z) on a 200 x 200 grid over the test codes
  (vaelib.latent_grid), counting only those above 1% of the highest: 1 = one blob;
- in use: components with weight above half of uniform, 1/(2K);
- moved: each mean's distance from its start, averaged over components;
- test -ELBO: vaelib.negative_elbo (the one deterministic estimate), mean ± spread over seeds.
Notebook 3 quotes the table this prints and re-checks the setting it trains.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from _tables import markdown  # noqa: E402  (benchmarks/_tables.py, beside this script)

import vaelib  # noqa: E402

#: setting -> (make_vae options, fit options)
SETTINGS = {
    "default": ({}, {}),
    "book recipe": ({}, {"recipe": "book"}),
    "fast, patience 20": ({}, {"patience": 20}),
    "init_scale=3": ({"init_scale": 3.0}, {}),
    "K = 4": ({"num_components": 4}, {}),
    "prior lr x10": ({}, {"prior_lr_factor": 10.0}),
    "prior lr x30": ({}, {"prior_lr_factor": 30.0}),
    "prior lr x100": ({}, {"prior_lr_factor": 100.0}),
    "init_scale=3, prior lr x10": ({"init_scale": 3.0}, {"prior_lr_factor": 10.0}),
    "K = 4, prior lr x10": ({"num_components": 4}, {"prior_lr_factor": 10.0}),
    "book recipe, prior lr x10": ({}, {"recipe": "book", "prior_lr_factor": 10.0}),
}


@torch.no_grad()
def mixture_shape(model, start_means, x) -> dict:
    """Modes of p(z) over the codes of ``x``, components in use, distance the means moved."""
    logits, means, _ = model.prior.mixture_parameters()
    weights = torch.softmax(logits, 0)
    grid = vaelib.latent_grid(model, x, resolution=200)
    density = grid.image(model.prior.log_prob(grid.points).exp())[None, None]
    peaks = (density == F.max_pool2d(density, 3, stride=1, padding=1)) & (density > 0.01 * density.max())
    return {
        "modes": int(peaks.sum()),
        "in use": int((weights > 0.5 / len(weights)).sum()),
        "moved": float((means - start_means).norm(dim=1).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    data = vaelib.load_digits()
    rows = []
    for name in args.settings:
        make_options, fit_options = SETTINGS[name]
        runs = []
        for seed in args.seeds:
            model = vaelib.make_vae("mog", seed=seed, **make_options)
            start = model.prior.means.detach().clone()
            began = time.perf_counter()
            history = vaelib.fit(model, data, seed=seed, progress=False, **fit_options)
            run = mixture_shape(model, start, data.test)
            run.update(neg_elbo=vaelib.negative_elbo(model, data.test), epochs=history.epochs)
            print(f"  {name:28s} seed {seed}: {run} ({time.perf_counter() - began:.1f} s)", flush=True)
            runs.append(run)
        neg_elbo = vaelib.SeedStats(r["neg_elbo"] for r in runs)
        rows.append(
            [
                name,
                ", ".join(str(r["modes"]) for r in runs),
                ", ".join(str(r["in use"]) for r in runs),
                f"{sum(r['moved'] for r in runs) / len(runs):.2f}",
                f"{neg_elbo:.2f}",
                ", ".join(str(r["epochs"]) for r in runs),
            ]
        )
    print(f"\n# mog_spread: torch {torch.__version__}, seeds {args.seeds}\n")
    print(markdown(["setting", "modes per seed", "in use per seed", "means moved", "test -ELBO", "epochs"], rows))


if __name__ == "__main__":
    main()
