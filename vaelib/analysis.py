"""Looking inside a trained VAE: the aggregated posterior, ELBO surgery, holes, a comparison table.

The aggregated posterior is q(z) = (1/N) sum_n q(z|x_n) over the test images. Averaged
over the data, the KL term of the ELBO splits (Hoffman & Johnson's "ELBO surgery") into

    E_x[KL(q(z|x) || p(z))] = I_q(x; z) + KL(q(z) || p(z)),

an information term the prior cannot change and a term that vanishes when p(z) = q(z).
Both are integrals over the latent space: with a 2-D latent space we compute them by
quadrature on a grid, and in any dimension by Monte Carlo (the two cross-check).
"""

from __future__ import annotations

import csv
import html
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.distributions import MixtureSameFamily

from ._checks import check_int, check_positive_float
from .claims import SeedStats
from .evaluate import ELBO_SAMPLES, elbo_parts, elbo_per_image, log_importance_weights, negative_log_likelihood

# The latent plane's geometry lives in vaelib.latent; its names stay importable from here.
from .latent import LatentGrid, latent_extent, latent_grid, require_2d, square_extent, union_extent  # noqa: F401
from .priors import gaussian_mixture
from .seeding import with_fixed_seed
from .threads import uses_threads

#: Default threshold of :func:`holes`: "thin" means q(z) below a tenth of p(z).
HOLE_RATIO = 0.1

# Chunks of at most this many log-densities (points x components): about 16 MB of float32.
_MAX_ELEMENTS = 2**22


# ---------------------------------------------------------------------------------------
# Densities on a grid (or at any latent points)
# ---------------------------------------------------------------------------------------
@torch.no_grad()
def aggregate_posterior(model, x: Tensor) -> MixtureSameFamily:
    """q(z) = (1/N) sum_n q(z|x_n) as a distribution: a uniform mixture of the N posteriors.

    x: (N, D) -> event_shape (L,)
    """
    means, logvars = model.encoder(model.check_images(x))
    # Equal logits give weights 1/N, so log q(z) = logsumexp_n log q(z|x_n) - log N.
    return gaussian_mixture(torch.zeros(len(means), device=means.device), means, logvars)


def prior_log_density(model, z) -> Tensor:
    """log p(z) at latent points or grid points (one batched call up to 65536 points).

    z: (P, L) or LatentGrid -> (P,) on the CPU
    """
    points = z.points if isinstance(z, LatentGrid) else z
    with torch.no_grad():
        prior = model.prior.distribution()  # built once: the VampPrior runs its encoder here
        return torch.cat([prior.log_prob(part.to(model.device)).cpu() for part in points.split(2**16)])


