"""The command line: ``python -m vaelib figures --out DIR`` redraws every figure of the collection.

Each prior is trained once (with a progress bar) and cached in DIR/checkpoints; a later run
with the same settings (seed, recipe, epochs, architecture, vaelib version) loads it instead.
The settings are stored inside the checkpoint, which is written atomically: an interrupted
run can never leave a model under the name that another run would take for its own.
Every option is checked before anything is trained or written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from ._files import written_whole

#: (file stem, what it shows) of the figures drawn for every prior; "{prior}" is filled in.
PRIOR_FIGURES = (
    ("contours-{prior}", "prior contours and encoder samples (the book's Fig. 4.13)"),
    ("contours-labels-{prior}", "the same, dots coloured by digit"),
    ("posterior-vs-prior-{prior}", "aggregated posterior q(z) beside p(z), holes hatched"),
    ("samples-{prior}", "images decoded from prior samples"),
    ("reconstructions-{prior}", "test images and their reconstructions"),
    ("manifold-{prior}", "images decoded over a grid of z"),
)
#: The figures drawn once for all priors together.
SHARED_FIGURES = (
    ("training-curves", "validation -ELBO per epoch"),
    ("comparison", "one contour panel per prior, same axes"),
    ("comparison-labels", "the same, dots coloured by digit"),
)


class CommandError(Exception):
    """A problem to report in one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (what is wrong and where help is), no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``vaelib`` argument parser with its ``figures`` and ``study`` commands."""
    from .priors import PRIORS
    from .train import DEFAULT_RECIPE, RECIPES

    parser = _Parser(prog="vaelib", description="Priors for VAEs: figures and tables.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = "\n".join(f"  {stem.format(prior='PRIOR')}: {what}" for stem, what in PRIOR_FIGURES + SHARED_FIGURES)
    figures = commands.add_parser(
        "figures",
        help="train (or load) every prior and draw every figure",
        description="Train every prior (or load the checkpoints a previous run left in DIR with the same "
        "settings), then write every figure as PNG and PDF and the comparison table as Markdown and CSV.",
        epilog=f"Files written to DIR:\n{listing}\n  comparison.md, comparison.csv: the comparison table\n"
        "  checkpoints/PRIOR.pt: the trained models with the settings they were trained with,\n"
        "    reused by a later run with the same settings (a damaged or mismatched one is retrained)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    figures.add_argument(
        "--out", type=Path, default=Path("figures"), metavar="DIR", help="output directory (default: %(default)s)"
    )
    figures.add_argument(
        "--priors",
        nargs="+",
        choices=list(PRIORS),
        default=list(PRIORS),
        metavar="PRIOR",
        help=f"priors to train and draw (default: all of {', '.join(PRIORS)})",
    )
    figures.add_argument(
        "--epochs",
        type=_positive_int,
        default=None,
        help="maximum training epochs (default: the recipe's, with early stopping)",
    )
    figures.add_argument(
        "--seed", type=_seed, default=0, help="seed of weights, training and figures, 0..2**64-1 (default: 0)"
    )
    figures.add_argument(
        "--grid",
        type=_grid_size,
        default=300,
        metavar="RESOLUTION",
        help="latent grid points per side for densities and quadrature, at least 2 (default: %(default)s)",
    )
    figures.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda (default: cuda if available)")
    figures.add_argument(
        "--recipe", choices=list(RECIPES), default=DEFAULT_RECIPE, help="training recipe (default: %(default)s)"
    )
    figures.add_argument(
        "--iwae",
        type=_positive_int,
        default=1000,
        metavar="K",
        help="importance samples for the -log p(x) estimate (default: %(default)s)",
    )
    figures.add_argument(
        "--formats",
        nargs="+",
        choices=["png", "pdf", "svg"],
        default=["png", "pdf"],
        help="figure file formats (default: png pdf)",
    )
    # For quick checks (the tests): a smaller encoder/decoder than the book's 256 units.
    figures.add_argument("--hidden-dim", type=_positive_int, default=256, help=argparse.SUPPRESS)
    figures.set_defaults(run=run_figures, parser=figures)

    from . import study as study_module

    study = commands.add_parser(
        "study",
        help="when does the prior matter? every prior at latent sizes 2..32 on two data sets",
        description="Train every prior at latent sizes "
        f"{', '.join(map(str, study_module.LATENT_SIZES))} on {' and '.join(study_module.DATASETS)}, "
        f"{len(study_module.SEEDS)} seeds each, and write DIR/study.csv (one row per model, written as each "
        "finishes: a rerun continues where an interrupted one stopped), DIR/summary.md and DIR/gain.png.",
    )
    study.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    study.add_argument(
        "--quick",
        action="store_true",
        help="a subset in about a minute: Digits, standard and VampPrior, L = 2 and 16, seeds 0 and 1",
    )
    study.add_argument(
        "--workers", type=_positive_int, default=2, help="models trained side by side, one thread each (default: 2)"
    )
    study.set_defaults(run=run_study, parser=study)
    return parser


def run_study(args) -> int:
    from . import study

    check_writable(args.out)
    settings = study.quick_settings() if args.quick else study.StudySettings()
    try:
        study.run_study(args.out, settings, workers=args.workers)
    except ValueError as error:
        raise CommandError(str(error)) from None
    return 0


def _int_in(text: str, low: int, high: int | None, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _int_in(text, 1, None, "a positive integer")


def _grid_size(text: str) -> int:
    return _int_in(text, 2, None, "an integer >= 2 (grid points per side)")


def _seed(text: str) -> int:
    return _int_in(text, 0, 2**64 - 1, "an integer in 0..2**64-1")


def main(argv=None) -> int:
    """Run the ``vaelib`` command line; returns the exit status."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's parser, which points at the command's help
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.run(args)
    except CommandError as error:
        print(f"vaelib {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vaelib {args.command}: interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------------------------------
# vaelib figures
# ---------------------------------------------------------------------------------------
def check_writable(directory: Path) -> Path:
    """Create ``directory`` if needed and prove a file can be written there, or raise CommandError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise CommandError(f"cannot write to {str(directory)!r}: {error.strerror or error}") from None
    return directory


def training_settings(prior: str, *, seed: int, recipe, hidden_dim: int) -> dict:
    """Everything that decides a trained model: a cached checkpoint is reused only if these match."""
    from ._version import __version__

    return dict(prior=prior, seed=seed, hidden_dim=hidden_dim, recipe=asdict(recipe), vaelib=__version__)


def checkpoint_path(directory: Path, prior: str) -> Path:
    """Where ``prior``'s trained model is cached in an output directory."""
    return directory / "checkpoints" / f"{prior}.pt"


def train_or_load(
    prior: str, data, directory: Path, *, seed: int, recipe, hidden_dim: int, device=None, progress: bool = True
):
    """The model of ``prior`` trained with these settings: from DIR/checkpoints if cached there, else
    trained and cached.

    The settings live inside the checkpoint (saved atomically with the weights), so a cached
    file is either whole and labelled with what it was trained with, or absent: a run killed
    at any moment can never make a later run serve a model trained with other settings. A
    damaged cache entry is retrained with a one-line notice.
    """
    from .checkpoint import CheckpointError, load, load_extra, save
    from .model import make_vae
    from .train import TrainingDiverged, fit

    settings = training_settings(prior, seed=seed, recipe=recipe, hidden_dim=hidden_dim)
    checkpoint = checkpoint_path(directory, prior)
    if checkpoint.exists():
        try:
            extra = load_extra(checkpoint) or {}
            if extra.get("settings") == settings:
                model = load(checkpoint, device=device)
                print(f"{prior}: loaded {checkpoint} (same settings; trained {model.history.epochs} epochs)")
                return model
            if "settings" not in extra:
                print(f"{prior}: the cached checkpoint does not record its training settings; training again")
            else:
                print(f"{prior}: the cached checkpoint was trained with other settings; training again")
        except CheckpointError as error:
            print(f"{prior}: the cached checkpoint cannot be used ({error}); training again")
    model = make_vae(prior, seed=seed, hidden_dim=hidden_dim, device=device)
    try:
        history = fit(model, data, recipe=recipe, seed=seed, progress=progress)
    except TrainingDiverged as error:
        raise CommandError(str(error)) from None
    if history.stopped == "interrupted":
        raise KeyboardInterrupt  # a half-trained model must not be cached as if it were finished
    save(model, checkpoint, extra={"settings": settings})
    # Older vaelib kept the settings in a .json beside the checkpoint; it no longer describes it.
    checkpoint.with_suffix(".json").unlink(missing_ok=True)
    return model


def check_options(args):
    """Check every option before anything is trained or written; -> (directory, device, recipe).

    Raises CommandError with one line naming the option and what is allowed.
    """
    import torch

    from ._checks import resolve_device
    from .train import get_recipe

    try:
        device = resolve_device(args.device)
        torch.empty(1, device=device).sum().item()  # a device can be known yet unusable (driver, memory)
    except ValueError as error:  # resolve_device speaks Python ("None"); here that means no --device
        raise CommandError(f"--device: {str(error).replace('or None', 'or leave --device out')}") from None
    except (RuntimeError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CommandError(f"--device {args.device!r} cannot be used here: {reason}") from None
    try:
        recipe = get_recipe(args.recipe, max_epochs=args.epochs)
    except (TypeError, ValueError) as error:
        raise CommandError(f"--recipe/--epochs: {error}") from None
    priors = list(dict.fromkeys(args.priors))
    # Files the run will write: none may be a folder (that would fail only after all the training).
    targets = [checkpoint_path(args.out, prior) for prior in priors]
    targets += [args.out / "comparison.md", args.out / "comparison.csv"]
    stems = [stem.format(prior=prior) for prior in priors for stem, _ in PRIOR_FIGURES]
    stems += [stem for stem, _ in SHARED_FIGURES]
    targets += [args.out / f"{stem}.{fmt}" for stem in stems for fmt in dict.fromkeys(args.formats)]
    for target in targets:
        if target.exists() and not target.is_file():
            raise CommandError(f"cannot write {str(target)!r}: a folder (or another non-file) is in the way")
    directory = check_writable(args.out)
    check_writable(args.out / "checkpoints")
    return directory, device, recipe


def run_figures(args) -> int:
    """Train or load every prior, then write the figures and the comparison table to args.out."""
    from .analysis import compare_priors
    from .data import load_digits
    from .seeding import fixed_seed

    directory, device, recipe = check_options(args)
    data = load_digits(device=device)
    models = {}
    for prior in dict.fromkeys(args.priors):  # drop repeats, keep the order
        models[prior] = train_or_load(
            prior, data, directory, seed=args.seed, recipe=recipe, hidden_dim=args.hidden_dim, device=device
        )

    print("evaluating: test -ELBO, IWAE, ELBO surgery, holes ...", flush=True)
    with fixed_seed(args.seed, device):
        table = compare_priors(models, data.test, iwae_samples=args.iwae, resolution=args.grid)
    with written_whole(directory / "comparison.md") as temporary:
        temporary.write_text(table.to_markdown() + "\n")
    with written_whole(directory / "comparison.csv") as temporary:
        table.to_csv(temporary)
    print(table)

    formats = list(dict.fromkeys(args.formats))
    written = draw_figures(models, data, table, directory, formats=formats, grid=args.grid, seed=args.seed)
    print(f"wrote {len(written)} figure files, comparison.md and comparison.csv to {directory}")
    return 0


def _prior_figures(model, test, labels, *, neg_elbo: float, grid: int, seed: int):
    """The figures of PRIOR_FIGURES for one model, in that order, drawn one at a time."""
    from . import plots

    yield plots.prior_contours(model, test, neg_elbo=neg_elbo, resolution=grid)
    yield plots.prior_contours(model, test, labels, neg_elbo=neg_elbo, resolution=grid)
    yield plots.posterior_vs_prior(model, test, resolution=grid)
    yield plots.prior_samples(model, seed=seed)
    yield plots.reconstructions(model, test)
    yield plots.latent_manifold(model, test)


def draw_figures(
    models: dict, data, table, directory: Path, *, formats=("png", "pdf"), grid: int = 300, seed: int = 0
) -> list[Path]:
    """Draw every figure of PRIOR_FIGURES and SHARED_FIGURES into ``directory``; returns the files written.

    Each prior's figures, and the shared ones, draw from random numbers seeded with ``seed``
    (the caller's random stream is left as it was)."""
    from . import plots
    from .seeding import fixed_seed

    written = []

    def save(figure, stem):
        for fmt in formats:
            path = directory / f"{stem}.{fmt}"
            with written_whole(path) as temporary:
                figure.savefig(temporary, format=fmt, dpi=150)
            written.append(path)

    test, labels = data.test, data.test_labels
    for prior, model in models.items():
        figures = _prior_figures(model, test, labels, neg_elbo=table[prior]["neg_elbo"], grid=grid, seed=seed)
        with fixed_seed(seed, model.device):  # the same encoder samples in every run; the caller's stream untouched
            for (stem, _), figure in zip(PRIOR_FIGURES, figures):
                save(figure, stem.format(prior=prior))
    neg_elbos = {row["prior"]: row["neg_elbo"] for row in table}
    with fixed_seed(seed, next(iter(models.values())).device if models else None):
        save(plots.training_curves(models), "training-curves")
        save(plots.prior_comparison(models, test, neg_elbos=neg_elbos, resolution=grid), "comparison")
        save(plots.prior_comparison(models, test, labels, neg_elbos=neg_elbos, resolution=grid), "comparison-labels")
    return written
