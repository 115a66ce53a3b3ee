"""``flask translate``: extract, update, compile and check the catalogs."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import Flask, current_app
from flask.cli import AppGroup

group = AppGroup("translate", help="Translation catalogs.")


def _root() -> Path:
    return Path(current_app.root_path).parent


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def _extract(pot: Path | None = None) -> Path:
    root = _root()
    pot = pot or root / "translations" / "messages.pot"
    _pybabel(
        "extract", "-F", str(root / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "--no-location", "--sort-output", "--project", "breach-portal",
        "-o", str(pot), str(root),
    )
    return pot


def _template_ids(pot: Path) -> set[str]:
    with pot.open("rb") as handle:
        return {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(handle)
            if message.id
        }


def catalog_problems(translations: Path, languages, expected: set[str] | None = None) -> list[str]:
    """List every untranslated, fuzzy or missing entry of the non-English catalogs.

    ``expected`` holds the message ids extracted from the source now; any that a
    catalog lacks is reported as missing (the catalogs need ``translate update``).
    """
    problems = []
    for lang in languages:
        if lang == "en":
            continue
        po = translations / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            problems.append(f"{lang}: catalog missing ({po})")
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        present = set()
        for message in catalog:
            if not message.id:
                continue
            label = message.id if isinstance(message.id, str) else message.id[0]
            present.add(label)
            strings = message.string if isinstance(message.string, tuple | list) else [
                message.string
            ]
            if message.fuzzy:
                problems.append(f"{lang}: fuzzy: {label!r}")
            elif not all(strings):
                problems.append(f"{lang}: untranslated: {label!r}")
        for label in sorted((expected or set()) - present):
            problems.append(f"{lang}: missing (run translate update): {label!r}")
    return problems


def same_as_english(translations: Path, languages) -> list[str]:
    """List every non-English entry whose translation is its English text, unless allowed.

    ``translations/same_as_english.txt`` lists the legitimate ones (``lang<TAB>msgid``,
    e.g. "PDF" or German "Status"); everything else is an untranslated string in disguise.
    """
    allowed = set()
    allowlist = translations / "same_as_english.txt"
    if allowlist.exists():
        for line in allowlist.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                lang, _sep, msgid = line.partition("\t")
                allowed.add((lang, msgid))
    found = []
    for lang in languages:
        po = translations / lang / "LC_MESSAGES" / "messages.po"
        if lang == "en" or not po.exists():
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if not message.id or message.string != message.id:
                continue
            label = message.id if isinstance(message.id, str) else message.id[0]
            if (lang, label) not in allowed:
                found.append(f"{lang}: same as English: {label!r}")
    return found


@group.command("update")
def update() -> None:
    """Extract strings and merge them into every catalog."""
    pot = _extract()
    root = _root() / "translations"
    for lang in current_app.config["LANGUAGES"]:
        po = root / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _pybabel("update", "-i", str(pot), "-d", str(root), "-l", lang, "--no-fuzzy-matching")
        else:
            _pybabel("init", "-i", str(pot), "-d", str(root), "-l", lang)


@group.command("compile")
def compile_() -> None:
    """Compile every catalog to .mo files."""
    _pybabel("compile", "-d", str(_root() / "translations"), "--statistics")


@group.command("check")
def check() -> None:
    """Fail when any catalog lacks, leaves untranslated or marks fuzzy an entry."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        expected = _template_ids(_extract(Path(tmp) / "messages.pot"))
    problems = catalog_problems(
        _root() / "translations", current_app.config["LANGUAGES"], expected
    )
    for warning in same_as_english(_root() / "translations", current_app.config["LANGUAGES"]):
        click.echo(f"warning: {warning} (translate it, or list it in same_as_english.txt)",
                   err=True)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} translation problems", err=True)
        sys.exit(1)
    click.echo("all catalogs complete")


def register(app: Flask) -> None:
    app.cli.add_command(group)
