"""Everything people read is marked for translation, and the French catalogue has it all.

- Templates: Django's own lexer splits each template into text and tags; any word left in
  the text (outside {% translate %} / {% blocktranslate %}) or in an attribute people read
  (placeholder, title, aria-label, alt, a button's value) is an unmarked string.
- Python: a walk over the syntax tree of the app code finds literal strings where people
  read them (ValidationError, messages.*, form labels and help texts, verbose names,
  choices labels) that are not wrapped in a gettext call.
- The catalogue: every message has its French (every plural form), nothing fuzzy, the same
  placeholders as the English, and no marked string is missing from it (makemessages is
  run into a scratch copy and compared).
"""

from __future__ import annotations

import ast
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "locale" / "fr_CA" / "LC_MESSAGES" / "django.po"

# Text that is the same in both languages: the product's name, symbols, units, codes.
NOT_WORDS = {
    "MesoChart",
    "SHA-256",
    "TOTP",
    "PDF",
    "CSV",
    "FHIR",
    "JSON",
    "mm",
    "cm",
    "kg",
    "ml",
    "mL",
    "mg",
    "UI",
    "IU",
    "µg",
    "mcg",
    # a needle's gauge, as in 30G
    "G",
}
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")

# Inside a text token: comments, scripts and styles hold no prose to translate.
_SKIPPED_BLOCKS = re.compile(
    r"<!--.*?-->|<script\b[^>]*>.*?</script>|<style\b[^>]*>.*?</style>", re.S | re.I
)
_TAG = re.compile(r"<[^>]*>", re.S)
_ATTRIBUTE = re.compile(
    r"""\b(""" + "|".join(READ_ATTRIBUTES) + r""")\s*=\s*("([^"]*)"|'([^']*)')""", re.I
)
_BUTTON_VALUE = re.compile(
    r"""<input\b[^>]*\btype\s*=\s*["'](?:submit|button|reset)["'][^>]*>""", re.I | re.S
)
_VALUE = re.compile(r"""\bvalue\s*=\s*("([^"]*)"|'([^']*)')""", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.U)


def _words(text: str) -> list[str]:
    text = html.unescape(text)
    return [word for word in _WORD.findall(text) if word not in NOT_WORDS]


def _without_template_code(source: str) -> str:
    """The template's HTML with every tag and variable (and all of a {% blocktranslate %}
    or {% comment %}) replaced by a NUL, keeping the newlines so positions keep their line."""
    pieces = []
    skipping = 0
    for token in Lexer(source).tokenize():
        raw = token.contents
        if token.token_type == TokenType.BLOCK:
            name = raw.split()[0] if raw else ""
            if name in {"blocktranslate", "blocktrans", "comment"}:
                skipping += 1
            elif name in {"endblocktranslate", "endblocktrans", "endcomment"}:
                skipping -= 1
        if token.token_type == TokenType.TEXT and not skipping:
            pieces.append(raw)
        else:
            pieces.append("\x00" + "\n" * raw.count("\n"))
    return "".join(pieces)


def unmarked_template_text(source: str) -> list[tuple[int, str]]:
    """(line, text) for each piece of readable text outside the translation tags."""
    text = _without_template_code(source)
    text = _SKIPPED_BLOCKS.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    found = []

    def report(position: int, piece: str) -> None:
        words = _words(piece)
        if words:
            found.append((text.count("\n", 0, position) + 1, " ".join(words)))

    for tag in _TAG.finditer(text):
        for match in _ATTRIBUTE.finditer(tag.group(0)):
            report(tag.start(), match.group(3) if match.group(3) is not None else match.group(4))
        if _BUTTON_VALUE.fullmatch(tag.group(0)):
            value = _VALUE.search(tag.group(0))
            if value:
                report(
                    tag.start(), next(group for group in value.groups()[1:] if group is not None)
                )
    outside_tags = _TAG.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    for line_number, line in enumerate(outside_tags.split("\n"), start=1):
        words = _words(line)
        if words:
            found.append((line_number, " ".join(words)))
    return sorted(found)


def test_the_checker_finds_unmarked_text_and_accepts_marked_text():
    source = (
        '{% load i18n %}<h1>{% translate "Patients" %}</h1>\n'
        "<p>Signed by {{ name }}</p>\n"
        '<input type="search" placeholder="Search">\n'
        '<input type="submit" value="Save">\n'
        '<a title="{% translate "Back" %}">{{ x }}</a>\n'
        "{% blocktranslate trimmed %}Page {{ n }} of {{ m }}{% endblocktranslate %}\n"
        "<script>const a = 'not prose';</script><!-- a comment --> — 12 mm ×\n"
    )
    assert unmarked_template_text(source) == [(2, "Signed by"), (3, "Search"), (4, "Save")]


def _template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_every_template_string_is_marked_for_translation():
    problems = []
    for path in _template_files():
        for line, text in unmarked_template_text(path.read_text()):
            problems.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert not problems, "Text not marked for translation:\n" + "\n".join(problems)


# --- Python -----------------------------------------------------------------------------

PYTHON_PACKAGES = ("clinic", "patients", "treatments", "reports", "demo", "operations")
# Operator tools and machinery: their output is for whoever runs the server, in English.
PYTHON_SKIPPED = re.compile(
    r"(^|/)(migrations|management|demo)/|/(devdb|backup|syslibs|gunicorn\.conf|settings|"
    r"wsgi|dbroles|sessions|auth_backend)\.py$"
)
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "format_lazy",
}
READ_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
MESSAGE_FUNCTIONS = {"success", "error", "warning", "info", "add_message"}


