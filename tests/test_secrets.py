"""Encryption at rest of stored secrets: round trip, wrong key, key file permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from udemy360.secrets import (
    KEY_ENV,
    SecretBox,
    SecretKeyError,
    create_key_file,
    is_encrypted,
    key_path_for,
    load_key,
)


class TestSecretBox:
    def test_round_trip(self) -> None:
        """A secret encrypted with a key decrypts to the same text with that key."""
        box = SecretBox(SecretBox.generate_key())
        stored = box.encrypt("s3cr3t-value")
        assert is_encrypted(stored)
        assert "s3cr3t-value" not in stored
        assert box.decrypt(stored).get_secret_value() == "s3cr3t-value"

    def test_accepts_secretstr(self) -> None:
        """A SecretStr is encrypted by its value, not its masked form."""
        box = SecretBox(SecretBox.generate_key())
        assert box.decrypt(box.encrypt(SecretStr("abc123"))).get_secret_value() == "abc123"

    def test_wrong_key_names_setting_and_fix(self) -> None:
        """Decrypting with another key fails naming the setting and where the key lives."""
        stored = SecretBox(SecretBox.generate_key()).encrypt("hidden-value")
        with pytest.raises(SecretKeyError) as caught:
            SecretBox(SecretBox.generate_key()).decrypt(stored, setting="udemy.client_secret")
        message = str(caught.value)
        assert "udemy.client_secret" in message
        assert KEY_ENV in message
        assert "hidden-value" not in message

    def test_invalid_key(self) -> None:
        """A malformed key is refused with a SecretKeyError."""
        with pytest.raises(SecretKeyError):
            SecretBox(b"not-a-key")

    def test_repr_hides_key(self) -> None:
        """The repr never shows the key."""
        key = SecretBox.generate_key()
        assert key.decode() not in repr(SecretBox(key))


class TestKeyFile:
    def test_created_owner_only(self, tmp_path: Path) -> None:
        """The generated key file is readable and writable by its owner only."""
        path = key_path_for(tmp_path / "udemy360.toml")
        create_key_file(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_existing_key_is_kept(self, tmp_path: Path) -> None:
        """Creating the key file again keeps (and returns) the first key."""
        path = tmp_path / "udemy360.key"
        first = create_key_file(path)
        assert create_key_file(path) == first

    def test_env_key_wins(self, tmp_path: Path) -> None:
        """UDEMY360_KEY takes precedence over the key file."""
        config = tmp_path / "udemy360.toml"
        create_key_file(key_path_for(config))
        other = SecretBox.generate_key()
        assert load_key(config, {KEY_ENV: other.decode()}) == other

    def test_no_key(self, tmp_path: Path) -> None:
        """Without file or environment there is no key."""
        assert load_key(tmp_path / "udemy360.toml", {}) is None
