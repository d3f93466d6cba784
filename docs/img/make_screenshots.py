"""Make the README's screenshots (docs/img/*.png) from the first-hour journeys in real Chromium:

    python docs/img/make_screenshots.py

runs tests/web/e2e/test_first_hour.py with MINQING_SCREENSHOTS set to this folder; the journeys then write
work-report-map-phone.png, work-case-dispatch.png, notifications-phone.png and citizen-report-phone.png (PNG,
palette-reduced, each under 200 KB; phone ones 390 px wide). Without the variable the tests write nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    environment = dict(os.environ, MINQING_SCREENSHOTS=str(HERE))
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/web/e2e/test_first_hour.py"], cwd=ROOT, env=environment)


if __name__ == "__main__":
    sys.exit(main())
