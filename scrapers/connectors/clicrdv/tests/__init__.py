"""Tests of the clicrdv connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase

COMMON_CASE = CommonCase(
    base_path="",
    first_path="/api/v2/availabletimeslots",
    method="GET",
    content_type="application/json",
    wrong_content_type="text/html",
    body='{"availabletimeslots": []}',
    config={"town_hall": TOWN_HALL, "group_id": 117, "interventions": {"CNI": 4021}, "calendar_ids": [5512]},
    auth_header="",
)
