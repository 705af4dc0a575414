"""The lifetime histogram's buckets and the median read from it."""

from __future__ import annotations

import pytest
from django.db import connection

from stats.lifetimes import BUCKET_COUNT, BUCKETS, bucket_bounds, bucket_of, histogram_median


@pytest.mark.django_db
def test_python_and_postgresql_put_a_lifetime_in_the_same_bucket():
    samples = [
        0.0,
        299.9,
        300.0,
        301.0,
        3599.0,
        3600.0,
        86400.0 * 3,
        86400.0 * 29.9,
        86400.0 * 30,
        86400.0 * 400,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT width_bucket(s, %s::float8[]) FROM unnest(%s::float8[]) AS s",
            [[float(bound) for bound in BUCKETS], samples],
        )
        assert [row[0] for row in cursor.fetchall()] == [bucket_of(sample) for sample in samples]


def test_buckets_cover_every_lifetime_without_overlap():
    assert bucket_bounds(0) == (0, 300)
    assert bucket_bounds(BUCKET_COUNT - 1) == (30 * 86400, None)
    for index in range(1, BUCKET_COUNT):
        assert bucket_bounds(index)[0] == bucket_bounds(index - 1)[1]


def test_the_median_is_interpolated_inside_its_bucket():
    counts = [0] * BUCKET_COUNT
    counts[bucket_of(10 * 60)] = 2  # 5 to 15 minutes
    counts[bucket_of(90 * 60)] = 2  # 1 to 2 hours
    # Half of 4 slots: the end of the 5–15 minute bucket.
    assert histogram_median(counts) == 15 * 60
    counts[bucket_of(90 * 60)] = 6
    # 4 of 8: two into the 1–2 hour bucket's six, a third of the way.
    assert histogram_median(counts) == pytest.approx(3600 + 3600 / 3)


def test_the_median_is_none_without_data_and_a_lower_bound_in_the_open_bucket():
    assert histogram_median([0] * BUCKET_COUNT) is None
    assert histogram_median([]) is None
    counts = [0] * BUCKET_COUNT
    counts[-1] = 3
    assert histogram_median(counts) == 30 * 86400
