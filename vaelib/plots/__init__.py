"""Figures of a trained VAE and of its prior's insides.

- ``style``: the colours, mass levels and sizes every figure shares; small axes helpers
- ``contours``: contour lines that enclose shares of a density's mass
- ``figures``: figures of any trained VAE: prior contours (the book's Fig. 4.13), q(z) against
  p(z), samples, reconstructions, the latent manifold, training curves, a comparison, the bounds on log p(x)
- ``priors``: figures of particular priors' insides: pseudo-inputs, the GTM grid, mixture
  components, flow stages, image mosaics

Every figure function returns a matplotlib Figure and can draw into axes you pass (``ax=`` or
``axes=``), clearing them first, so a widget can redraw in place. A figure that needs the
latent plane says so, naming itself and the latent size, when latent_dim > 2. Where a figure
shows computed data, ``<figure>_data`` returns that data (tests check it, not pixels).
"""

from .contours import MassContours, mass_levels, prior_mass_contours
from .figures import (
    HolesMap,
    PriorContours,
    bound_curve,
    latent_manifold,
    posterior_vs_prior,
    posterior_vs_prior_data,
    prior_comparison,
    prior_contours,
    prior_contours_data,
    prior_samples,
    reconstructions,
    training_curves,
)

# Private helpers that code outside the package reaches for (tests check the grid layout).
from .priors import (
    FlowStages,
    MixtureLayout,
    _grid_layout,  # noqa: F401
    flow_stages,
    flow_stages_data,
    gtm_grid,
    image_grid,
    mixture_components,
    mixture_components_data,
    on_grid,
    pseudo_inputs,
)
from .style import (
    CONTOUR_RESOLUTION,
    DENSITY_CMAP,
    IMAGE_CMAP,
    LABEL_COLORS,
    LEGEND_STYLE,
    MASS_LEVELS,
    MESH_COLORS,
    PLOT_REACH,
    _figure_and_axes,  # noqa: F401
)

__all__ = [
    # figures of any trained VAE
    "prior_contours",
    "posterior_vs_prior",
    "prior_samples",
    "reconstructions",
    "latent_manifold",
    "training_curves",
    "prior_comparison",
    "bound_curve",
    # figures of a prior's insides
    "pseudo_inputs",
    "gtm_grid",
    "mixture_components",
    "flow_stages",
    "image_grid",
    "on_grid",
    # the data the figures draw
    "prior_contours_data",
    "PriorContours",
    "posterior_vs_prior_data",
    "HolesMap",
    "mixture_components_data",
    "MixtureLayout",
    "flow_stages_data",
    "FlowStages",
    "mass_levels",
    "MassContours",
    "prior_mass_contours",
    # the look
    "MASS_LEVELS",
    "CONTOUR_RESOLUTION",
    "PLOT_REACH",
    "IMAGE_CMAP",
    "DENSITY_CMAP",
    "LABEL_COLORS",
    "LEGEND_STYLE",
    "MESH_COLORS",
]
