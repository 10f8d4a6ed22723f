"""Configuration and store errors: one paragraph naming the setting and the fix, exit code 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from udemy360.cli import app
from udemy360.cli._errors import ErrorMappingGroup
from udemy360.config import ConfigError
from udemy360.store import StoreDataError, StoreUnavailable

runner = CliRunner()

SYNC_SETTINGS = (
    "udemy.account_name",
    "udemy.account_id",
    "udemy.client_id",
    "udemy.client_secret",
    "learning360.client_id",
    "learning360.client_secret",
    "learning360.owner_id",
)
CONFIGURED = {
    "UDEMY360_UDEMY__ACCOUNT_NAME": "acme",
    "UDEMY360_UDEMY__ACCOUNT_ID": "123456",
    "UDEMY360_UDEMY__CLIENT_ID": "udemy-id",
    "UDEMY360_UDEMY__CLIENT_SECRET": "udemy-env-secret",
    "UDEMY360_LEARNING360__CLIENT_ID": "l360-id",
    "UDEMY360_LEARNING360__CLIENT_SECRET": "l360-env-secret",
    "UDEMY360_LEARNING360__OWNER_ID": "64b7f0c2a1b2c3d4e5f60719",
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory: no ./udemy360.toml, so nothing is configured."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every setting a sync needs comes from the environment."""
    for name, value in CONFIGURED.items():
        monkeypatch.setenv(name, value)


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def output(result: Result) -> str:
    return result.stdout + result.stderr


def assert_config_exit(result: Result, *named: str) -> None:
    """Exit 2 through SystemExit (no exception escaped), the names on stderr, no traceback."""
    assert result.exit_code == 2, output(result)
    assert type(result.exception) is SystemExit, result.exception
    assert "Traceback" not in output(result)
    assert result.stderr.startswith("error: ")
    for name in named:
        assert name in result.stderr


