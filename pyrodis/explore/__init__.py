"""See the latent space move: an interactive explorer of trained runs in the browser
(``pyrodis explore RUN [RUN2]``, ``docs/explore.rst``).

One slider per latent (ordered by KL, ranges from the aggregate posterior q(z)), the decoded
image answering while a slider moves, traversal strips, the factor each latent is most
informative about, names a person gives to latents (saved in ``RUN/latent_names.json``), and two
runs side by side with their latents matched as UDR matches them. Needs the ``explore`` extra
(Starlette and uvicorn): ``pip install 'pyrodis[explore]'``.
"""

import sys
import types

from .command import add_arguments, explore, main, run_from_args
from .server import ExploreError, Explorer

__all__ = ["ExploreError", "Explorer", "add_arguments", "explore", "main", "run_from_args"]


class _CallableModule(types.ModuleType):
    """Lets ``pyrodis.explore(run_or_model, ...)`` call :func:`explore` (the package and the
    function share the name, as the CLI command does)."""

    def __call__(self, *args, **kwargs):
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
