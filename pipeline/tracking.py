"""Public home of the tracking hook: ``from pipeline.tracking import Tracker``."""

from pipeline.evidence.projection import Projection
from pipeline.evidence.tracking import Tracker

__all__ = ["Projection", "Tracker"]
