"""Where the pages, SMS texts and static files are: inside the package in an installed wheel, at the top
of the source tree in a checkout (the wheel maps templates/ and static/ into the package)."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name
