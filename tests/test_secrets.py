"""Encryption at rest of stored secrets: round trip, wrong key, key file permissions."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
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
    warn_if_shared,
)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run with umask 000, so a file gets exactly the mode it is created with."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


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

    @pytest.mark.usefixtures("open_umask")
    def test_created_owner_only_whatever_the_umask(self, tmp_path: Path) -> None:
        """Even with umask 000, a new key file is 0600."""
        path = tmp_path / "udemy360.key"
        create_key_file(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    @pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
    def test_shared_key_file_warns_with_the_fix(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int
    ) -> None:
        """Loading a key file others can read logs a warning naming the file and chmod 600."""
        config = tmp_path / "udemy360.toml"
        path = key_path_for(config)
        key = create_key_file(path)
        path.chmod(mode)
        with caplog.at_level(logging.WARNING, logger="udemy360.secrets"):
            assert load_key(config, {}) == key
        [record] = [r for r in caplog.records if r.name == "udemy360.secrets"]
        assert record.levelno == logging.WARNING
        assert str(path) in record.getMessage()
        assert f"chmod 600 {path}" in record.getMessage()
        assert key.decode() not in record.getMessage()

    def test_private_key_file_does_not_warn(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A 0600 (or 0400) key file loads silently."""
        config = tmp_path / "udemy360.toml"
        path = key_path_for(config)
        create_key_file(path)
        with caplog.at_level(logging.WARNING, logger="udemy360.secrets"):
            load_key(config, {})
            path.chmod(0o400)
            load_key(config, {})
        assert not [r for r in caplog.records if r.name == "udemy360.secrets"]

    def test_env_key_does_not_look_at_the_file(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With UDEMY360_KEY set, a shared key file next to the config is not read or judged."""
        config = tmp_path / "udemy360.toml"
        path = key_path_for(config)
        create_key_file(path)
        path.chmod(0o644)
        with caplog.at_level(logging.WARNING, logger="udemy360.secrets"):
            load_key(config, {KEY_ENV: SecretBox.generate_key().decode()})
        assert not [r for r in caplog.records if r.name == "udemy360.secrets"]

    def test_warn_if_shared_on_a_missing_file(self, tmp_path: Path) -> None:
        """A file that vanished is not a warning."""
        assert warn_if_shared(tmp_path / "absent.key") is False

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
