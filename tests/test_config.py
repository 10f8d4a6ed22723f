"""Settings: TOML + environment precedence, secrets (encrypted, from files), validation messages."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from udemy360.config import (
    ConfigError,
    InitAnswers,
    Settings,
    env_name,
    load_settings,
    render_config,
    write_config_value,
)
from udemy360.secrets import KEY_ENV, SecretBox, create_key_file, key_path_for

GROUP = "64b7f0c2a1b2c3d4e5f60718"
OWNER = "64b7f0c2a1b2c3d4e5f60719"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No UDEMY360_ variable from the outside leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("UDEMY360_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "udemy360.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASIC = f"""
[udemy]
account_name = "acme"
account_id = "123456"
client_id = "udemy-id"
client_secret = "plain-udemy-secret"

[learning360]
client_id = "l360-id"
client_secret = "plain-l360-secret"
group_id = "{GROUP}"
owner_id = "{OWNER}"
"""


class TestSources:
    def test_toml_values_and_defaults(self, tmp_path: Path) -> None:
        """Values come from the file; the rest take the documented defaults."""
        settings = load_settings(write(tmp_path, BASIC))
        assert settings.udemy.account_name == "acme"
        assert settings.learning360.platform_name == "Udemy"
        assert settings.schedule.courses == time(7, 30)
        assert settings.schedule.stats == time(7, 45)
        assert settings.schedule.timezone == "Europe/Paris"
        assert settings.limits.max_archive_share == 0.10

    def test_store_defaults_next_to_config(self, tmp_path: Path) -> None:
        """Without store_url the SQLite file sits next to the configuration file."""
        settings = load_settings(write(tmp_path, BASIC))
        assert settings.store_url == f"sqlite:///{tmp_path.resolve() / 'udemy360.db'}"

    def test_env_overrides_toml(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """UDEMY360_SECTION__KEY beats the file, nested with a double underscore."""
        monkeypatch.setenv("UDEMY360_UDEMY__CLIENT_SECRET", "from-env")
        monkeypatch.setenv("UDEMY360_SCHEDULE__COURSES", "06:15")
        monkeypatch.setenv("UDEMY360_OPTIONS__TAGS", "true")
        settings = load_settings(write(tmp_path, BASIC))
        assert settings.udemy.client_secret is not None
        assert settings.udemy.client_secret.get_secret_value() == "from-env"
        assert settings.udemy.account_name == "acme"  # the rest of the section stays
        assert settings.schedule.courses == time(6, 15)
        assert settings.options.tags is True

    def test_overrides_beat_env(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Keyword overrides win over the environment."""
        monkeypatch.setenv("UDEMY360_CONNECTION_ID", "from-env")
        settings = load_settings(write(tmp_path, BASIC), connection_id="from-kwargs")
        assert settings.connection_id == "from-kwargs"

    def test_env_only_without_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An absent default file is fine: the environment alone configures the tool."""
        monkeypatch.setenv("UDEMY360_UDEMY__ACCOUNT_NAME", "globex")
        settings = load_settings(tmp_path / "absent.toml", must_exist=False)
        assert settings.udemy.account_name == "globex"

    def test_missing_explicit_file(self, tmp_path: Path) -> None:
        """An explicit file that does not exist says how to create it."""
        with pytest.raises(ConfigError, match="udemy360 init"):
            load_settings(tmp_path / "absent.toml")

    def test_secret_from_file(self, tmp_path: Path) -> None:
        """client_secret_file is read (trimmed) when no secret is given inline."""
        secret_file = tmp_path / "udemy-secret"
        secret_file.write_text("file-secret\n")
        text = BASIC.replace(
            'client_secret = "plain-udemy-secret"', f'client_secret_file = "{secret_file}"'
        )
        settings = load_settings(write(tmp_path, text))
        assert settings.udemy.client_secret is not None
        assert settings.udemy.client_secret.get_secret_value() == "file-secret"

    def test_unreadable_secret_file(self, tmp_path: Path) -> None:
        """A secret file that cannot be read is named in the error."""
        text = BASIC.replace(
            'client_secret = "plain-udemy-secret"', 'client_secret_file = "/nonexistent/secret"'
        )
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        assert "udemy.client_secret_file" in str(caught.value)

    def test_settings_never_built_at_import(self) -> None:
        """The config module exposes no ready-made Settings instance."""
        import udemy360.config as module

        assert not [v for v in vars(module).values() if isinstance(v, Settings)]


class TestEncryptedSecrets:
    def test_enc_value_is_decrypted_with_key_file(self, tmp_path: Path) -> None:
        """An enc: value in the TOML is opened with the key file next to it."""
        key = create_key_file(key_path_for(tmp_path / "udemy360.toml"))
        stored = SecretBox(key).encrypt("the-real-secret")
        settings = load_settings(
            write(tmp_path, BASIC.replace('"plain-udemy-secret"', f'"{stored}"'))
        )
        assert settings.udemy.client_secret is not None
        assert settings.udemy.client_secret.get_secret_value() == "the-real-secret"

    def test_enc_value_with_env_key(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """UDEMY360_KEY opens enc: values when there is no key file."""
        key = SecretBox.generate_key()
        monkeypatch.setenv(KEY_ENV, key.decode())
        stored = SecretBox(key).encrypt("env-key-secret")
        settings = load_settings(
            write(tmp_path, BASIC.replace('"plain-l360-secret"', f'"{stored}"'))
        )
        assert settings.learning360.client_secret is not None
        assert settings.learning360.client_secret.get_secret_value() == "env-key-secret"

    def test_enc_value_without_key(self, tmp_path: Path) -> None:
        """An enc: value with no key fails naming the setting and both ways to give the key."""
        stored = SecretBox(SecretBox.generate_key()).encrypt("x")
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC.replace('"plain-udemy-secret"', f'"{stored}"')))
        message = str(caught.value)
        assert "udemy.client_secret" in message
        assert KEY_ENV in message


class TestValidation:
    @pytest.mark.parametrize(
        ("line", "setting", "hint"),
        [
            ('account_name = "https://acme.udemy.com"', "udemy.account_name", "sub-domain"),
            ('account_id = "acme"', "udemy.account_id", "numeric"),
            ('base_url = "http://udemy.example.com/"', "udemy.base_url", "https"),
        ],
    )
    def test_udemy_messages_name_setting_and_fix(
        self, tmp_path: Path, line: str, setting: str, hint: str
    ) -> None:
        """A bad Udemy value fails with the dotted setting, its env variable and the fix."""
        key = line.split(" = ")[0]
        text = "\n".join(
            row for row in BASIC.splitlines() if not row.startswith(f"{key} =") or "[" in row
        ).replace("[udemy]", f"[udemy]\n{line}")
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        problem = caught.value.problems[0]
        assert problem.setting == setting
        assert hint in problem.message
        assert env_name(setting) in str(caught.value)

    def test_group_id_format(self, tmp_path: Path) -> None:
        """A group id that is not a 24-hex id is refused with an example."""
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC.replace(GROUP, "my-group")))
        assert caught.value.problems[0].setting == "learning360.group_id"
        assert "24 hexadecimal" in str(caught.value)

    def test_schedule_and_timezone(self, tmp_path: Path) -> None:
        """A bad time or time zone names the schedule setting."""
        text = BASIC + '\n[schedule]\ncourses = "7h30"\ntimezone = "Mars/Olympus"\n'
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        settings = {p.setting for p in caught.value.problems}
        assert settings == {"schedule.courses", "schedule.timezone"}

    def test_limits_are_bounded(self, tmp_path: Path) -> None:
        """360Learning's 3 bulk slots bound bulk_in_flight."""
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC + "\n[limits]\nbulk_in_flight = 5\n"))
        assert caught.value.problems[0].setting == "limits.bulk_in_flight"

    def test_unknown_setting(self, tmp_path: Path) -> None:
        """A misspelt key is reported as unknown."""
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC.replace("client_id", "clientid", 1)))
        assert caught.value.problems[0].setting == "udemy.clientid"
        assert "unknown setting" in caught.value.problems[0].message

    def test_invalid_toml(self, tmp_path: Path) -> None:
        """Broken TOML names the file."""
        path = write(tmp_path, "[udemy\n")
        with pytest.raises(ConfigError, match=str(path)):
            load_settings(path)

    def test_require_names_missing(self, tmp_path: Path) -> None:
        """require() lists every missing setting with its env variable and a hint."""
        settings = load_settings(tmp_path / "absent.toml", must_exist=False)
        with pytest.raises(ConfigError) as caught:
            settings.require("udemy.client_secret", "learning360.group_id")
        message = str(caught.value)
        assert message.startswith("udemy.client_secret, learning360.group_id are not set")
        assert "udemy360 init" in message
        assert "UDEMY360_UDEMY__CLIENT_SECRET" in message
        assert "UDEMY360_LEARNING360__GROUP_ID" in message
        assert [p.setting for p in caught.value.problems] == [
            "udemy.client_secret",
            "learning360.group_id",
        ]

    def test_require_set_settings_pass(self, tmp_path: Path) -> None:
        """require() is silent when every named setting has a value."""
        load_settings(write(tmp_path, BASIC)).require("udemy.account_name", "learning360.owner_id")


