"""The dashboard's own modules, importable without installing them (as the e2e ring does)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "dashboard"))
