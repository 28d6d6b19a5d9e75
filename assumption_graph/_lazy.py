"""Heavy libraries loaded on first use, so that a command loads only what it uses.

``np = lazy_import("numpy")`` at the top of a module reads like an import, but
numpy is executed only when the module first looks up one of its names (the
recipe of :class:`importlib.util.LazyLoader`). ``check`` and ``draw`` then never
pay for numpy or networkx unless the file needs them (correlations, cycles), and
the command line starts like a linter. A module whose top-level code itself
uses the library gains nothing from this and imports it plainly.
"""

from __future__ import annotations

import importlib.util
import sys
import types

__all__ = ["lazy_import", "loaded"]


def lazy_import(name: str) -> types.ModuleType:
    """The module ``name``, executed on its first attribute access (at once if already loaded)."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def loaded(name: str) -> bool:
    """Whether the module ``name`` has been executed (a lazy one not yet touched has not)."""
    return type(sys.modules.get(name)) is types.ModuleType
