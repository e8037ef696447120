"""Writes the e-mails of K23 from their jinja2 templates, in French.

Each :class:`NotificationKind` has three templates in the package's ``templates`` folder:
``<kind>.subject.txt`` (one line), ``<kind>.txt`` (plain text) and ``<kind>.html`` (HTML, on
``layout.html``). The HTML environment autoescapes (``select_autoescape(["html"])``), so an
organisation's name or an operator's words cannot inject markup; subject and text are rendered
by a second environment that does not escape, as they are not HTML.

Both environments use :class:`jinja2.StrictUndefined` and refuse to print None, so no e-mail
goes out with a blank, ``None`` or a half-written sentence; before rendering, the variables are
checked against :data:`REQUIRED_VARIABLES` and a :class:`MissingVariableError` names every
missing one. Filters for dates in the organisation's zone, counts and labels are in
:mod:`kairos_notification.adapters.french`.

The subject is made one line (whitespace collapsed, so no header can be injected through a
variable) and cut to :data:`MAX_SUBJECT_LENGTH` characters with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kairos_notification.adapters.french import FILTERS
from kairos_notification.domain.notifications import (
    MissingVariableError,
    NotificationKind,
    RenderedEmail,
    require_variables,
)

__all__ = [
    "GLOBAL_NAMES",
    "MAX_SUBJECT_LENGTH",
    "MissingVariableError",
    "RenderedEmail",
    "TemplateRenderer",
    "one_line_subject",
    "template_names",
]

MAX_SUBJECT_LENGTH = 120
GLOBAL_NAMES = frozenset({"platform_url"})
"""Names every template may use that the renderer provides (from configuration), not callers."""


def template_names(kind: NotificationKind) -> tuple[str, str, str]:
    """The subject, text and HTML templates of ``kind``."""
    return f"{kind.value}.subject.txt", f"{kind.value}.txt", f"{kind.value}.html"


def _refuse_none(value: object) -> object:
    if value is None:
        raise ValueError("a template printed None: a variable it needs was given as None")
    return value


def _environment(*, escape_html: bool, platform_url: str | None) -> Environment:
    environment = Environment(
        loader=PackageLoader("kairos_notification", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]) if escape_html else False,  # noqa: S701 - text is not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_refuse_none,
    )
    environment.filters.update(FILTERS)
    environment.globals["platform_url"] = platform_url
    return environment


def one_line_subject(rendered: str) -> str:
    """The subject on one line (whitespace collapsed), cut to :data:`MAX_SUBJECT_LENGTH`."""
    subject = " ".join(rendered.split())
    if len(subject) > MAX_SUBJECT_LENGTH:
        subject = subject[: MAX_SUBJECT_LENGTH - 1].rstrip() + "…"
    return subject


class TemplateRenderer:
    """Renders a kind's subject, text and HTML from its variables.

    ``platform_url``, when configured, is shown in every e-mail's footer as the address of
    Kairos (never a link carrying a token).
    """

    def __init__(self, *, platform_url: str | None = None) -> None:
        self._html = _environment(escape_html=True, platform_url=platform_url)
        self._text = _environment(escape_html=False, platform_url=platform_url)

    def render(self, kind: NotificationKind, variables: Mapping[str, object]) -> RenderedEmail:
        """The e-mail of ``kind`` written with ``variables`` (extra variables are ignored).

        Raises :class:`MissingVariableError` before rendering when a needed variable is absent.
        """
        kind = NotificationKind(kind)
        require_variables(kind, variables.keys())
        context = dict(variables)
        subject_name, text_name, html_name = template_names(kind)
        return RenderedEmail(
            subject=one_line_subject(self._text.get_template(subject_name).render(context)),
            text=self._text.get_template(text_name).render(context),
            html=self._html.get_template(html_name).render(context),
        )
