"""``python -m netmon.cli``."""

import sys

from netmon.cli import main

sys.exit(main())