def aggregate_posterior_log_density(model, x: Tensor, z) -> Tensor:
    """log q(z) of the aggregated posterior of ``x`` at latent points or grid points.

    x: (N, D), z: (P, L) or LatentGrid -> (P,) on the CPU
    """
    points = z.points if isinstance(z, LatentGrid) else z
    with torch.no_grad():
        means, logvars = model.encoder(model.check_images(x))
        chunk = max(1, _MAX_ELEMENTS // len(x))
        return torch.cat(
            [
                uniform_diagonal_mixture_log_prob(part.to(model.device), means, logvars).cpu()
                for part in points.split(chunk)
            ]
        )


def uniform_diagonal_mixture_log_prob(z: Tensor, means: Tensor, logvars: Tensor) -> Tensor:
    """log (1/N) sum_n N(z; means[n], diag exp(logvars[n])): the aggregated posterior's density.

    The same number as aggregate_posterior(...).log_prob(z), by one matrix product instead of a
    dozen passes over the (P, N, L) differences: with precisions r = 1/v, each component's
    log-density -0.5 sum_l r_nl (z_l - m_nl)^2 + c_n expands into
    [z^2, z, 1] @ [-0.5 r_n, r_n m_n, c_n - 0.5 sum_l r_nl m_nl^2], computed in float64 so that the
    expansion's cancellation stays far below float32 rounding (the result is closer to a
    float64 reference than the distribution's own float32 log_prob).
    z: (P, L), means, logvars: (N, L) -> (P,) in the dtype of ``means``
    """
    dtype = means.dtype
    z, means, logvars = z.double(), means.double(), logvars.double()
    precision = torch.exp(-logvars)
    log_normalisers = -0.5 * (logvars.sum(1) + z.shape[1] * math.log(2 * math.pi))
    constant = log_normalisers - 0.5 * (means * means * precision).sum(1)
    features = torch.cat([z * z, z, torch.ones_like(z[:, :1])], dim=1)  # (P, 2L + 1)
    weights = torch.cat([-0.5 * precision, means * precision, constant[:, None]], dim=1)  # (N, 2L + 1)
    # The log-sum-exp itself needs no float64: its terms are exact to float32 rounding now.
    log_terms = (features @ weights.T).to(dtype)
    return torch.logsumexp(log_terms, dim=1) - math.log(len(means))


# ---------------------------------------------------------------------------------------
# ELBO surgery
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ELBOSurgery:
    """E_x[KL(q(z|x) || p(z))] = I_q(x; z) + KL(q(z) || p(z)), each in nats per image.

    method: "quadrature" or "monte-carlo". standard_errors (Monte Carlo only): of each term.
    grid_mass (quadrature only): the integral of q(z) over the grid, 1 when the grid holds it all.
    """

    average_kl: float
    mutual_information: float
    marginal_kl: float
    method: str
    standard_errors: dict | None = None
    grid_mass: float | None = None

    @property
    def residual(self) -> float:
        """average_kl - (mutual_information + marginal_kl): zero up to numerical error."""
        return self.average_kl - (self.mutual_information + self.marginal_kl)


@torch.no_grad()
def elbo_surgery(
    model,
    x: Tensor,
    method: str = "quadrature",
    *,
    grid: LatentGrid | None = None,
    resolution: int = 300,
    num_samples: int = 64,
    seed: int | None = 0,
) -> ELBOSurgery:
    """Split the average KL of the ELBO into I_q(x; z) and KL(q(z) || p(z)) over the images ``x``.

    method="quadrature" (2-D latent only) integrates over ``grid`` (default: latent_grid at
    ``resolution``); method="monte-carlo" draws ``num_samples`` z ~ q(z|x_n) per image
    (seed: fixed random numbers, None: the global generator). Within one method the identity
    holds by construction (both sides share the integrals or the samples): to check it,
    compare the methods, or the closed-form KL of the standard prior. x: (N, D) -> ELBOSurgery
    """
    if method == "quadrature":
        require_2d(model, "ELBO surgery by quadrature", "method='monte-carlo' works in any dimension")
        return _surgery_by_quadrature(model, x, grid if grid is not None else latent_grid(model, x, resolution))
    if method == "monte-carlo":
        check_int("num_samples", num_samples, 2)
        if seed is None:
            return _surgery_by_monte_carlo(model, x, num_samples)
        return with_fixed_seed(seed, model.device, lambda: _surgery_by_monte_carlo(model, x, num_samples))
    raise ValueError(f"unknown method {method!r}; choose 'quadrature' or 'monte-carlo'")


def _surgery_by_quadrature(model, x: Tensor, grid: LatentGrid) -> ELBOSurgery:
    log_q = aggregate_posterior_log_density(model, x, grid).double()
    log_p = prior_log_density(model, grid).double()
    mass = torch.exp(log_q) * grid.cell_area  # q(z) dz in each cell

    def expect(values: Tensor) -> float:
        """E_q(z)[values] as a sum over cells; 0 * log 0 = 0 where q underflows, not NaN."""
        return float(torch.where(mass > 0, mass * values, 0.0).sum())

    # The posteriors' entropies are Gaussian: exact, no grid needed.
    posterior_entropy = float(model.posterior(model.check_images(x)).entropy().double().mean())
    aggregate_entropy = -expect(log_q)
    return ELBOSurgery(
        # E_n E_q(z|x_n)[log q(z|x_n) - log p(z)] = -mean entropy - E_q(z)[log p(z)]
        average_kl=-posterior_entropy - expect(log_p),
        mutual_information=aggregate_entropy - posterior_entropy,
        marginal_kl=expect(log_q - log_p),
        method="quadrature",
        grid_mass=float(mass.sum()),
    )


def _surgery_by_monte_carlo(model, x: Tensor, num_samples: int) -> ELBOSurgery:
    posterior = model.posterior(model.check_images(x))
    z = posterior.sample((num_samples,))  # (S, N, L): num_samples draws from each q(z|x_n)
    log_posterior = posterior.log_prob(z)  # (S, N)
    points = z.reshape(-1, z.shape[-1])
    log_prior = prior_log_density(model, points).to(z.device).view_as(log_posterior)
    log_aggregate = aggregate_posterior_log_density(model, x, points).to(z.device).view_as(log_posterior)
    terms = {
        "average_kl": log_posterior - log_prior,
        "mutual_information": log_posterior - log_aggregate,
        "marginal_kl": log_aggregate - log_prior,
    }
    # Each image is a stratum: the error comes from the spread of the S draws within each image.
    errors = {name: math.sqrt(float(t.double().var(0).mean()) / t.numel()) for name, t in terms.items()}
    return ELBOSurgery(
        **{name: float(t.double().mean()) for name, t in terms.items()},
        method="monte-carlo",
        standard_errors=errors,
    )


# ---------------------------------------------------------------------------------------
# Holes
# ---------------------------------------------------------------------------------------
@torch.no_grad()
def holes(model, x: Tensor, ratio: float = HOLE_RATIO, num_samples: int = 10_000, seed: int | None = 0) -> float:
    """The share of the prior's mass that lies in "holes": where the data's codes are very thin.

    Draw z from the prior p(z) and ask: is the aggregated posterior q(z) of the images ``x``
    (where the encoder actually puts data) less than ``ratio`` times p(z) here? The answer is
    the fraction of prior samples for which it is, P_{z ~ p}[q(z) < ratio * p(z)]: 0 means
    every region the prior samples from is also used by the data; 0.3 means 30% of samples
    from the prior land where the decoder has (almost) never been trained, and tend to
    decode to poor images. It is exactly 0 when p(z) = q(z). Any latent dimension; a Monte
    Carlo estimate with standard error at most 0.5 / sqrt(num_samples).
    x: (N, D) -> float in [0, 1]
    """
    check_positive_float("ratio", ratio)
    check_int("num_samples", num_samples, 1)

    def estimate():
        z = model.prior.sample(num_samples)
        gap = aggregate_posterior_log_density(model, x, z) - prior_log_density(model, z)
        return float((gap < math.log(ratio)).double().mean())

    return estimate() if seed is None else with_fixed_seed(seed, model.device, estimate)


# ---------------------------------------------------------------------------------------
# The exact log-likelihood by quadrature, and the bounds below it
# ---------------------------------------------------------------------------------------
#: Defaults of :func:`exact_log_likelihood` (the test of its convergence varies each one).
QUADRATURE_REACH = 12.0  # the scouting box: q's mean ± this many of q's standard deviations
QUADRATURE_SCOUT = 21  # scouting cells per axis
QUADRATURE_RESOLUTION = 31  # integration cells per axis, over the region the scout found
QUADRATURE_DEPTH = 30.0  # nats below the peak of p(x|z) p(z) that still count as "the region"


@uses_threads
@torch.no_grad()
def exact_log_likelihood(
    model,
    x: Tensor,
    *,
    reach: float = QUADRATURE_REACH,
    scout: int = QUADRATURE_SCOUT,
    resolution: int = QUADRATURE_RESOLUTION,
    depth: float = QUADRATURE_DEPTH,
    batch_size: int = 50,
) -> Tensor:
    """log p(x) = log ∫ p(x|z) p(z) dz of each image, by quadrature on a grid of its own (L = 2).

    p(x|z) p(z) is sharply peaked (a posterior std ≪ 1), so each image gets two grids of its
    own. A scouting grid (``scout`` x ``scout`` cells over q's mean ± ``reach`` of q's stds)
    finds where the integrand is within ``depth`` nats of its peak; where that region touches
    the scouting box (the true posterior is wider than q, or the prior pulls it away), the box
    is widened, up to three times. A grid of ``resolution`` x ``resolution`` cells over that
    region, one scouting cell wider on each side, then integrates it (midpoint rule): what lies
    outside is below e^-depth of the peak. tests/test_analysis.py shows refining or widening
    changes the mean by < 0.01 nat. x: (N, D) -> (N,) float64, on the CPU
    """
    require_2d(model, "the exact log-likelihood by quadrature", "use vaelib.iwae_bound (a lower bound) instead")
    x = model.check_images(x)
    check_positive_float("reach", reach)
    check_int("scout", scout, 3)
    check_int("resolution", resolution, 2)
    check_positive_float("depth", depth)
    check_int("batch_size", batch_size, 1)
    model.eval()
    prior = model.prior.distribution()  # built once: the VampPrior runs its encoder here
    return torch.cat(
        [_exact_log_likelihood(model, prior, batch, reach, scout, resolution, depth) for batch in x.split(batch_size)]
    ).cpu()


def _log_joint(model, prior, x: Tensor, z: Tensor) -> Tensor:
    """log p(x|z) + log p(z) at points z (double), one decoder pass per point. z: (P, B, 2) -> (P, B)"""
    z = z.to(torch.float32)
    return model.decoder.log_prob(x, z).double() + prior.log_prob(z).double()


def _cell_centres(low: Tensor, high: Tensor, cells: int) -> Tensor:
    """Midpoints of ``cells`` x ``cells`` equal cells in each image's box. low, high: (B, 2) -> (P, B, 2)"""
    steps = (torch.arange(cells, dtype=torch.float64, device=low.device) + 0.5) / cells
    second, first = torch.meshgrid(steps, steps, indexing="ij")
    fractions = torch.stack([first.reshape(-1), second.reshape(-1)], dim=1)  # (P, 2)
    return low + fractions[:, None, :] * (high - low)


def _exact_log_likelihood(model, prior, x, reach, scout, resolution, depth) -> Tensor:
    posterior = model.posterior(x)
    centre, spread = posterior.mean.double(), posterior.stddev.double()
    low, high = centre - reach * spread, centre + reach * spread
    for _ in range(4):
        z = _cell_centres(low, high, scout)
        log_f = _log_joint(model, prior, x, z).T.reshape(len(x), scout, scout)  # rows along z2
        inside = log_f > log_f.amax((1, 2), keepdim=True) - depth
        along_z1, along_z2 = inside.any(1), inside.any(2)  # (B, scout): columns and rows that matter
        touches = along_z1[:, 0] | along_z1[:, -1] | along_z2[:, 0] | along_z2[:, -1]
        if not touches.any():
            break
        width = high - low  # widen the boxes the region reaches the edge of, keeping the others
        low = torch.where(touches[:, None], low - width / 2, low)
        high = torch.where(touches[:, None], high + width / 2, high)
    cell = (high - low) / scout
    index = torch.arange(scout, device=x.device, dtype=torch.float64)

    def span(mask):  # the first and last cell that matter, one cell further on each side
        first = torch.where(mask, index, math.inf).amin(1) - 1
        last = torch.where(mask, index, -math.inf).amax(1) + 2
        return first, last

    (first1, last1), (first2, last2) = span(along_z1), span(along_z2)
    region_low = low + torch.stack([first1, first2], 1) * cell
    region_high = low + torch.stack([last1, last2], 1) * cell
    z = _cell_centres(region_low, region_high, resolution)
    log_area = torch.log((region_high - region_low).prod(1) / resolution**2)
    return torch.logsumexp(_log_joint(model, prior, x, z), dim=0) + log_area


#: The K of bound_curve: 1 to 5000 in steps of about x2.5.
BOUND_KS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@dataclass(frozen=True)
class BoundCurve:
    """ELBO <= IWAE(K) <= log p(x), as means over the images (nats per image), with standard errors.

    ks: the K of each IWAE value. *_se: the standard error of the mean over the images.
    gap_se: of the mean of log p(x) - IWAE(K) per image (paired, so far smaller than iwae_se).
    elbo is the one estimate of ELBO_ESTIMATE: -elbo is vaelib.negative_elbo, the book's "nll".
    """

    ks: tuple
    iwae: tuple
    iwae_se: tuple
    gap_se: tuple
    elbo: float
    elbo_se: float
    exact: float
    exact_se: float
    num_images: int


@uses_threads
@torch.no_grad()
def bound_curve(model, x: Tensor, ks=BOUND_KS, seed: int | None = 0) -> BoundCurve:
    """The ELBO, IWAE(K) for each K in ``ks`` and the exact log p(x) (quadrature) on the images ``x`` (L = 2).

    One set of max(ks) importance samples per image serves every K: IWAE(K) is the mean over
    the disjoint blocks of K samples (many blocks for small K, so small K are precise too).
    seed: fixes the samples (None: the caller's stream). x: (N, D) -> BoundCurve
    """
    ks = tuple(sorted(check_int("k", k, 1) for k in ks))
    x = model.check_images(x)
    exact = exact_log_likelihood(model, x)
    log_w = with_fixed_seed(seed, model.device, lambda: log_importance_weights(model, x, ks[-1])).double().cpu()
    per_k = []
    for k in ks:
        blocks = log_w[: len(log_w) // k * k].view(-1, k, len(x))
        per_k.append((torch.logsumexp(blocks, 1) - math.log(k)).mean(0))  # (N,)
    elbo = elbo_per_image(model, x).double().cpu()

    def se(values: Tensor) -> float:
        return float(values.std() / math.sqrt(len(values))) if len(values) > 1 else math.nan

    return BoundCurve(
        ks=ks,
        iwae=tuple(float(v.mean()) for v in per_k),
        iwae_se=tuple(se(v) for v in per_k),
        gap_se=tuple(se(exact - v) for v in per_k),
        elbo=float(elbo.mean()),
        elbo_se=se(elbo),
        exact=float(exact.mean()),
        exact_se=se(exact),
        num_images=len(x),
    )


# ---------------------------------------------------------------------------------------
# Comparison table
# ---------------------------------------------------------------------------------------
#: Every column a comparison table can show: key -> (label, format). The one home of the labels.
COLUMN_LABELS = {
    "run": ("run", "{}"),
    "prior": ("prior", "{}"),
    "setting": ("setting", "{}"),
    "seed": ("seed", "{}"),
    "epochs": ("epochs", "{}"),
    "neg_elbo": ("test −ELBO", "{:.2f}"),
    "nll_iwae": ("−log p(x) (IWAE)", "{:.2f}"),
    "neg_reconstruction": ("−E log p(x|z)", "{:.2f}"),
    "mutual_information": ("I(x; z)", "{:.2f}"),
    "marginal_kl": ("KL(q(z) ‖ p(z))", "{:.3f}"),
    "holes": ("holes", "{:.1%}"),
    "prior_parameters": ("prior params", "{:,}"),
    "train_seconds": ("train s", "{:.1f}"),
}


def column_specs(*keys: str) -> tuple:
    """(key, label, format) of each named column, for ComparisonTable(columns=...)."""
    unknown = [key for key in keys if key not in COLUMN_LABELS]
    if unknown:
        raise ValueError(f"unknown column(s) {unknown}; columns are: {', '.join(COLUMN_LABELS)}")
    return tuple((key, *COLUMN_LABELS[key]) for key in keys)


#: The columns of compare_priors' table.
COLUMNS = column_specs(
    "prior",
    "neg_elbo",
    "nll_iwae",
    "neg_reconstruction",
    "mutual_information",
    "marginal_kl",
    "holes",
    "prior_parameters",
    "train_seconds",
)


class ComparisonTable:
    """One row per trained model, as dicts with plain keys; shows as Markdown or HTML, saves as CSV.

    columns: which columns to show, as keys of COLUMN_LABELS or (key, label, format) triples
    (default: the class's ``columns``, those of compare_priors). ``table["mog"]`` is the row
    of a prior, ``table[-1]`` the last row.
    """

    columns = COLUMNS

    def __init__(self, rows=(), notes: str = "", columns=None):
        self.rows = [dict(row) for row in rows]
        self.notes = notes
        if columns is not None:
            self.columns = tuple(c if isinstance(c, tuple) else column_specs(c)[0] for c in columns)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key) -> dict:
        """The row of the prior called ``key`` (a string), or the row at position ``key`` (an int)."""
        if isinstance(key, int):
            return self.rows[key]
        for row in self.rows:
            if row["prior"] == key:
                return row
        raise KeyError(f"no row for prior {key!r}; rows: {[row['prior'] for row in self.rows]}")

    def append(self, row: dict) -> None:
        """Add one row (a dict with plain keys)."""
        self.rows.append(dict(row))

    def _cells(self, row) -> list[str]:
        return [_format(row.get(key), fmt) for key, _, fmt in self.columns]

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table, followed by the notes."""
        lines = [
            "| " + " | ".join(label for _, label, _ in self.columns) + " |",
            "|" + "".join(":---|" if key == "prior" else "---:|" for key, _, _ in self.columns),
        ]
        lines += ["| " + " | ".join(self._cells(row)) + " |" for row in self.rows]
        return "\n".join(lines) + (f"\n\n{self.notes}" if self.notes else "")

    def to_html(self, empty: str = "") -> str:
        """An HTML table (numbers right-aligned), then the notes; ``empty`` is shown when there are no rows."""
        cell = "padding: 2px 10px; border-bottom: 1px solid #ddd"

        def align(key):
            return "left" if key in ("prior", "setting") else "right"

        head = "".join(
            f"<th style='{cell}; text-align: {align(key)}'>{html.escape(label)}</th>" for key, label, _ in self.columns
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='{cell}; text-align: {align(key)}'>{html.escape(text)}</td>"
                for (key, _, _), text in zip(self.columns, self._cells(row))
            )
            + "</tr>"
            for row in self.rows
        )
        extra = f"<p><i>{html.escape(empty)}</i></p>" if empty and not self.rows else ""
        notes = f"<p style='font-size: smaller'>{html.escape(self.notes)}</p>" if self.notes else ""
        return (
            f"<table class='vaelib-table' style='border-collapse: collapse'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{extra}{notes}"
        )

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return f"ComparisonTable({len(self)} rows: {', '.join(str(row['prior']) for row in self.rows)})"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_csv(self, path) -> Path:
        """Write the rows, unformatted, with the column keys as the header line."""
        path = Path(path)
        keys = [key for key, _, _ in self.columns]
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=keys, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows)
        return path


def _format(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return fmt.format(value)


def named_models(models) -> dict:
    """A dict name -> model from a dict, or from a list of models (named by their prior)."""
    if isinstance(models, dict):
        return dict(models)
    return {model.prior_name: model for model in models}


#: The default K of the table's IWAE estimate. On the chapter's models K = 500 is within
#: 0.05 nat of K = 1000 (0.03-0.04, seeds of the draws 0.01-0.03 apart) at half the cost: IWAE
#: is most of a table's cost (one decoder pass per image and sample).
TABLE_IWAE_SAMPLES = 500


def surgery_resolution(model, x: Tensor, lowest: int = 100, highest: int = 400) -> int:
    """Grid cells per axis for ELBO surgery by quadrature: a cell no wider than the narrowest
    posterior's standard deviation (the midpoint rule's error on a Gaussian of std s with cells
    of width h is ~exp(-2 pi^2 s^2 / h^2): < 1e-8 at h = s), between ``lowest`` and ``highest``.
    On the chapter's models 100 cells give grid mass 1 and every term within 1e-5 nat of 300 cells."""
    require_2d(model, "surgery_resolution")
    with torch.no_grad():
        posterior = model.posterior(model.check_images(x))
    left, right, _, _ = latent_extent(model, posterior=posterior)
    return int(min(highest, max(lowest, math.ceil((right - left) / float(posterior.stddev.min())))))


