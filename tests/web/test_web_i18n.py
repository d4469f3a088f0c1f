"""One message catalogue: every string of the web page's templates and modules is translated into French,
and the compiled catalogue the server reads is the one its .po says."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "web" / "locale" / "fr" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.j2", "jinja2")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "web", method_map, options_map=options, keywords=KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_string_has_a_french_translation() -> None:
    with (LOCALE / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id: m.string for m in catalog if m.id}
    extracted = _extracted()
    assert len(extracted) > 50
    missing = sorted(i for i in extracted if not translated.get(i))
    assert not missing, f"not translated in messages.po: {missing}"


def test_the_compiled_catalogue_matches_its_po() -> None:
    def entries(catalog) -> dict:  # noqa: ANN001
        return {m.id if isinstance(m.id, str) else tuple(m.id):
                m.string if isinstance(m.string, str) else tuple(m.string) for m in catalog if m.id}

    with (LOCALE / "messages.po").open("rb") as fh:
        po = entries(read_po(fh))
    with (LOCALE / "messages.mo").open("rb") as fh:
        mo = entries(read_mo(fh))
    assert mo == po, "run: uv run pybabel compile -d web/locale -D messages"