class TestFileAndEnvironmentErrors:
    def test_non_utf8_file_names_file_and_line(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 is a ConfigError naming the file, the line and the fix."""
        path = tmp_path / "udemy360.toml"
        path.write_bytes(b'connection_id = "a"\n[udemy]\naccount_name = "acm\xe9"\n')
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        message = str(caught.value)
        assert str(path) in message
        assert "line 3" in message
        assert "save it as UTF-8" in message

    def test_byte_order_mark_is_accepted(self, tmp_path: Path) -> None:
        """A UTF-8 file saved with a byte-order mark loads."""
        path = tmp_path / "udemy360.toml"
        path.write_bytes(b"\xef\xbb\xbf" + BASIC.encode())
        assert load_settings(path).udemy.account_name == "acme"

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A configuration path that cannot be read (a directory) is a ConfigError naming it."""
        path = tmp_path / "udemy360.toml"
        path.mkdir()
        with pytest.raises(ConfigError, match="cannot read the configuration file"):
            load_settings(path)

    @pytest.mark.parametrize(
        ("variable", "value", "setting"),
        [
            ("UDEMY360_OPTIONS", "{bad", "options"),
            ("UDEMY360_LIMITS", "{'bulk_in_flight': 2}", "limits"),
            ("UDEMY360_UDEMY", '{"client_secret": "env-json-secret"', "udemy"),
        ],
    )
    def test_bad_json_section_in_env(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        variable: str,
        value: str,
        setting: str,
    ) -> None:
        """A section variable holding bad JSON names the variable and both fixes, not its value."""
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC))
        message = str(caught.value)
        assert caught.value.problems[0].setting == setting
        assert variable in message
        assert f"{variable}__KEY=value" in message
        assert "env-json-secret" not in message

    def test_non_utf8_secret_file(self, tmp_path: Path) -> None:
        """A client_secret_file that is not UTF-8 is named, and its bytes are not repeated."""
        secret_file = tmp_path / "udemy-secret"
        secret_file.write_bytes(b"\xff\xfesecret")
        text = BASIC.replace(
            'client_secret = "plain-udemy-secret"', f'client_secret_file = "{secret_file}"'
        )
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        assert "udemy.client_secret_file" in str(caught.value)
        assert "UTF-8" in str(caught.value)


class TestStoreUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "sqlite://",
            "sqlite:///relative.db",
            "sqlite:////var/lib/udemy360/udemy360.db",
            "postgresql://udemy360@db.example/udemy360",
            "postgres://udemy360@db.example:5432/udemy360",
            "postgresql+psycopg://udemy360:pw@127.0.0.1:65535/udemy360",
        ],
    )
    def test_sqlite_and_postgresql_urls_are_accepted(self, tmp_path: Path, url: str) -> None:
        """SQLite and PostgreSQL (psycopg) URLs load unchanged."""
        assert load_settings(write(tmp_path, f'store_url = "{url}"\n' + BASIC)).store_url == url

    @pytest.mark.parametrize(
        ("url", "hint"),
        [
            ("udemy360.db", "sqlite:///"),
            ("", "sqlite:///"),
            ("mysql://u:DbPass123@db.example/udemy360", "SQLite or PostgreSQL"),
            ("postgresql+psycopg2://u:DbPass123@db.example/udemy360", "SQLite or PostgreSQL"),
            ("postgresql://u:DbPass123@db.example:99999/udemy360", "1 to 65535"),
            ("postgresql://u:DbPass123@db.example:0/udemy360", "1 to 65535"),
            ("postgresql://u:DbPass123@db.example:port/udemy360", "sqlite:///"),
        ],
    )
    def test_unusable_url_names_store_url_and_fix(
        self, tmp_path: Path, url: str, hint: str
    ) -> None:
        """A malformed URL, another database or a bad port names store_url, never its password."""
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, f'store_url = "{url}"\n' + BASIC))
        message = str(caught.value)
        assert caught.value.problems[0].setting == "store_url"
        assert "UDEMY360_STORE_URL" in message
        assert hint in message
        assert "DbPass123" not in message

    def test_env_store_url_is_checked_too(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """UDEMY360_STORE_URL goes through the same check as the file."""
        monkeypatch.setenv("UDEMY360_STORE_URL", "oracle://x/y")
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC))
        assert caught.value.problems[0].setting == "store_url"


