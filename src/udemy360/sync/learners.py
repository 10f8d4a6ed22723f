"""Which 360Learning learner a Udemy email is: alias rules, then the learner directory.

Matching is trimmed and case-insensitive (emails are normalised when Udemy's rows are mapped).
A company whose two sides disagree adds rules per connection: an explicit alias (Udemy email →
360Learning email) wins over a domain rewrite (``corp-old.com`` → ``corp.com``). A learner
matched through a rule is sent by 360Learning user id (``userIdentifier {type: internalId}``):
their Udemy email means nothing to 360Learning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

AliasKind = Literal["mail", "domain"]

#: User statuses (active, invited, deleted: core-api.openapi.json) whose rows are never sent.
NOT_SENT_STATUSES = frozenset({"deleted"})


@dataclass(frozen=True, slots=True)
class AliasRules:
    """A connection's alias rules, loaded once per run."""

    mails: Mapping[str, str] = field(default_factory=dict)
    domains: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Iterable[tuple[AliasKind, str, str]]) -> AliasRules:
        """Build from ``(kind, source, target)`` rows (normalised: trimmed, lower-case)."""
        mails: dict[str, str] = {}
        domains: dict[str, str] = {}
        for kind, source, target in rules:
            (mails if kind == "mail" else domains)[source] = target
        return cls(mails, domains)

    def __bool__(self) -> bool:
        return bool(self.mails or self.domains)

    def resolve(self, mail: str) -> tuple[str, bool]:
        """The 360Learning email for a (normalised) Udemy email, and whether a rule applied."""
        target = self.mails.get(mail)
        if target is not None:
            return target, True
        if self.domains:
            local, at, domain = mail.rpartition("@")
            rewritten = self.domains.get(domain) if at else None
            if rewritten is not None:
                return f"{local}@{rewritten}", True
        return mail, False


def normalise_alias(kind: AliasKind, value: str) -> str:
    """An alias source or target as stored: trimmed, lower-case, a domain without its ``@``."""
    text = value.strip().lower()
    return text.lstrip("@") if kind == "domain" else text
