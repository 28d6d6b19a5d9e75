"""HTML pages from the package's Jinja2 templates: the static report and the live page.

The templates in ``assumption_graph/templates/`` hold the markup: ``base.html.j2``
the page every HTML output shares (head, styles, header, contents, sections),
``macros.html.j2`` the pieces (notes, fact lists, tables, charts), and
``sections/`` one template per section. A :class:`Section` names its template
and the data it shows, so the report and the live page render the same section
from the same template, and the live page can send one section again on its own.

Every text put in a template goes through :func:`~assumption_graph.text.html_text`
(escaped, control characters shown as symbols); markup made here (inline SVG)
is passed as :class:`markupsafe.Markup` and put in as is.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from ._version import __version__
from .text import html_text

__all__ = ["Markup", "Section", "environment", "render_element", "render_page", "render_section"]


@dataclass(frozen=True)
class Section:
    """One section of a page: its element id, title, template (in ``sections/``) and data."""

    id: str
    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


def _finalize(value: object) -> object:
    """Every ``{{ value }}``: a text escaped by ``html_text``, markup and numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html_text(value))
    return value


@functools.cache
def environment() -> jinja2.Environment:
    """The templates' environment (one per process): autoescaped, texts through ``html_text``."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assumption_graph", "templates"),
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["section_body"] = render_section
    env.globals["version"] = __version__
    return env


def render_section(section: Section) -> Markup:
    """The body of ``section`` (what goes under its heading), as markup."""
    template = environment().get_template(f"sections/{section.template}.html.j2")
    return Markup(template.render(section.context).strip())


def render_element(section: Section, tag: str = "section", heading: str = "h2") -> str:
    """``section`` as its own element, heading and body: what the live page sends again."""
    macros = environment().get_template("macros.html.j2").module
    return str(macros.section_element(section, tag, heading))  # type: ignore[attr-defined]


def render_page(template: str, title: str, **context: Any) -> str:
    """A whole page from ``template`` (``report.html.j2``, ``live.html.j2``, ...).

    A page built on ``base.html.j2`` as it is takes ``first`` (the summary, under
    the ``h1``) and ``sections`` (the rest, listed in the contents).
    """
    return environment().get_template(template).render(title=title, **context)
