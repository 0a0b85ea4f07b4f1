"""Compare two runs or two branches side by side (issue 14)."""

from .launcher import CompareLauncher
from .window import CompareWindow

__all__ = ["CompareLauncher", "CompareWindow"]