class TestBaseUrls:
    @pytest.mark.parametrize(
        ("section", "url"),
        [
            ("udemy", "https://acme.udemy.com:99999/api-2.0/organizations/1/"),
            ("udemy", "https://acme.udemy.com:0/api-2.0/organizations/1/"),
            ("udemy", "https://acme.udemy.com:http/api-2.0/organizations/1/"),
            ("learning360", "https://app.360learning.com:65536/"),
            ("learning360", "http://127.0.0.1:123456/"),
        ],
    )
    def test_port_out_of_range(self, tmp_path: Path, section: str, url: str) -> None:
        """A base URL whose port is not 1..65535 names the setting and the fix."""
        text = BASIC.replace(f"[{section}]", f'[{section}]\nbase_url = "{url}"')
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        assert caught.value.problems[0].setting == f"{section}.base_url"
        assert "1 to 65535" in str(caught.value)

    def test_credentials_in_base_url_are_not_repeated(self, tmp_path: Path) -> None:
        """A base URL with user:password@ is refused without echoing the password."""
        url = "ftp://user:UrlPass123@acme.udemy.com/api-2.0/"
        text = BASIC.replace("[udemy]", f'[udemy]\nbase_url = "{url}"')
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, text))
        assert caught.value.problems[0].setting == "udemy.base_url"
        assert "UrlPass123" not in str(caught.value)

    def test_loopback_base_url_with_port_loads(self, tmp_path: Path) -> None:
        """A sandbox base URL (http, loopback, a port) is accepted."""
        url = "http://127.0.0.1:8361/api-2.0/organizations/1/"
        text = BASIC.replace("[udemy]", f'[udemy]\nbase_url = "{url}"')
        assert load_settings(write(tmp_path, text)).udemy.base_url == url


class TestSecretsStayHidden:
    def test_repr_and_dump_mask_secrets(self, tmp_path: Path) -> None:
        """Neither the repr nor redacted() shows a secret value."""
        settings = load_settings(write(tmp_path, BASIC))
        for text in (repr(settings), str(settings), str(settings.redacted())):
            assert "plain-udemy-secret" not in text
            assert "plain-l360-secret" not in text

    def test_database_password_is_masked(self, tmp_path: Path) -> None:
        """A PostgreSQL password in store_url is masked and known to the log scrubber."""
        url = "postgresql+psycopg://udemy360:S3cretDbPass@db.example/udemy360"
        settings = load_settings(write(tmp_path, f'store_url = "{url}"\n' + BASIC))
        for text in (repr(settings), str(settings), str(settings.redacted())):
            assert "S3cretDbPass" not in text
        assert settings.redacted()["store_url"] == (
            "postgresql+psycopg://udemy360:***@db.example/udemy360"
        )
        assert "S3cretDbPass" in settings.secret_values()

    def test_validation_errors_never_echo_input(self, tmp_path: Path) -> None:
        """An invalid configuration's message does not repeat the secrets it held."""
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, BASIC.replace(GROUP, "bad")))
        assert "plain-udemy-secret" not in str(caught.value)
        assert caught.value.__cause__ is None


class TestWriting:
    def test_rendered_file_loads(self, tmp_path: Path) -> None:
        """The init template is valid TOML that loads back to the answers."""
        key = create_key_file(key_path_for(tmp_path / "udemy360.toml"))
        answers = InitAnswers(
            udemy_account_name="acme",
            udemy_account_id="123456",
            udemy_client_id="id",
            udemy_client_secret_enc=SecretBox(key).encrypt("u-secret"),
            l360_client_id="lid",
            l360_client_secret_enc=SecretBox(key).encrypt("l-secret"),
            l360_group_id=GROUP,
            l360_owner_id=OWNER,
            tags=True,
        )
        path = tmp_path / "udemy360.toml"
        path.write_text(render_config(answers, config_path=path))
        settings = load_settings(path)
        assert settings.options.tags is True
        assert settings.learning360.integration_id is None
        assert settings.udemy.client_secret is not None
        assert settings.udemy.client_secret.get_secret_value() == "u-secret"
        assert "u-secret" not in path.read_text()

    def test_render_refuses_plaintext(self, tmp_path: Path) -> None:
        """render_config never writes a plain secret."""
        with pytest.raises(ValueError, match="encrypted"):
            render_config(InitAnswers(udemy_client_secret_enc="plain"), config_path=tmp_path / "x")

    def test_write_value_replaces_and_keeps_comments(self, tmp_path: Path) -> None:
        """write_config_value sets a key in its section and leaves comments alone."""
        path = write(tmp_path, "# top\n[learning360]\n# the id\n# integration_id = \n\n[options]\n")
        write_config_value(path, "learning360", "integration_id", "abc")
        write_config_value(path, "learning360", "integration_id", "def")
        text = path.read_text()
        assert text.count("integration_id") == 1
        assert 'integration_id = "def"' in text
        assert "# the id" in text
        assert text.index("integration_id") < text.index("[options]")

    def test_write_value_adds_missing_section(self, tmp_path: Path) -> None:
        """A section absent from the file is appended."""
        path = write(tmp_path, "[udemy]\n")
        write_config_value(path, "learning360", "integration_id", GROUP)
        assert load_settings(path).learning360.integration_id == GROUP


class TestRequestDeadline:
    def test_default_and_bounds(self) -> None:
        """Each request has a 180 s overall deadline by default; out-of-range values are refused."""
        from udemy360.config import LimitSettings

        assert LimitSettings().request_deadline == 180.0
        with pytest.raises(ValueError, match="request_deadline"):
            LimitSettings(request_deadline=0)
