"""Tests of the synbird connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase

COMMON_CASE = CommonCase(
    base_path="",
    first_path="/v6/pro/company/getSlotsFor",
    method="POST",
    content_type="application/json",
    wrong_content_type="text/html",
    body='{"timeSlots": []}',
    config={"town_hall": TOWN_HALL, "company_id": 1, "place_id": 2, "prestation_ids": {"CNI": 3}},
)
