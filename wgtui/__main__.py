"""Provides `python -m wgtui`."""

import sys

from wgtui.cli import main

sys.exit(main())
