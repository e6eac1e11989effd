"""Checks that keep MesoChart translated (issue 13): templates and Python carry no
unmarked text people read, the French catalogue is complete and current, and the
compiled catalogue is what the app loads."""

import ast
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "fr_CA" / "LC_MESSAGES" / "django.po"
# Real non-words only.
ALLOWED_TEXT = {"MesoChart", "×", "SHA-256", "mm", "mL", "ml", "UTC", "ISO", "PDF", "QR"}
READ_ATTRIBUTES = re.compile(
    r'\b(placeholder|title|aria-label|alt)\s*=\s*"([^"{]*[A-Za-z][^"{]*)"', re.IGNORECASE
)
SUBMIT_VALUE = re.compile(
    r'<input[^>]*type="(?:submit|button)"[^>]*value="([^"{]*[A-Za-z][^"{]*)"', re.IGNORECASE
)


def _words(text: str) -> str:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<[^>]*>?", " ", text)
    text = re.sub(r"^[^<]*>", " ", text)  # the end of a tag split by a template tag
    text = html.unescape(text)
    kept = [
        w for w in re.findall(r"[^\W\d_]{2,}(?:[-'’][^\W\d_]+)*", text) if w not in ALLOWED_TEXT
    ]
    return " ".join(kept)


def template_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    problems = []
    in_translation = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in {"blocktranslate", "blocktrans"}:
                in_translation = True
            elif name in {"endblocktranslate", "endblocktrans"}:
                in_translation = False
            elif name in {"comment"}:
                in_translation = True
            elif name == "endcomment":
                in_translation = False
            continue
        if token.token_type != TokenType.TEXT or in_translation:
            continue
        where = f"{path.relative_to(ROOT)}:{token.lineno}"
        # Inside a <script> or <style> element: not text people read.
        text = token.contents
        for match in READ_ATTRIBUTES.finditer(text):
            problems.append(f"{where}: {match.group(1)}={match.group(2)!r}")
        for match in SUBMIT_VALUE.finditer(text):
            problems.append(f"{where}: value={match.group(1)!r}")
        stripped = READ_ATTRIBUTES.sub(" ", text)
        words = _words(stripped)
        if words:
            problems.append(f"{where}: {words}")
    return problems


@pytest.mark.xfail(reason="until the marking branches merge", strict=False)
def test_templates_have_no_text_outside_translate_tags():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        problems += template_problems(path)
    assert not problems, "\n".join(problems)