class TestNothingConfigured:
    @pytest.mark.parametrize(
        "command",
        [("sync", "all"), ("sync", "courses"), ("sync", "stats"), ("run",)],
    )
    def test_sync_names_missing_settings_and_creates_no_store(
        self, workdir: Path, command: tuple[str, ...]
    ) -> None:
        """With no configuration a sync exits 2, names every missing setting, creates no file."""
        result = invoke(*command)
        assert_config_exit(result, *SYNC_SETTINGS, "udemy360 init", "UDEMY360_UDEMY__CLIENT_ID")
        assert "no configuration file at" in result.stderr
        assert list(workdir.iterdir()) == []

    def test_setup_names_its_settings_and_creates_no_store(self, workdir: Path) -> None:
        """setup checks its own settings (group, owner, 360 credentials) before the store."""
        result = invoke("setup")
        assert_config_exit(result, "learning360.group_id", "learning360.owner_id")
        assert list(workdir.iterdir()) == []

    def test_check_reports_and_creates_no_store(self, workdir: Path) -> None:
        """check shows what is missing in its table, and opens no store to do so."""
        result = invoke("check")
        assert result.exit_code == 1
        assert "udemy.account_name" in result.stdout
        assert list(workdir.iterdir()) == []

    def test_one_missing_setting_is_named_alone(
        self, workdir: Path, configured: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only the unset setting is named, with its variable."""
        monkeypatch.delenv("UDEMY360_LEARNING360__OWNER_ID")
        result = invoke("sync", "courses")
        assert_config_exit(result, "learning360.owner_id is not set")
        assert "udemy.account_name" not in result.stderr
        assert list(workdir.iterdir()) == []

    @pytest.mark.e2e
    def test_real_process_prints_no_traceback(self, workdir: Path) -> None:
        """As a real process, `sync all` with no configuration exits 2 with a message only."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("UDEMY360_")}
        done = subprocess.run(
            [sys.executable, "-m", "udemy360", "sync", "all"],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "udemy.account_name" in done.stderr
        assert list(workdir.iterdir()) == []


class TestStoreUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "udemy360.db",
            "mysql://u:DbPass123@db.example/udemy360",
            "postgresql://u:DbPass123@db.example:99999/udemy360",
        ],
    )
    def test_malformed_store_url(
        self, workdir: Path, configured: None, monkeypatch: pytest.MonkeyPatch, url: str
    ) -> None:
        """A store_url that is no usable database URL exits 2 naming store_url, no password."""
        monkeypatch.setenv("UDEMY360_STORE_URL", url)
        for command in (("runs",), ("sync", "all")):
            result = invoke(*command)
            assert_config_exit(result, "store_url", "UDEMY360_STORE_URL")
            assert "DbPass123" not in output(result)

    def test_unreachable_server(
        self, workdir: Path, configured: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A PostgreSQL server nobody listens for exits 2 naming store_url, password masked."""
        monkeypatch.setenv(
            "UDEMY360_STORE_URL", "postgresql+psycopg://u:DbPass123@127.0.0.1:1/udemy360"
        )
        result = invoke("sync", "courses")
        assert_config_exit(result, "store_url", "127.0.0.1:1", "reachable")
        assert "DbPass123" not in output(result)

    def test_uncreatable_sqlite_path(
        self, workdir: Path, configured: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A SQLite file whose directory cannot be created exits 2 naming store_url."""
        (workdir / "a-file").write_text("")
        monkeypatch.setenv("UDEMY360_STORE_URL", f"sqlite:///{workdir / 'a-file' / 'x.db'}")
        result = invoke("runs")
        assert_config_exit(result, "store_url", str(workdir / "a-file"))


class TestBadConfiguration:
    def test_non_utf8_config_file(self, workdir: Path) -> None:
        """A configuration file that is not UTF-8 exits 2 naming the file and the fix."""
        path = workdir / "udemy360.toml"
        path.write_bytes(b'[udemy]\naccount_name = "\xff"\n')
        for command in (("config", "show"), ("sync", "all"), ("check",)):
            result = invoke(*command)
            assert_config_exit(result, str(path), "UTF-8")

    def test_bad_json_in_options_variable(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """UDEMY360_OPTIONS holding bad JSON exits 2 naming the variable."""
        monkeypatch.setenv("UDEMY360_OPTIONS", '{"tags": tru')
        result = invoke("config", "show")
        assert_config_exit(result, "UDEMY360_OPTIONS", "UDEMY360_OPTIONS__KEY=value")

    @pytest.mark.parametrize(
        ("variable", "value", "setting"),
        [
            ("UDEMY360_STORE_URL", "postgresql://u@127.0.0.1:70000/x", "store_url"),
            ("UDEMY360_UDEMY__BASE_URL", "https://acme.udemy.com:99999/api/", "udemy.base_url"),
            ("UDEMY360_LEARNING360__BASE_URL", "http://127.0.0.1:0/", "learning360.base_url"),
        ],
    )
    def test_port_out_of_range(
        self,
        workdir: Path,
        monkeypatch: pytest.MonkeyPatch,
        variable: str,
        value: str,
        setting: str,
    ) -> None:
        """A port outside 1..65535 in a URL setting exits 2 naming the setting."""
        monkeypatch.setenv(variable, value)
        result = invoke("config", "show")
        assert_config_exit(result, setting, "1 to 65535")

    @pytest.mark.parametrize("option", ["--udemy-port", "--l360-port"])
    def test_sandbox_port_out_of_range(self, option: str) -> None:
        """sandbox refuses a port above 65535 as a usage error (exit 2) naming the option."""
        result = invoke("sandbox", option, "99999")
        assert result.exit_code == 2
        assert option in result.stderr


class TestKeyFile:
    def test_shared_key_file_is_warned_about(self, workdir: Path) -> None:
        """A key file others can read gets a warning naming it and the chmod fix; it still works."""
        path = workdir / "udemy360.toml"
        created = invoke(
            "--config", str(path), "init", "--non-interactive",
            "--udemy-account-name", "acme", "--udemy-account-id", "123456",
            "--udemy-client-id", "uid", "--udemy-client-secret", "udemy-plain-secret",
            "--l360-client-id", "lid", "--l360-client-secret", "l360-plain-secret",
            "--group-id", "64b7f0c2a1b2c3d4e5f60718", "--owner-id", "64b7f0c2a1b2c3d4e5f60719",
        )  # fmt: skip
        assert created.exit_code == 0, output(created)
        key = workdir / "udemy360.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert "chmod" not in output(invoke("--config", str(path), "config", "show"))
        key.chmod(0o644)
        result = invoke("--config", str(path), "config", "show")
        assert result.exit_code == 0, output(result)
        assert str(key) in result.stderr
        assert f"chmod 600 {key}" in result.stderr
        assert "udemy-plain-secret" not in output(result)


class TestErrorMappingGroup:
    """The root group itself, on a two-command app built for the test."""

    @staticmethod
    def app_raising(error: Exception) -> typer.Typer:
        tiny = typer.Typer(cls=ErrorMappingGroup)

        @tiny.command()
        def boom() -> None:
            raise error

        @tiny.command()
        def fine() -> None:
            typer.echo("ok")

        return tiny

    @pytest.mark.parametrize(
        "error",
        [
            ConfigError("store_url: [not] a database URL"),
            StoreUnavailable(
                "postgresql://db.example:5432/x", "cannot reach the server", "start it"
            ),
        ],
    )
    def test_config_and_store_errors_exit_2(self, error: Exception) -> None:
        """A ConfigError or StoreUnavailable from any command is one message and exit 2."""
        result = runner.invoke(self.app_raising(error), ["boom"])
        assert_config_exit(result, str(error))

    def test_store_error_names_store_url(self) -> None:
        """A store error's message says which setting to look at."""
        result = runner.invoke(
            self.app_raising(StoreUnavailable("sqlite:///x.db", "unreachable", "fix it")), ["boom"]
        )
        assert_config_exit(result, "store_url", "UDEMY360_STORE_URL")

    def test_other_exceptions_are_not_hidden(self) -> None:
        """A bug keeps its exception (and traceback): it is not dressed up as configuration."""
        result = runner.invoke(self.app_raising(RuntimeError("bug")), ["boom"])
        assert result.exit_code == 1
        assert isinstance(result.exception, RuntimeError)

    def test_a_refused_write_is_not_a_setting(self) -> None:
        """A store error other than an unusable store is not blamed on the configuration."""
        result = runner.invoke(
            self.app_raising(StoreDataError("items.upsert", "DataError")), ["boom"]
        )
        assert result.exit_code == 1
        assert isinstance(result.exception, StoreDataError)

    def test_exit_codes_of_commands_pass_through(self) -> None:
        """A command that succeeds exits 0 with its output."""
        result = runner.invoke(self.app_raising(RuntimeError("unused")), ["fine"])
        assert (result.exit_code, result.stdout) == (0, "ok\n")
