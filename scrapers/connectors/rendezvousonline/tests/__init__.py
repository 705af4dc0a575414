"""Tests of the rendezvousonline connector; COMMON_CASE feeds scrapers/tests/test_connector_common.py."""

from scrapers.tests.connector_case import TOWN_HALL, CommonCase, FollowUp

COMMON_CASE = CommonCase(
    base_path="/api-web",
    first_path="/api-web/auth/session",
    method="GET",
    content_type="application/json",
    wrong_content_type="text/html",
    body='{"session_id": "abc"}',
    config={"town_hall": TOWN_HALL, "structure_id": 42, "reason_ids": {"CNI": 7}},
    # It goes on after its session: an empty unlock and empty weeks.
    follow_ups=(
        FollowUp("/api-web/availabilities/unlock", "PUT", {}),
        FollowUp("/api-web/structures/42/availabilities/week", "GET", {}),
    ),
)
