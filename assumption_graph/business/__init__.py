"""The business-case layer in one place, one module per pipeline stage.

- :mod:`.settings` (define): what a case is, the ``business_case:`` section read
  into a frozen :class:`BusinessCase`, and how amounts fall in the years;
- :mod:`.labels` (define): what the case graph's nodes are called, a node's copy
  in one situation as a structured :class:`~.labels.CaseNode`, and their titles;
- :mod:`.expand` (compile): the case expanded into the plain graph the kernel
  runs, situation nodes doubled and key figures added as nodes;
- :mod:`.figures` (summarise): the key figures and tables of a run.

The case's check rules live with the other rules in ``validate``. This package
re-exports the settings only, so importing it never loads a later stage.
"""

from __future__ import annotations

from .settings import *  # noqa: F403  (its public names, listed once in its __all__)
from .settings import __all__ as __all__
