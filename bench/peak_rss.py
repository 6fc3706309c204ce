"""Peak memory of the benchmark process, shared by the bench scripts (the pipeline's own measure)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_etl.flows.stages import peak_rss_mb

__all__ = ["peak_rss_mb"]