def comparison_row(
    model,
    x: Tensor,
    *,
    name: str | None = None,
    iwae_samples: int = TABLE_IWAE_SAMPLES,
    elbo_samples: int = ELBO_SAMPLES,
    resolution: int | None = None,
    ratio: float = HOLE_RATIO,
) -> dict:
    """Every number of the comparison table for one trained model on the test images ``x``.

    iwae_samples: K of the IWAE estimate (random numbers fixed: seed 0); 0 or None skips it.
    resolution: of the ELBO-surgery grid (2-D latent); None: surgery_resolution(model, x).
    holes: analysis.holes with its defaults (the one number every figure shows).
    """
    parts = elbo_parts(model, x, num_samples=elbo_samples)
    method = "quadrature" if model.latent_dim == 2 else "monte-carlo"
    if method == "quadrature" and resolution is None:
        resolution = surgery_resolution(model, x)
    surgery = elbo_surgery(model, x, method, resolution=resolution or 300)
    history = model.history
    return dict(
        prior=name or model.prior_name,
        neg_elbo=-parts["elbo"],
        nll_iwae=math.nan
        if not iwae_samples
        else with_fixed_seed(0, model.device, lambda: negative_log_likelihood(model, x, num_samples=iwae_samples)),
        neg_reconstruction=-parts["reconstruction"],
        mutual_information=surgery.mutual_information,
        marginal_kl=surgery.marginal_kl,
        holes=holes(model, x, ratio),
        prior_parameters=model.prior.num_parameters(),
        train_seconds=history.seconds if history is not None else math.nan,
    )


