"""Alias rules: which 360Learning email a Udemy email stands for."""

from __future__ import annotations

import pytest

from udemy360.sync.learners import AliasRules, normalise_alias

RULES = AliasRules.of(
    [
        ("mail", "jo@udemy-only.com", "joanna@corp.com"),
        ("domain", "corp-old.com", "corp.com"),
    ]
)


class TestAliasRules:
    @pytest.mark.parametrize(
        ("mail", "expected"),
        [
            ("jo@udemy-only.com", ("joanna@corp.com", True)),
            ("ann@corp-old.com", ("ann@corp.com", True)),
            ("ann@corp.com", ("ann@corp.com", False)),
            ("ann@sub.corp-old.com", ("ann@sub.corp-old.com", False)),
            ("no-at-sign", ("no-at-sign", False)),
        ],
    )
    def test_resolve(self, mail: str, expected: tuple[str, bool]) -> None:
        """An explicit alias wins, then a domain rewrite; anything else is itself."""
        assert RULES.resolve(mail) == expected

    def test_explicit_alias_wins_over_domain(self) -> None:
        """A learner with an alias is not rewritten by their domain's rule."""
        rules = AliasRules.of(
            [("domain", "corp-old.com", "corp.com"), ("mail", "bo@corp-old.com", "robert@corp.com")]
        )
        assert rules.resolve("bo@corp-old.com") == ("robert@corp.com", True)

    def test_no_rules_is_falsy(self) -> None:
        """A connection without rules has nothing to resolve."""
        assert not AliasRules()
        assert RULES


class TestNormalise:
    @pytest.mark.parametrize(
        ("kind", "value", "expected"),
        [("mail", "  Jo@Corp.COM ", "jo@corp.com"), ("domain", " @Corp-Old.com", "corp-old.com")],
    )
    def test_normalise(self, kind: str, value: str, expected: str) -> None:
        """Aliases are stored trimmed and lower-case; a domain without its @."""
        assert normalise_alias(kind, value) == expected  # type: ignore[arg-type]
