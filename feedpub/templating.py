"""The Jinja2 environment: the user's own templates first, then feedpub's defaults.

A file in the site's templates folder (``[paths] templates``, default ``templates/``)
replaces the default of the same name whole. To change one part only, extend the
default under its ``default:`` name and override one block::

    {% extends "default:digest.html.j2" %}
    {% block footer %}{{ super() }}<p>Thanks for reading!</p>{% endblock %}

Templates ending in ``.html``, ``.htm``, ``.xml``, ``.html.j2`` or ``.xml.j2`` are
autoescaped; text templates (``.txt.j2``) and CSS are not. Undefined variables are
errors (a typo in a user template fails loudly instead of printing nothing).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from .config import Config
from .errors import FeedpubError

DEFAULTS = Path(__file__).resolve().parent / "templates"
DEFAULT_PREFIX = "default"

AUTOESCAPE = jinja2.select_autoescape(
    enabled_extensions=("html", "htm", "xml", "html.j2", "xml.j2"),
    disabled_extensions=("txt", "txt.j2", "css"),
    default_for_string=False,
    default=False,
)


class TemplateError(FeedpubError):
    """A template is missing, has a syntax error, or failed while rendering."""


def user_templates_dir(config: Config | None) -> Path | None:
    if config is None:
        return None
    return config.path(config.paths.templates)


def environment(config: Config | None = None, *, user_dir: Path | None = None) -> jinja2.Environment:
    """The environment for ``config``'s site (or ``user_dir``); defaults only without either.

    Environments are cached per folder (compiled templates are reused); Jinja still
    notices edited template files by their modification time.
    """
    user_dir = user_dir or user_templates_dir(config)
    if user_dir is None or not user_dir.is_dir():
        return _environment("", ())
    # The file names are part of the key: a template added later must win over a cached default.
    return _environment(str(user_dir), tuple(sorted(p.name for p in user_dir.iterdir())))


@functools.lru_cache(maxsize=16)
def _environment(user_dir: str, names: tuple[str, ...]) -> jinja2.Environment:
    defaults = jinja2.FileSystemLoader(str(DEFAULTS))
    loaders: list[jinja2.BaseLoader] = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.PrefixLoader({DEFAULT_PREFIX: defaults}, delimiter=":"))
    loaders.append(defaults)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=AUTOESCAPE,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["underline"] = underline
    return env


def underline(text: object, char: str = "-") -> str:
    """``{{ title | underline("=") }}``: a rule as long as the text, for plain-text headings."""
    return char * len(str(text))


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name``; turn Jinja's errors into a TemplateError naming file and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error: {exc.message}",
            path=exc.filename or exc.name or name,
            line=exc.lineno,
            hint="fix the template, or delete it from your templates folder to use the default",
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template {exc.name!r} not found (looked in your templates folder, then feedpub's defaults)",
            path=name,
            hint="a user template may extend a default as \"default:<name>\"",
        ) from None
    except jinja2.UndefinedError as exc:
        where, line = _template_frame(exc, name)
        raise TemplateError(
            f"template error: {exc.message}",
            path=where,
            line=line,
            hint="check the variable names your template uses against the default template",
        ) from None


def _template_frame(exc: BaseException, name: str) -> tuple[str, int | None]:
    """The innermost template file and line in the traceback of a render error."""
    where, line = name, None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".txt", ".css", ".xml")):
            where, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return where, line
