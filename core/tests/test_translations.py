"""Every language is complete: `makemessages`, run on a copy of the tree, finds no string that
is new, untranslated or fuzzy, and the committed .mo files are what the .po files compile to.

It needs GNU gettext (makemessages and msgfmt are gettext's programs); CI installs it, and only
on a machine without it is this skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="GNU gettext is not installed (apt-get install gettext)"
)

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
LANGUAGES = sorted(path.name for path in LOCALE.iterdir() if path.is_dir())
NOT_SOURCES = (".*", "staticfiles", "test-results", "node_modules", "*.sqlite3*", "__pycache__")


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tree after `make messages` (the Makefile's own target, run there)."""
    copy = tmp_path_factory.mktemp("messages") / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    # `-o .venv/.dev`: the copy's packages are this interpreter's; make must not install any.
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.dev", "messages", f"PY={sys.executable}"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return copy / "locale"


def test_there_is_a_language_besides_english() -> None:
    assert "ru" in LANGUAGES
    assert {code for code, _ in settings.LANGUAGES} == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_is_translated(collected: Path, language: str, domain: str) -> None:
    po = collected / language / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():  # no string of this domain anywhere yet: nothing to translate
        assert not (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").exists()
        return
    for flag, what in (("--untranslated", "untranslated"), ("--only-fuzzy", "fuzzy")):
        found = subprocess.run(
            ["msgattrib", flag, "--no-wrap", str(po)], capture_output=True, text=True, check=True
        ).stdout
        entries = [
            line for line in found.splitlines() if line.startswith("msgid ") and line != 'msgid ""'
        ]
        assert not entries, f"{len(entries)} {what} in {language}/{domain}.po: run `make messages`"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_committed_files_are_current(collected: Path, language: str, domain: str) -> None:
    """The committed .po holds every string `make messages` collects (but for the date it
    stamps), and the committed .mo is what that .po compiles to."""
    fresh = collected / language / "LC_MESSAGES" / f"{domain}.po"
    committed = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    assert fresh.exists() == committed.exists(), f"{committed}: run `make messages`"
    if not fresh.exists():
        return
    assert _undated(fresh) == _undated(committed), f"{committed}: run `make messages`"
    compiled = collected.parent / f"{language}-{domain}.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(committed)], check=True)
    assert compiled.read_bytes() == committed.with_suffix(".mo").read_bytes(), (
        f"{committed.with_suffix('.mo')}: run `make messages`"
    )


def _undated(po: Path) -> list[str]:
    return [line for line in po.read_text().splitlines() if "POT-Creation-Date" not in line]
