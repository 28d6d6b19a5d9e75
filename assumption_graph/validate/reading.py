"""The codes a file's reader reports (:mod:`assumption_graph.io`), declared for the table.

No rule here: the reader finds these while loading and passes them to
:func:`~assumption_graph.validate.check` as ``extra``, which merges them in. They are
declared so the table of codes lists every code ``check`` prints.
"""

from __future__ import annotations

from .registry import declare

declare("syntax", "error", "the file is not valid YAML or JSON (the line and column are named)")
declare("empty-file", "error", "the file is empty or holds only comments")
declare(
    "structure",
    "error",
    "the file is not shaped like a model (no mapping with `nodes:` at the top, or `nodes:` "
    "or `correlations:` of the wrong shape)",
)
declare("unreadable", "error", "the file cannot be read: not found, a folder, or not UTF-8 text")
declare(
    "limit",
    "error",
    "the file passes a size limit (bytes, nodes, values, nesting); the message names the "
    "environment variable that raises it",
)
declare("duplicate-key", "error", "a key written twice in one mapping")
declare("duplicate-node", "error", "a node id given twice")
declare(
    "library-clash",
    "error",
    "a node id defined both in the model and in its `library:` file (both places are named)",
)
declare("node-id", "error", "a node id read as something other than text (quote it)")
declare("unknown-key", "error", 'a key the file format does not know (with a "did you mean")')
declare("node-definition", "error", "a node that can't be read (a bad value for one of its keys)")
declare("formula-syntax", "error", "a formula that is not a valid expression")
declare("tag", "error", "a YAML tag that is not supported or whose value can't be read")
declare(
    "alias",
    "error",
    "a YAML alias that refers to the value containing it, or a merge key (`<<`) that refers "
    "to no mapping",
)
declare(
    "bad-value",
    "error",
    "a top-level value of the wrong type, e.g. a `correlations:` entry that is not "
    "`[node_a, node_b, rho]`",
)
declare(
    "business-case",
    "error",
    "the `business_case:` section can't be read (a bad value or unknown key; the line is named)",
)
