"""Tests of the html connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase

COMMON_CASE = CommonCase(
    base_path="/rdv",
    first_path="/rdv",
    method="GET",
    content_type="text/html",
    wrong_content_type="application/json",
    body="<html><body><ul></ul></body></html>",
    config={"town_hall": TOWN_HALL, "slot_selector": "li", "date_format": "%d/%m/%Y %H:%M"},
)
