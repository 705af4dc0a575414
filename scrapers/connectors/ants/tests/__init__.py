"""Tests of the ants connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import CommonCase

COMMON_CASE = CommonCase(
    base_path="/api",
    first_path="/api/availableTimeSlots",
    method="GET",
    content_type="application/json",
    wrong_content_type="text/html",
    body='{"92024": []}',
    config={"reasons": ["CNI"]},
    meeting_point_id="92024",
)
