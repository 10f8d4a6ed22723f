"""The population both sandboxes share: learners known to Udemy and (mostly) to 360Learning.

Both sandboxes derive their people from the same index so that the Udemy activity rows and the
360Learning user directory line up, without either sandbox importing the other. Every
``UNMATCHED_EVERY``-th learner exists only in Udemy, so unmatched learners always occur.
"""

from __future__ import annotations

from typing import Final

UNMATCHED_EVERY: Final = 25
LEARNER_DOMAIN: Final = "example.com"

_FIRST: Final = (
    "Ada",
    "Grace",
    "Alan",
    "Hedy",
    "Linus",
    "Margaret",
    "Tim",
    "Radia",
    "Ken",
    "Barbara",
)
_LAST: Final = ("Lovelace", "Hopper", "Turing", "Lamarr", "Torvalds", "Hamilton", "Lee", "Perlman")


def learner_email(index: int) -> str:
    """Return learner ``index``'s canonical email (lower case, as 360Learning stores it)."""
    return f"learner{index:06d}@{LEARNER_DOMAIN}"


def learner_name(index: int) -> tuple[str, str]:
    """Return learner ``index``'s first name and surname."""
    return _FIRST[index % len(_FIRST)], _LAST[(index // len(_FIRST)) % len(_LAST)]


def is_known_to_360learning(index: int) -> bool:
    """Whether learner ``index`` has a 360Learning account (the others are 'unmatched')."""
    return index % UNMATCHED_EVERY != UNMATCHED_EVERY - 1