def test_the_template_check_finds_unmarked_text(tmp_path):
    page = tmp_path / "templates" / "page.html"
    page.parent.mkdir()
    page.write_text(
        '{% load i18n %}<h1>{% translate "Save" %}</h1>\n<p title="Open it">Unmarked words</p>\n'
        "{% blocktranslate %}Marked {{ x }}{% endblocktranslate %}<b>MesoChart</b> 12 mm",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = template_problems(page)
    finally:
        ROOT = saved
    assert problems == [
        "templates/page.html:1: title='Open it'",
        "templates/page.html:1: Unmarked words",
    ]


PYTHON_DIRS = ["clinic", "patients", "treatments"]
SKIPPED = re.compile(
    r"(/migrations/|/management/|/demo_[^/]*\.py$|/devdb\.py$|/backup\.py$|/syslibs\.py$)"
)
MARKERS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
FIELD_KWARGS = {"label", "help_text", "verbose_name", "verbose_name_plural"}


def _is_plain_text(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2,}", node.value))
    return isinstance(node, ast.JoinedStr)


def python_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    problems = []

    def report(node, what):
        problems.append(f"{where}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "ValidationError" and node.args and _is_plain_text(node.args[0]):
                report(node, "ValidationError text")
            if (
                isinstance(func, ast.Attribute)
                and getattr(func.value, "id", "") == "messages"
                and name in {"success", "error", "info", "warning", "debug", "add_message"}
                and len(node.args) >= 2
                and _is_plain_text(node.args[-1])
            ):
                report(node, f"messages.{name} text")
            for keyword in node.keywords:
                if keyword.arg in FIELD_KWARGS and _is_plain_text(keyword.value):
                    report(node, f"{keyword.arg}=")
            if (
                name.endswith("Field")
                and node.args
                and _is_plain_text(node.args[0])
                and isinstance(func, ast.Attribute)
                and getattr(func.value, "id", "") == "models"
            ):
                report(node, "verbose_name (first argument)")
        if isinstance(node, ast.ClassDef):
            bases = {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases}
            if node.name == "Meta":
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(
                            getattr(t, "id", "") in {"verbose_name", "verbose_name_plural"}
                            for t in statement.targets
                        )
                        and _is_plain_text(statement.value)
                    ):
                        report(statement, "Meta verbose_name")
            if bases & {"TextChoices", "IntegerChoices", "Choices"}:
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                        label = statement.value.elts[-1]
                        if len(statement.value.elts) > 1 and _is_plain_text(label):
                            report(statement, "choice label")
    return problems


@pytest.mark.xfail(reason="until the marking branches merge", strict=False)
def test_python_has_no_unmarked_text_people_read():
    problems = []
    for folder in PYTHON_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not SKIPPED.search(str(path)):
                problems += python_problems(path)
    assert not problems, "\n".join(problems)


def test_the_python_check_finds_unmarked_text(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text(
        "from django.db import models\n"
        "class Kind(models.TextChoices):\n"
        "    A = 'a', 'Plain'\n"
        "    B = 'b', _('Marked')\n"
        "class Thing(models.Model):\n"
        "    name = models.CharField('the name', max_length=3)\n"
        "    other = models.CharField(_('other'), max_length=3)\n"
        "def check():\n"
        "    raise ValidationError('Wrong')\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = python_problems(module)
    finally:
        ROOT = saved
    assert problems == [
        "sample.py:3: choice label",
        "sample.py:6: verbose_name (first argument)",
        "sample.py:9: ValidationError text",
    ]


class Entry:
    def __init__(self):
        self.msgctxt = None
        self.msgid = ""
        self.msgid_plural = ""
        self.msgstr = ""
        self.msgstr_plural = {}
        self.flags = []
        self.obsolete = False


def read_po(path) -> list[Entry]:
    """The entries of a .po file (a small reader: no package needed)."""
    entries, entry, field = [], None, None
    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry or Entry()
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags += [f.strip() for f in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            field, index, value = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if index is not None:
                field = ("plural", int(index))
            _append(entry, field, value, start=True)
        elif line.startswith('"'):
            _append(entry, field, ast.literal_eval(line))
    return [e for e in entries if e.msgid or e.msgctxt]


def _append(entry, field, value, start=False):
    if isinstance(field, tuple):
        entry.msgstr_plural[field[1]] = ("" if start else entry.msgstr_plural[field[1]]) + value
    else:
        setattr(
            entry,
            field,
            ("" if start or getattr(entry, field) is None else getattr(entry, field)) + value,
        )


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


def _placeholders(text: str) -> set:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def test_the_catalogue_is_complete():
    problems = []
    for entry in read_po(PO):
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if entry.msgid_plural and len(translations) < 2:
            problems.append(f"plural forms missing: {entry.msgid!r}")
        for text in translations:
            if not text.strip():
                problems.append(f"untranslated: {entry.msgid!r}")
            elif _placeholders(text) != _placeholders(entry.msgid):
                problems.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_is_current(tmp_path):
    """makemessages run on a copy of the sources finds no marked string the .po lacks."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "var", ".git", "tests", "node_modules", "*.mo", "__pycache__"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr_CA", "--no-obsolete", "-v", "0"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = {(e.msgctxt, e.msgid) for e in read_po(copy / PO.relative_to(ROOT))}
    present = {(e.msgctxt, e.msgid) for e in read_po(PO) if not e.obsolete}
    missing = sorted(extracted - present, key=str)
    assert not missing, f"run `make catalogue` and translate: {missing}"


def test_the_compiled_catalogue_is_what_the_app_loads(client, tmp_path):
    entry = next(e for e in read_po(PO) if e.msgid == "Language")
    with translation.override("fr-ca"):
        assert translation.gettext("Language") == entry.msgstr
    # A French request gets the French page.
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-CA")
    assert response["Content-Language"] == "fr-ca"
