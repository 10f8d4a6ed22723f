"""Keys of bulk items: what a statistic is identified by, as sent and as echoed."""

from __future__ import annotations

import pytest

from tests.learning360.factories import statistic
from udemy360.learning360 import (
    CourseIdentifier,
    ExternalStatistic,
    StatisticKey,
    statistic_key,
)


class TestStatisticKey:
    def test_mail_is_lower_cased(self):
        """Two spellings of one mail are one key."""
        assert StatisticKey("7", "mail", "Jane.Doe@Acme.COM") == StatisticKey(
            "7", "mail", "jane.doe@acme.com"
        )
        assert StatisticKey("7", "mail", "Jane@X.io").learner == "jane@x.io"

    def test_internal_id_is_kept_as_is(self):
        """A 360Learning user id is not a mail: its case is kept."""
        assert StatisticKey("7", "internalId", "AbC123").learner == "AbC123"

    def test_key_of_a_statistic_we_send(self):
        """statistic_key reads the course externalId and the learner identifier."""
        key = statistic_key(statistic("1565838", "Jane@Acme.com"))
        assert key == StatisticKey("1565838", "mail", "jane@acme.com")
        assert {key: 1}[StatisticKey("1565838", "mail", "JANE@acme.com")] == 1

    def test_course_by_internal_id_has_no_key(self):
        """A statistic naming its course by 360Learning id cannot be keyed by externalId."""
        stat = statistic("1", "a@b.c")
        by_id = ExternalStatistic.model_validate(
            {
                **stat.model_dump(),
                "course_identifier": CourseIdentifier(type="internalId", value="f" * 24),
            }
        )
        with pytest.raises(ValueError, match="externalId"):
            statistic_key(by_id)
