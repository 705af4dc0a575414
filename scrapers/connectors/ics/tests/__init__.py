"""Tests of the ics connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase

COMMON_CASE = CommonCase(
    base_path="/feed.ics",
    first_path="/feed.ics",
    method="GET",
    content_type="text/calendar",
    wrong_content_type="application/json",
    body="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//FR\r\nEND:VCALENDAR\r\n",
    config={"town_hall": TOWN_HALL},
)
