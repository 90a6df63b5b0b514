"""``python -m pyrodis.explore RUN [RUN2]``: the explorer without the pyrodis command."""

import sys

from pyrodis.explore.command import main

sys.exit(main())
