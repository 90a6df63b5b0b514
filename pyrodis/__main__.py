"""``python -m pyrodis`` runs the command line (same as the ``pyrodis`` script)."""

import sys

from pyrodis.cli import main

sys.exit(main())
