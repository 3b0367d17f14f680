"""Where the saved real portal pages are: $XXGK_SAMPLES, else the nearest shared/portal-samples above the repo."""
from __future__ import annotations

import os
from pathlib import Path


def samples_dir() -> Path:
    if os.environ.get("XXGK_SAMPLES"):
        return Path(os.environ["XXGK_SAMPLES"])
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "portal-samples"
        if candidate.is_dir():
            return candidate
    return here.parents[2] / "shared" / "portal-samples"


SAMPLES = samples_dir()
