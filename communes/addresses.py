"""Postal addresses as a visitor reads them: "80 boulevard Jean-Jaurès, 92110 Clichy".

Sources and the directory write addresses for the post: over several lines, in capitals, with a CEDEX
postcode ("69601 Villeurbanne Cedex") that is not where anyone goes, sometimes with the real postcode
repeated after it. The API keeps what was stored; pages show `visitor_address(...)`.
"""

from __future__ import annotations

import re

# A postcode starting the locality part: "92110 CLICHY", "69601 Villeurbanne Cedex 69100".
_LOCALITY = re.compile(r"(?:^|[\s,])(\d{5})(?=\s+\D)")
_POSTCODE = re.compile(r"\b\d{5}\b")
_CEDEX = re.compile(r"\bcedex\b(?:\s*\d{1,2}\b)?", re.IGNORECASE)
# Words French writes in lower case inside a name, and the street types after a number ("80 boulevard").
_LOWER = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "lès",
        "lez",
        "d",
        "l",
        "et",
        "sur",
        "sous",
        "en",
        "aux",
        "au",
        "à",
        "bis",
        "ter",
        "quater",
        "rue",
        "avenue",
        "boulevard",
        "place",
        "allée",
        "allées",
        "chemin",
        "impasse",
        "quai",
        "route",
        "cours",
        "square",
        "esplanade",
        "passage",
        "parvis",
        "rond-point",
        "sentier",
        "voie",
    ]
)
_UPPER = frozenset({"BP", "CS", "TSA", "ZA", "ZI", "ZAC", "RN", "RD", "CD"})
_ROMAN = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def _is_shouting(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return len(letters) >= 4 and sum(char.isupper() for char in letters) >= 0.8 * len(letters)


def french_title_case(text: str) -> str:
    """ "PLACE DE L'HOTEL DE VILLE" → "Place de l’Hotel de Ville": each word capitalised except the small
    words French keeps lower (first word excepted), with "BP", "CS" and roman numerals kept in capitals."""

    def word(match: re.Match[str]) -> str:
        token = match.group(0)
        first = not text[: match.start()].strip(" ,")  # "80 boulevard": a number comes first
        if token.upper() in _UPPER or _ROMAN.match(token.upper()):
            return token.upper()
        head, apostrophe, tail = token.replace("'", "’").partition("’")
        if apostrophe and head.lower() in ("d", "l", "qu", "j", "n", "s"):
            prefix = head.capitalize() if first else head.lower()
            return f"{prefix}’{tail.capitalize()}"
        if not first and token.lower() in _LOWER:
            return token.lower()
        return token.capitalize()

    return _WORD.sub(word, text)


def visitor_address(text: str, *, postcode: str = "", city: str = "") -> str:
    """One line without CEDEX or a repeated postcode, in French title case when the source shouts.

    `postcode` and `city` are the town hall's (its commune's name): they replace a CEDEX postcode or an
    upper-case city, and complete an address that has none.
    """
    lines = [line.strip(" ,") for line in text.replace("\r", "\n").split("\n")]
    text = ", ".join(line for line in lines if line)
    street, locality = text, ""
    if match := _LOCALITY.search(text):
        street, locality = text[: match.start()].strip(" ,"), text[match.start() :].strip(" ,")
    codes = _POSTCODE.findall(locality)
    found_city = _POSTCODE.sub(" ", _CEDEX.sub(" ", locality))
    found_city = " ".join(found_city.replace(",", " ").split())
    if codes and not postcode:
        postcode = codes[-1] if len(codes) > 1 or not _CEDEX.search(locality) else codes[0]
    elif codes and len(codes) == 1 and not _CEDEX.search(locality):
        postcode = codes[0]  # the address names its own postcode: a commune may have several
    city = city or found_city
    if _is_shouting(street):
        street = french_title_case(street)
    if _is_shouting(city):
        city = french_title_case(city)
    street = _CEDEX.sub("", street).replace("'", "’").strip(" ,")
    city = city.replace("'", "’")
    if city and street.lower().endswith(city.lower()) and not locality:
        city = ""  # "Le Village, Clichy": the city is already there
    locality = " ".join(part for part in (postcode, city) if part)
    return ", ".join(part for part in (street, locality) if part)
