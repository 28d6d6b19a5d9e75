"""A model's text as every output shows it: printable, and escaped for markup.

Names, labels, units, sources and descriptions are the user's text and reach a
terminal, DOT, SVG, HTML and xlsx files. Each output escapes it in one place for
its own format (DOT in ``render``, charts in ``plots``, cells in ``export``);
the two rules they share are here: no control character is shown as is, and
markup escapes ``& < > " '``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._lazy import lazy_import

if TYPE_CHECKING:
    import html
else:  # markup only: a command that writes none starts without it
    html = lazy_import("html")

__all__ = ["printable", "html_text"]

# C0 and C1 control characters but tab and line break, lone surrogates and the two
# non-characters XML forbids: none may reach a terminal, an SVG or an HTML page as is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    r"""``text`` with every control character (but tab and line break) shown as the
    replacement character U+FFFD, so a model's text cannot steer a terminal or make
    an SVG, HTML or xlsx file malformed. Every output applies it to a model's text.

    >>> printable("cost\x1b[2J\r") == "cost\ufffd[2J\ufffd", printable("two\nlines")
    (True, 'two\nlines')
    """
    return _CONTROL.sub("\ufffd", text)


def html_text(text: str) -> str:
    """``text`` for HTML and XML markup (an HTML report, a Graphviz HTML-like label):
    control characters shown as U+FFFD, ``& < > " '`` escaped.

    >>> html_text('<script>"x"</script>')
    '&lt;script&gt;&quot;x&quot;&lt;/script&gt;'
    """
    return html.escape(printable(text), quote=True)
