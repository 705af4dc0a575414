"""Fill the plural entries of the French catalogue with their own French forms: `make messages` runs it.

French is the source language, yet its plural messages need a catalogue: without one, ngettext picks the
form with the English rule (n == 1 is singular), so French pages would say "0 créneaux" where French says
"0 créneau" (plural=(n > 1)). Each plural entry gets msgstr[0] = msgid and msgstr[1] = msgid_plural. Other
entries stay empty, which gettext reads as "use the msgid"; stale "fuzzy" guesses left by msgmerge are
dropped so nothing outdated is ever compiled.

Usage: python scripts/french_plurals.py locale/fr/LC_MESSAGES/django.po
"""

from __future__ import annotations

import sys

import polib


def catalogue_fill(catalogue: polib.POFile) -> None:
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        # msgmerge's "previous msgid" of a fuzzy match.
        entry.previous_msgctxt = entry.previous_msgid = entry.previous_msgid_plural = None
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = ""


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    for path in paths:
        catalogue = polib.pofile(path, wrapwidth=79)
        catalogue_fill(catalogue)
        catalogue.save(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
