"""``python -m colbridge``: see :mod:`colbridge.cli`."""

import sys

from colbridge.cli import main

sys.exit(main())
