"""Disentanglement metrics: array-level functions, reference protocols and ``evaluate``.

One naming rule: a metric's module, its key in :func:`evaluate` and its protocol function share
one name (``beta_vae``, ``factor_vae``, ``mig``, ``mig_chen``, ``dci``, ``sap``, ``modularity``,
``irs``, ``unsupervised``, ``udr``), and the array-level form adds ``_from_codes``
(``mig_from_codes``, ...).  Protocol functions take a representation function and a ground-truth
dataset and sample their own points from ``seed`` exactly as the reference protocols do
(``docs/metrics.rst``, Locatello et al. 2019 defaults); ``*_from_codes`` take codes (n, d) and
factor classes (n, K).  The names of earlier releases (``beta_vae_score``,
``mutual_information_gap``, ``chen_mig``, ...) remain as aliases, listed in ``docs/api.rst``.

Every metric (protocol functions, ``*_from_codes``, :func:`mig_chen`, :func:`udr`,
:func:`udr_from_codes`) returns a dict with one naming scheme:

* the headline score under the metric's own short name: ``beta_vae``, ``factor_vae``, ``mig``,
  ``sap``, ``modularity``, ``explicitness``, ``irs``, ``udr``; DCI gives ``disentanglement``,
  ``completeness`` and ``informativeness``; the unsupervised scores give
  ``gaussian_total_correlation``, ``wasserstein_dependency``, ``wasserstein_dependency_norm``
  and ``mutual_info_score``;
* the same quantity on the training set carries the suffix ``_train`` (``beta_vae_train``,
  ``factor_vae_train``, ``explicitness_train``, ``informativeness_train``);
* counts are ``num_*`` (``num_active_dims``);
* UDR's per-model scores are the list ``udr`` and its matrix of pairs ``udr_pairwise``.

The building blocks (``importance_matrix``, ``disentanglement_completeness``,
``modularity_from_mi``, ``sap_matrix``, ``gaussian_total_correlation``, ...) return plain numbers.
"""

from .beta_vae import beta_vae, beta_vae_points
from .dci import dci, dci_from_codes, disentanglement_completeness, importance_matrix
from .discretize import histogram_discretize
from .evaluate import (
    CODE_ONLY_METRICS,
    DEFAULT_METRICS,
    METRICS,
    EvaluationResult,
    evaluate,
    repeat_seeds,
)
from .factor_vae import factor_vae, factor_vae_votes
from .irs import irs, irs_from_codes
from .mig import mig, mig_from_codes
from .mig_chen import marginal_entropies, mig_chen
from .modularity import (
    explicitness_from_codes,
    modularity,
    modularity_from_codes,
    modularity_from_mi,
)
from .plugin_mi import discrete_entropy, discrete_mutual_info, mutual_info_matrix
from .sampling import CachedRepresentation, code_sets, encode, sample_codes
from .sap import sap, sap_from_codes, sap_matrix
from .udr import relative_strength, udr, udr_from_codes
from .unsupervised import (
    active_units,
    gaussian_total_correlation,
    mean_pairwise_mutual_info,
    unsupervised,
    unsupervised_from_codes,
    wasserstein_dependency,
)

# isort: split
# The names of earlier releases, each the same function as its new name (docs/api.rst lists them).
from .beta_vae import beta_vae_score as beta_vae_score
from .factor_vae import factor_vae_score as factor_vae_score
from .mig import mutual_information_gap as mutual_information_gap
from .mig_chen import chen_mig as chen_mig
from .modularity import modularity_explicitness as modularity_explicitness
from .sap import sap_score as sap_score
from .unsupervised import unsupervised_scores as unsupervised_scores

__all__ = [
    "CODE_ONLY_METRICS",
    "DEFAULT_METRICS",
    "METRICS",
    "CachedRepresentation",
    "EvaluationResult",
    "active_units",
    "beta_vae",
    "beta_vae_points",
    "code_sets",
    "dci",
    "dci_from_codes",
    "discrete_entropy",
    "discrete_mutual_info",
    "disentanglement_completeness",
    "encode",
    "evaluate",
    "explicitness_from_codes",
    "factor_vae",
    "factor_vae_votes",
    "gaussian_total_correlation",
    "histogram_discretize",
    "importance_matrix",
    "irs",
    "irs_from_codes",
    "marginal_entropies",
    "mean_pairwise_mutual_info",
    "mig",
    "mig_chen",
    "mig_from_codes",
    "modularity",
    "modularity_from_codes",
    "modularity_from_mi",
    "mutual_info_matrix",
    "relative_strength",
    "repeat_seeds",
    "sample_codes",
    "sap",
    "sap_from_codes",
    "sap_matrix",
    "udr",
    "udr_from_codes",
    "unsupervised",
    "unsupervised_from_codes",
    "wasserstein_dependency",
]
