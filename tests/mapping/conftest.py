"""Fixtures for the mapping tests."""

from __future__ import annotations

import pytest

from tests.mapping.builders import ACCOUNT
from udemy360.mapping import MappingContext


@pytest.fixture
def ctx() -> MappingContext:
    """A context with tags and learning paths off and a French-speaking owner."""
    return MappingContext(account_name=ACCOUNT, owner_lang="fr")
