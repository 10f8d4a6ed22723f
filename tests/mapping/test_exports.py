"""The mapping package's public surface."""

from __future__ import annotations

import udemy360.mapping


class TestExports:
    def test_all_is_pinned(self) -> None:
        """``__all__`` lists exactly the names other packages may use, and each exists."""
        assert set(udemy360.mapping.__all__) == {
            "ALLOWED_TAGS",
            "IMAGE_SIZES",
            "MAPPING_VERSION",
            "DifficultyLevel",
            "MappedCourse",
            "MappedStatistic",
            "MappingContext",
            "MappingProblem",
            "RejectedUrl",
            "SkipReason",
            "SkippedRow",
            "UDEMY_HOSTS",
            "clamp_duration",
            "clean_names",
            "image_url",
            "launch_hosts",
            "launch_url",
            "map_activity",
            "map_course",
            "map_difficulty",
            "map_language",
            "map_learning_path",
            "normalize_email",
            "path_external_id",
            "payload_hash",
            "pick_image",
            "sanitize_description",
            "subjects_for",
            "v2_language",
            "without_query",
        }
        for name in udemy360.mapping.__all__:
            assert hasattr(udemy360.mapping, name)
