"""The Jinja2 templates of the HTML pages (``templates/``), rendered with escaping on.

One environment for the package's templates: every value a template prints is
escaped (autoescape) after its control characters are shown as U+FFFD
(:func:`~.text.printable`), so a model's text cannot break the page; markup the
code builds itself (the style sheet, an inline SVG chart) is marked ``|safe`` in
the template. Undefined names are errors, not empty text. The pages share the
report's style sheet, so a scenario comparison or a portfolio looks like the
report. Jinja2 is imported on the first page, not by the commands that write none.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .html_report import _CSS as REPORT_CSS  # the report's style sheet, one copy
from .text import printable

if TYPE_CHECKING:
    import jinja2

__all__ = ["render_page"]


@functools.cache
def _environment() -> jinja2.Environment:
    """The package's template environment, made on first use."""
    import jinja2

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
    """Every printed string with its control characters shown, markup (``|safe``) left
    as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
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
    page = _environment().get_template(template)
    return page.render(css=REPORT_CSS, version=__version__, **context)
