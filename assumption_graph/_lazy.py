"""Heavy libraries imported on first use, so that a command loads only what it uses.

``np = lazy_import("numpy")`` at the top of a module reads like an import, but
numpy is imported only when the module first looks up one of its names. ``check``
and ``draw`` then never pay for numpy or networkx unless the file needs them
(correlations, cycles), and the command line starts like a linter. The same goes
for the few standard modules that only a rare message or output needs (``difflib``
for a misspelling's hint, ``html`` for markup). A module whose top-level code
itself uses the library gains nothing from this and imports it plainly.

The stand-in is not put in ``sys.modules`` (unlike :class:`importlib.util.LazyLoader`'s
modules): the import it makes is an ordinary one, so an error or a Ctrl-C in
the middle of it propagates and leaves no half-executed module behind.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["lazy_import", "loaded"]


class _Deferred(types.ModuleType):
    """A stand-in for a module: the first name looked up imports it and copies its names."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        vars(self).update(vars(module))
        return getattr(module, attr)


def lazy_import(name: str) -> types.ModuleType:
    """The module ``name``, imported on its first attribute access (at once if already loaded)."""
    module = sys.modules.get(name)
    return module if module is not None else _Deferred(name)


def loaded(name: str) -> bool:
    """Whether the module ``name`` has been imported (a stand-in not yet used does not count)."""
    return name in sys.modules
