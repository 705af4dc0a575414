"""Fill the plural entries of the French catalogue with their own French forms: `make messages` runs it.

French is the source language, yet its plural messages need a catalogue: without one, ngettext picks the
form with the English rule (n == 1 is singular), so French pages would say "0 créneaux" where French says
"0 créneau" (plural=(n > 1)). Each plural entry gets msgstr[0] = msgid and msgstr[1] = msgid_plural, copied
line by line (already quoted as the .po wants). Other entries stay empty, which gettext reads as "use the
msgid"; stale "fuzzy" guesses left by msgmerge are dropped so nothing outdated is ever compiled.

Usage: python scripts/french_plurals.py locale/fr/LC_MESSAGES/django.po
"""

from __future__ import annotations

import sys
from pathlib import Path


def _flags_without_fuzzy(line: str) -> str | None:
    flags = [flag.strip() for flag in line[2:].split(",") if flag.strip() and flag.strip() != "fuzzy"]
    return f"#, {', '.join(flags)}" if flags else None


def _fields(lines: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Comment lines, then each keyword's lines (its first line and the quoted continuation lines)."""
    comments: list[str] = []
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line.startswith("#"):
            comments.append(line)
        elif line.startswith('"'):
            assert current is not None, f"continuation line without a keyword: {line}"
            current.append(line)
        else:
            keyword = line.split(" ", 1)[0]
            current = fields.setdefault(keyword, [])
            current.append(line)
    return comments, fields


def _renamed(lines: list[str], keyword: str) -> list[str]:
    first, *rest = lines
    return [keyword + first[first.index(" ") :], *rest]


def entry_fill(block: str) -> str:
    lines = block.split("\n")
    comments, fields = _fields(lines)
    if "msgid" not in fields or (fields["msgid"] == ['msgid ""'] and "msgctxt" not in fields):
        return block  # The header, or an obsolete entry (#~).
    kept: list[str] = []
    for line in comments:
        if line.startswith("#|"):
            continue  # msgmerge's "previous msgid" of a fuzzy match.
        if line.startswith("#,"):
            flags = _flags_without_fuzzy(line)
            if flags:
                kept.append(flags)
            continue
        kept.append(line)
    kept += fields.get("msgctxt", [])
    kept += fields["msgid"]
    if "msgid_plural" in fields:
        kept += fields["msgid_plural"]
        kept += _renamed(fields["msgid"], "msgstr[0]")
        kept += _renamed(fields["msgid_plural"], "msgstr[1]")
    else:
        kept.append('msgstr ""')
    return "\n".join(kept)


def catalogue_fill(text: str) -> str:
    blocks = text.strip("\n").split("\n\n")
    return "\n\n".join(entry_fill(block) for block in blocks) + "\n"


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for name in paths:
        path = Path(name)
        path.write_text(catalogue_fill(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