def _is_text(node: ast.AST) -> bool:
    """A literal (or f-string) holding at least one word (units and symbols are not)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words(node.value))
    return isinstance(node, ast.JoinedStr)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def unmarked_python_strings(source: str) -> list[tuple[int, str]]:
    """(line, what) for literal strings people read that no gettext call wraps."""
    tree = ast.parse(source)
    found = []

    def report(node: ast.AST, what: str) -> None:
        if _is_text(node):
            found.append((node.lineno, what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in GETTEXT_NAMES:
                continue
            if called == "ValidationError" and node.args:
                report(node.args[0], "ValidationError message")
            if (
                called in MESSAGE_FUNCTIONS
                and isinstance(node.func, ast.Attribute)
                and _name(node.func.value) == "messages"
            ):
                for argument in node.args[1:]:
                    report(argument, f"messages.{called}")
            for keyword in node.keywords:
                if keyword.arg in READ_KEYWORDS:
                    report(keyword.value, keyword.arg)
            # A model field's verbose name given first: models.BooleanField("pregnancy").
            if (
                called.endswith("Field")
                and node.args
                and isinstance(node.func, ast.Attribute)
                and _name(node.func.value) == "models"
            ):
                report(node.args[0], "verbose name")
        elif isinstance(node, ast.ClassDef):
            bases = {_name(base) for base in node.bases}
            if bases & {"TextChoices", "IntegerChoices", "Choices"}:
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and isinstance(statement.value, ast.Tuple)
                        and len(statement.value.elts) >= 2
                    ):
                        report(statement.value.elts[-1], f"{node.name} choice label")
            if node.name == "Meta":
                for statement in node.body:
                    if isinstance(statement, ast.Assign):
                        targets = {_name(target) for target in statement.targets}
                        if targets & {"verbose_name", "verbose_name_plural"}:
                            report(statement.value, "Meta verbose name")
    return sorted(found)


def test_the_python_checker_finds_unmarked_strings():
    source = (
        "from django.utils.translation import gettext_lazy as _\n"
        "class Kind(models.TextChoices):\n"
        '    A = "a", "Apple"\n'
        '    B = "b", _("Banana")\n'
        'x = models.BooleanField("pregnancy", default=False)\n'
        'y = models.BooleanField(_("anticoagulant"))\n'
        'raise ValidationError(f"Lot {n} expired", code="expired")\n'
        'raise ValidationError(_("Lot %(n)s expired"), code="expired")\n'
        'messages.success(request, "Saved.")\n'
        'field = forms.CharField(label="Name", help_text=_("As on the card"))\n'
        'z = forms.CharField(label="")\n'
    )
    assert unmarked_python_strings(source) == [
        (3, "Kind choice label"),
        (5, "verbose name"),
        (7, "ValidationError message"),
        (9, "messages.success"),
        (10, "label"),
    ]


def _python_files() -> list[Path]:
    files = []
    for package in PYTHON_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not PYTHON_SKIPPED.search(path.relative_to(ROOT).as_posix()):
                files.append(path)
    return files


def test_every_python_string_people_read_is_marked_for_translation():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _python_files()
        for line, what in unmarked_python_strings(path.read_text())
    ]
    assert not problems, "Strings not marked for translation:\n" + "\n".join(problems)


# --- The catalogue ------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


def _entries() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(CATALOGUE)) if not entry.obsolete]


def test_every_message_has_its_french():
    problems = []
    for entry in _entries():
        where = entry.msgid[:60]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {where!r}")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if entry.msgid_plural and len(translations) < 2:
            problems.append(f"a plural form is missing: {where!r}")
        for french in translations:
            if not french.strip():
                problems.append(f"no French: {where!r}")
                continue
            english = set(_PLACEHOLDER.findall(entry.msgid))
            if entry.msgid_plural:
                english |= set(_PLACEHOLDER.findall(entry.msgid_plural))
                # French singular may say "une" where English says "%(count)s".
                if not set(_PLACEHOLDER.findall(french)) <= english:
                    problems.append(f"placeholders differ: {where!r}")
            elif set(_PLACEHOLDER.findall(french)) != english:
                problems.append(f"placeholders differ: {where!r} -> {french[:60]!r}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_every_marked_string(tmp_path):
    """makemessages into a scratch copy finds no message the committed catalogue lacks."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", "var", ".git", "tests", "__pycache__", "*.mo")
    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    result = subprocess.run(  # noqa: S603  # nosec B603
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "fr_CA",
            "--no-obsolete",
            "--ignore",
            "var/*",
            "-v",
            "0",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(copy / "locale" / "fr_CA" / "LC_MESSAGES" / "django.po"))
    committed = {(entry.msgctxt, entry.msgid) for entry in _entries()}
    missing = [entry.msgid[:80] for entry in fresh if (entry.msgctxt, entry.msgid) not in committed]
    assert not missing, "Marked but not in the catalogue (run `make catalogue`):\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("language", ["fr-ca", "fr-CA"])
def test_the_compiled_catalogue_is_the_one_loaded(language):
    entry = next(entry for entry in _entries() if not entry.msgid_plural and not entry.msgctxt)
    with translation.override(language):
        assert translation.gettext(entry.msgid) == entry.msgstr
    with translation.override("en"):
        assert translation.gettext(entry.msgid) == entry.msgid
