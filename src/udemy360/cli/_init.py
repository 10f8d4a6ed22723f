"""``udemy360 init`` and ``config encrypt``: write the configuration with secrets encrypted."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from udemy360.config import InitAnswers, render_config, write_config_value
from udemy360.secrets import SecretBox, create_key_file, is_encrypted, key_path_for, load_key


@dataclass(frozen=True, slots=True)
class InitOutcome:
    """What ``init`` wrote."""

    config_path: Path
    key_path: Path | None  # None when the key came from UDEMY360_KEY
    key_created: bool
    encrypted: tuple[str, ...]  # the settings stored encrypted


def _box_for(config_path: Path) -> tuple[SecretBox, Path | None, bool]:
    key = load_key(config_path)
    key_path = key_path_for(config_path)
    if key is not None:
        from_env = not key_path.exists() or key_path.read_bytes().strip() != key
        return SecretBox(key), (None if from_env else key_path), False
    created = create_key_file(key_path)
    return SecretBox(created), key_path, True


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file, mode 0600, replacing atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_initial_config(
    config_path: Path,
    answers: InitAnswers,
    *,
    udemy_secret: str | None,
    l360_secret: str | None,
) -> InitOutcome:
    """Generate (or reuse) the key, encrypt the secrets and write the commented configuration."""
    config_path.parent.mkdir(parents=True, exist_ok=True)
    box, key_path, created = _box_for(config_path)
    encrypted = []
    if udemy_secret:
        answers = replace(answers, udemy_client_secret_enc=box.encrypt(udemy_secret))
        encrypted.append("udemy.client_secret")
    if l360_secret:
        answers = replace(answers, l360_client_secret_enc=box.encrypt(l360_secret))
        encrypted.append("learning360.client_secret")
    _write_private(config_path, render_config(answers, config_path=config_path))
    return InitOutcome(config_path, key_path, created, tuple(encrypted))


def encrypt_plaintext_secrets(config_path: Path) -> tuple[str, ...]:
    """Encrypt every plain ``client_secret`` in the file in place; return the settings changed."""
    with config_path.open("rb") as handle:
        data = tomllib.load(handle)
    changed = []
    box: SecretBox | None = None
    for section in ("udemy", "learning360"):
        part = data.get(section)
        value = part.get("client_secret") if isinstance(part, dict) else None
        if isinstance(value, str) and value and not is_encrypted(value):
            if box is None:
                box = _box_for(config_path)[0]
            write_config_value(config_path, section, "client_secret", box.encrypt(value))
            changed.append(f"{section}.client_secret")
    return tuple(changed)
