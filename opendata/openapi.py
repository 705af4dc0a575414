"""The OpenAPI 3.1 description of the public JSON API (/api/v1/, slots/api.py), served at
/api/v1/openapi.json and rendered as a page at /api.

Bounds come from the forms that check the parameters, so the description cannot drift from them.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

from slots.api import MAX_SUGGESTIONS
from slots.forms import MAX_QUERY_LENGTH
from slots.models import Reason
from slots.search import MAX_PEOPLE, MAX_RADIUS_KM, MIN_PEOPLE, MIN_RADIUS_KM, Sort

NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}


def _error_response(description: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _parameter(name: str, description: Any, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "description": description, "schema": schema, **extra}
    if not extra.get("required"):
        # The API reads `limit=` like no limit at all (Django forms: an empty optional field is unset), as
        # schemathesis found: the document says so (deprecated in 3.1, still part of it).
        parameter["allowEmptyValue"] = True
    return parameter


COMMUNE = {
    "type": "object",
    "required": ["insee", "name", "department", "postcodes", "population", "lat", "lon"],
    "properties": {
        "insee": {"type": "string", "description": _("Code INSEE de la commune."), "examples": ["92024"]},
        "name": {"type": "string", "examples": ["Clichy"]},
        "department": {"type": "string", "description": _("Code du département."), "examples": ["92"]},
        "postcodes": {"type": "array", "items": {"type": "string"}, "examples": [["92110"]]},
        "population": {"type": ["integer", "null"], "description": _("Population municipale.")},
        "lat": NULLABLE_NUMBER,
        "lon": NULLABLE_NUMBER,
    },
}
TOWN_HALL = {
    "type": "object",
    "required": [
        "id",
        "name",
        "address",
        "postcode",
        "insee",
        "lat",
        "lon",
        "phone",
        "email",
        "website",
        "booking",
        "booking_url",
        "reasons",
    ],
    "properties": {
        "id": {"type": "integer", "description": _("Identifiant de la mairie (page /mairie/<id>).")},
        "name": {"type": "string"},
        "address": {"type": "string"},
        "postcode": {"type": "string"},
        "insee": {**NULLABLE_STRING, "description": _("Code INSEE de sa commune.")},
        "lat": NULLABLE_NUMBER,
        "lon": NULLABLE_NUMBER,
        "phone": {"type": "string", "description": _("Le sien, sinon celui de l’annuaire de la commune.")},
        "email": {"type": "string"},
        "website": {"type": "string"},
        "booking": {
            "type": "string",
            "description": _(
                "Comment y réserver : le type de la source qui la suit (ants, ics…), sinon online, "
                "phone, walk_in, ou vide."
            ),
        },
        "booking_url": {"type": "string", "description": _("Son lien de réservation par défaut.")},
        "reasons": {"type": "array", "items": {"type": "string", "enum": ["CNI", "PASSPORT"]}},
    },
}
RESULT = {
    "type": "object",
    "required": ["town_hall", "distance_km", "next_slot", "slots_count", "data_age_seconds", "stale"],
    "properties": {
        "town_hall": {"$ref": "#/components/schemas/TownHall"},
        "distance_km": {"type": "number", "minimum": 0},
        "next_slot": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["datetime", "booking_url"],
                    "properties": {
                        "datetime": {
                            "type": "string",
                            "format": "date-time",
                            "description": _("Début, en ISO 8601 avec le décalage de Paris."),
                        },
                        "booking_url": {"type": "string", "description": _("Page où réserver ce créneau.")},
                    },
                },
            ]
        },
        "slots_count": {
            "type": "integer",
            "minimum": 0,
            "description": _("Créneaux trouvés dans la période."),
        },
        "data_age_seconds": {
            "type": ["integer", "null"],
            "description": _(
                "Âge des créneaux de cette mairie (secondes depuis la dernière collecte réussie)."
            ),
        },
        "stale": {
            "type": "boolean",
            "description": _("Créneaux anciens : la collecte échoue depuis un moment."),
        },
    },
}
SEARCH = {
    "type": "object",
    "required": ["origin", "results"],
    "properties": {
        "origin": {
            "description": _(
                "Le point de départ compris ; null quand q désigne plusieurs communes (voir candidates)."
            ),
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["insee", "name", "lat", "lon"],
                    "properties": {
                        "insee": NULLABLE_STRING,
                        "name": NULLABLE_STRING,
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                    },
                },
            ],
        },
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        "candidates": {
            "type": "array",
            "description": _("Les communes entre lesquelles choisir quand q est ambigu (puis insee=)."),
            "items": {"$ref": "#/components/schemas/Commune"},
        },
        "other_communes": {
            "type": "array",
            "description": _("Les autres communes du même code postal."),
            "items": {"$ref": "#/components/schemas/Commune"},
        },
    },
}


def openapi_document(*, server_url: str) -> dict[str, Any]:
    """The document in the active language (its descriptions are translated), as plain JSON values."""
    reasons = [str(reason) for reason in Reason.values]
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "rdvpasseport",
            "version": "1",
            "summary": _("Rendez-vous passeport et carte d’identité dans les mairies équipées."),
            "description": _(
                "API publique en lecture seule : suggestions de communes et recherche des mairies "
                "où déposer une demande au plus tôt. Les paramètres invalides reçoivent une erreur 400 "
                '{"error": "…"} en français. Les dates et heures sont celles de Paris (ISO 8601 avec '
                "décalage). Un paramètre facultatif laissé vide prend sa valeur par défaut. Nombre de requêtes "
                "limité par adresse IP (429 et Retry-After au-delà). CORS ouvert "
                "à toutes les origines, en GET, sans cookies."
            ),
            "license": {"name": "Licence Ouverte 2.0", "identifier": "etalab-2.0"},
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/communes": {
                "get": {
                    "operationId": "communes",
                    "summary": _("Suggestions de communes"),
                    "description": _(
                        "Les communes dont le nom ou le code postal commence par q, les plus "
                        "peuplées d’abord."
                    ),
                    "parameters": [
                        _parameter(
                            "q",
                            _("Début d’un nom de commune ou d’un code postal."),
                            {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_QUERY_LENGTH,
                                "pattern": r"\S",
                            },
                            required=True,
                            example="clich",
                        ),
                        _parameter(
                            "limit",
                            _("Nombre de suggestions (10 par défaut)."),
                            {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": 10},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": _("Les suggestions."),
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["results"],
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Commune"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error_response(_("Paramètre manquant ou invalide.")),
                        "429": _error_response(_("Trop de requêtes : réessayer après Retry-After secondes.")),
                    },
                }
            },
            "/api/v1/search": {
                "get": {
                    "operationId": "search",
                    "summary": _("Mairies où déposer une demande au plus tôt"),
                    "description": _(
                        "Les mairies actives dans le rayon, avec leur premier créneau libre pour "
                        "le motif et le nombre de personnes. Le point de départ est q, insee, ou lat et lon."
                    ),
                    "parameters": [
                        _parameter(
                            "q",
                            _("Code postal, nom de commune ou code INSEE."),
                            {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                            example="92110",
                        ),
                        _parameter(
                            "insee",
                            _("Code INSEE de la commune, sans ambiguïté (là où q lirait un code postal)."),
                            {"type": "string", "pattern": "^[0-9][0-9AaBb][0-9]{3}$"},
                        ),
                        _parameter(
                            "lat",
                            _("Latitude du point de départ (avec lon)."),
                            {"type": "number", "minimum": -90, "maximum": 90},
                        ),
                        _parameter(
                            "lon",
                            _("Longitude du point de départ (avec lat)."),
                            {"type": "number", "minimum": -180, "maximum": 180},
                        ),
                        _parameter(
                            "radius_km",
                            _("Rayon en kilomètres (20 par défaut)."),
                            {
                                "type": "number",
                                "minimum": MIN_RADIUS_KM,
                                "maximum": MAX_RADIUS_KM,
                                "default": 20,
                            },
                        ),
                        _parameter(
                            "reason",
                            _("Motif : carte d’identité, passeport ou les deux."),
                            {"type": "string", "enum": reasons, "default": "PASSPORT"},
                        ),
                        _parameter(
                            "documents_number",
                            _("Nombre de personnes (un créneau chacune)."),
                            {"type": "integer", "minimum": MIN_PEOPLE, "maximum": MAX_PEOPLE, "default": 1},
                        ),
                        _parameter(
                            "start_date",
                            _("Premier jour (Paris), aujourd’hui par défaut, dans l’année qui vient."),
                            {"type": "string", "format": "date"},
                        ),
                        _parameter(
                            "end_date",
                            _("Dernier jour inclus (Paris) ; 183 jours après le début au plus."),
                            {"type": "string", "format": "date"},
                        ),
                        _parameter(
                            "sort",
                            _("Ordre : le plus tôt, le plus proche, ou un compromis des deux."),
                            {"type": "string", "enum": [sort.value for sort in Sort], "default": "soonest"},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": _(
                                "Les mairies trouvées, ou les communes entre lesquelles choisir."
                            ),
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Search"}}
                            },
                        },
                        "400": _error_response(_("Paramètre manquant ou invalide, ou lieu inconnu.")),
                        "429": _error_response(_("Trop de requêtes : réessayer après Retry-After secondes.")),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string", "description": _("Ce qui ne va pas, en français.")},
                        "retry_after": {"type": "integer"},
                    },
                },
                "Commune": COMMUNE,
                "TownHall": TOWN_HALL,
                "Result": RESULT,
                "Search": SEARCH,
            }
        },
    }
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))