def compare_priors(models, x: Tensor, *, iwae_samples: int = TABLE_IWAE_SAMPLES, **options) -> ComparisonTable:
    """The comparison table of trained models (dict name -> VAE, or a list) on the test images ``x``.

    Options go to :func:`comparison_row` (elbo_samples, resolution, ratio).
    """
    rows = [
        comparison_row(model, x, name=name, iwae_samples=iwae_samples, **options)
        for name, model in named_models(models).items()
    ]
    ratio = options.get("ratio", HOLE_RATIO)
    notes = (
        f"Nats per test image. −ELBO ≈ −E log p(x|z) + I(x; z) + KL(q(z) ‖ p(z)) (ELBO surgery). "
        f"−log p(x): importance-sampled (IWAE, K={iwae_samples}). "
        f"holes: share of prior samples where q(z) < {ratio:g} p(z)."
    )
    return ComparisonTable(rows, notes)


# ---------------------------------------------------------------------------------------
# Several seeds per prior: mean ± spread
# ---------------------------------------------------------------------------------------
#: Columns that are a property of the architecture, the same for every seed.
_SAME_FOR_EVERY_SEED = ("prior", "prior_parameters")


def seed_row(models, x: Tensor, *, name: str | None = None, iwae_samples: int = TABLE_IWAE_SAMPLES, **options) -> dict:
    """The comparison row of several trained seeds of one prior: every number as a SeedStats
    (mean ± seed-to-seed spread), plus ``seeds``, the number of models. models: a list of VAEs."""
    models = list(models)
    if len(models) < 2:
        raise ValueError(f"a spread needs at least 2 seeds of a prior, got {len(models)} model(s)")
    rows = [comparison_row(model, x, name=name, iwae_samples=iwae_samples, **options) for model in models]
    summary = {"prior": rows[0]["prior"], "seeds": len(rows)}
    for key, value in rows[0].items():
        if key in _SAME_FOR_EVERY_SEED:
            summary.setdefault(key, value)
        elif isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
            summary[key] = SeedStats(row[key] for row in rows)
    return summary


def compare_seeds(runs, x: Tensor, *, iwae_samples: int = TABLE_IWAE_SAMPLES, **options) -> ComparisonTable:
    """The comparison table of several seeds per prior: mean ± spread (sample std over seeds).

    runs: dict name -> list of trained VAEs (e.g. from vaelib.train_seeds), or a list of such
    lists (named by their prior). Cells are SeedStats: ``table["mog"]["neg_elbo"].mean``.
    """
    if not isinstance(runs, dict):
        runs = {models[0].prior_name: models for models in runs}
    rows = [seed_row(models, x, name=name, iwae_samples=iwae_samples, **options) for name, models in runs.items()]
    ratio = options.get("ratio", HOLE_RATIO)
    seeds = sorted({row["seeds"] for row in rows})
    notes = (
        f"Mean ± spread (sample standard deviation) over {'/'.join(map(str, seeds))} training seeds; "
        f"nats per test image. −ELBO: {ELBO_SAMPLES} posterior samples per image, fixed random numbers. "
        + (f"−log p(x): importance-sampled (IWAE, K={iwae_samples}). " if iwae_samples else "")
        + f"holes: share of prior samples where q(z) < {ratio:g} p(z)."
    )
    return ComparisonTable(rows, notes)
