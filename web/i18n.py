"""Two languages through one message catalogue (gettext, compiled with Babel): French and English, per user."""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
DOMAIN = "messages"
DEFAULT = "fr"


@lru_cache(maxsize=4)
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of a language; English is the source language (msgids), so it needs none."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


@lru_cache(maxsize=4)
def environment(language: str) -> Environment:
    """One Jinja environment per language, every string through gettext, everything escaped."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = language
    return env


def gettext_for(language: str):  # noqa: ANN201 - a plain function str -> str
    return translations(language).gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translated where shown"
    return message


# Words that reach templates as values (roles, stage states, review states): listed here for the catalogue.
VALUES = [N_("coordinator"), N_("technician"), N_("producer"), N_("planned"), N_("in_progress"), N_("done"),
          N_("late"), N_("blocked"), N_("pending"), N_("accepted"), N_("corrected"), N_("rejected")]
