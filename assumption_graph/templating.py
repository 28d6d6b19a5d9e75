"""The Jinja2 templates of the HTML pages (``templates/``), rendered with escaping on.

One environment for the package's templates: every value a template prints is
escaped (autoescape) after its control characters are shown as U+FFFD
(:func:`~.text.printable`), so a model's text cannot break the page; markup the
code builds itself (an inline SVG chart) is passed as :class:`markupsafe.Markup`.
Undefined names are errors, not empty text. The pages share the report's style
sheet, so a scenario comparison or a portfolio looks like the report.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup

from ._version import __version__
from .html_report import _CSS as REPORT_CSS  # the report's style sheet, one copy
from .text import printable

__all__ = ["render_page", "Markup"]


@functools.cache
def _environment() -> jinja2.Environment:
    """The package's template environment, made on first use."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("assumption_graph", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_printable,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _printable(value: Any) -> Any:
    """Every printed string with its control characters shown, markup left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def render_page(template: str, **context: Any) -> str:
    """The page ``template`` (a file in ``templates/``) filled with ``context``; the
    report's style sheet and the package version are given to every page.

    >>> page = render_page("scenarios.html.j2", title="<b>", facts=[], scenarios=[], figures=[],
    ...                    note="")
    >>> "<title>&lt;b&gt;</title>" in page and "border-collapse" in page
    True
    """
    return (
        _environment()
        .get_template(template)
        .render(css=Markup(REPORT_CSS), version=__version__, **context)
    )
