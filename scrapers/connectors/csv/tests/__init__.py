"""Tests of the csv connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase

COMMON_CASE = CommonCase(
    base_path="/slots.csv",
    first_path="/slots.csv",
    method="GET",
    content_type="text/csv",
    wrong_content_type="text/html",
    body="date,time\n",
    config={"town_hall": TOWN_HALL},
)
