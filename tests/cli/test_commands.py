"""The CLI through typer's runner against both sandboxes on loopback."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from udemy360.cli import app
from udemy360.cli._demo import Sandboxes
from udemy360.store import Store

runner = CliRunner()


def cli(config: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["--config", str(config), *args], input=input)


def output(result: Result) -> str:
    return result.stdout + result.stderr


def secrets_of(boxes: Sandboxes) -> list[str]:
    return [boxes.udemy.credentials_dict()["client_secret"], boxes.l360.client_secret]


class TestHelp:
    def test_help_lists_commands(self) -> None:
        """--help describes every command."""
        result = runner.invoke(app, ["--help"])
        assert result.exit_code == 0
        commands = (
            "init",
            "check",
            "setup",
            "sync",
            "runs",
            "learners",
            "deactivate",
            "run",
            "demo",
        )
        for command in commands:
            assert command in result.stdout

    def test_usage_error_is_2(self) -> None:
        """An unknown option is a usage error: exit code 2."""
        assert runner.invoke(app, ["sync", "courses", "--bogus"]).exit_code == 2


class TestInit:
    def test_non_interactive_writes_encrypted_file(self, tmp_path: Path) -> None:
        """init with flags writes a loadable file holding no plaintext secret, and a 0600 key."""
        path = tmp_path / "udemy360.toml"
        result = cli(
            path,
            "init",
            "--non-interactive",
            "--udemy-account-name", "acme",
            "--udemy-account-id", "123456",
            "--udemy-client-id", "uid",
            "--udemy-client-secret", "udemy-plain-secret",
            "--l360-client-id", "lid",
            "--l360-client-secret", "l360-plain-secret",
            "--group-id", "64b7f0c2a1b2c3d4e5f60718",
            "--owner-id", "64b7f0c2a1b2c3d4e5f60719",
            "--tags",
        )  # fmt: skip
        assert result.exit_code == 0, output(result)
        text = path.read_text()
        assert "udemy-plain-secret" not in text
        assert "l360-plain-secret" not in text
        data = tomllib.loads(text)
        assert data["udemy"]["client_secret"].startswith("enc:")
        assert data["options"]["tags"] is True
        assert (tmp_path / "udemy360.key").stat().st_mode & 0o777 == 0o600
        assert "udemy-plain-secret" not in output(result)

    def test_interactive_prompts(self, tmp_path: Path) -> None:
        """Without flags init asks, hiding the secrets it reads."""
        path = tmp_path / "udemy360.toml"
        answers = "\n".join(
            [
                "acme", "123456", "uid", "eu", "lid",
                "64b7f0c2a1b2c3d4e5f60718", "64b7f0c2a1b2c3d4e5f60719", "Udemy",
                "n", "y", "typed-udemy-secret", "typed-l360-secret",
            ]
        )  # fmt: skip
        result = cli(path, "init", input=answers + "\n")
        assert result.exit_code == 0, output(result)
        assert "typed-udemy-secret" not in output(result)
        data = tomllib.loads(path.read_text())
        assert data["options"]["learning_paths"] is True
        assert data["learning360"]["client_secret"].startswith("enc:")

    def test_refuses_to_overwrite(self, config_path: Path) -> None:
        """An existing file is kept unless --force is given."""
        before = config_path.read_text()
        result = cli(config_path, "init", "--non-interactive")
        assert result.exit_code == 2
        assert config_path.read_text() == before

    def test_config_encrypt(self, tmp_path: Path) -> None:
        """config encrypt turns a hand-written plain secret into an enc: value that loads."""
        path = tmp_path / "udemy360.toml"
        path.write_text('[udemy]\nclient_secret = "hand-written"\n')
        assert cli(path, "config", "encrypt").exit_code == 0
        assert "hand-written" not in path.read_text()
        shown = cli(path, "config", "show")
        assert shown.exit_code == 0
        assert "hand-written" not in output(shown)


class TestConfigErrors:
    def test_invalid_value_exits_2_naming_setting(self, tmp_path: Path) -> None:
        """A bad setting exits with 2 and names the setting and its environment variable."""
        path = tmp_path / "udemy360.toml"
        path.write_text('[learning360]\ngroup_id = "nope"\nclient_secret = "leaky-secret"\n')
        result = cli(path, "check")
        assert result.exit_code == 2
        assert "learning360.group_id" in output(result)
        assert "UDEMY360_LEARNING360__GROUP_ID" in output(result)
        assert "leaky-secret" not in output(result)

    def test_missing_explicit_config(self, tmp_path: Path) -> None:
        """A missing --config file exits with 2 and says to run init."""
        result = cli(tmp_path / "nope.toml", "sync", "courses")
        assert result.exit_code == 2
        assert "udemy360 init" in output(result)

    def test_sync_before_setup_is_refused(self, config_path: Path) -> None:
        """sync before setup fails with a message telling to run setup."""
        result = cli(config_path, "sync", "courses")
        assert result.exit_code == 1
        assert "udemy360 setup" in output(result)


class TestCheckAndSetup:
    def test_check_before_setup_fails_on_integration(self, config_path: Path) -> None:
        """Before setup, check exits 1 and shows the integration item's fix."""
        result = cli(config_path, "check")
        assert result.exit_code == 1
        assert "udemy360 setup" in result.stdout
        assert "✓" in result.stdout
        assert "✗" in result.stdout

    def test_setup_then_check_passes(self, config_path: Path, boxes: Sandboxes) -> None:
        """setup records the integration in the config file; check then exits 0."""
        result = cli(config_path, "setup")
        assert result.exit_code == 0, output(result)
        [integration] = boxes.l360.world.integrations.values()
        data = tomllib.loads(config_path.read_text())
        assert data["learning360"]["integration_id"] == integration.id
        checked = cli(config_path, "check")
        assert checked.exit_code == 0, checked.stdout

    def test_setup_dry_run_writes_nothing(self, config_path: Path, boxes: Sandboxes) -> None:
        """setup --dry-run says it would create the integration and writes nowhere."""
        before = config_path.read_text()
        result = cli(config_path, "setup", "--dry-run")
        assert result.exit_code == 0, output(result)
        assert "would create" in result.stdout
        assert boxes.l360.world.integrations == {}
        assert boxes.l360.write_count == 0
        assert config_path.read_text() == before

    def test_setup_twice_one_integration(self, config_path: Path, boxes: Sandboxes) -> None:
        """Running setup twice leaves exactly one integration."""
        assert cli(config_path, "setup").exit_code == 0
        assert cli(config_path, "setup").exit_code == 0
        assert len(boxes.l360.world.integrations) == 1

    def test_missing_scope_exit_1(self, config_path: Path, boxes: Sandboxes) -> None:
        """check exits 1 and names the missing scope."""
        cli(config_path, "setup")
        boxes.l360.set_scopes(set(boxes.l360.world.credential.scopes) - {"bulkOperations:read"})
        result = cli(config_path, "check")
        assert result.exit_code == 1
        assert "bulkOperations:read" in result.stdout

    def test_without_users_read_check_warns_and_passes(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """Missing users:read is a warning (exit 0) that names the learner directory."""
        assert cli(config_path, "setup").exit_code == 0
        boxes.l360.set_scopes(set(boxes.l360.world.credential.scopes) - {"users:read"})
        result = cli(config_path, "check")
        assert result.exit_code == 0, result.stdout
        assert "users:read" in result.stdout
        assert "learner directory" in result.stdout

    def test_reserved_platform_name(self, config_path: Path, boxes: Sandboxes) -> None:
        """A reserved platform name makes setup exit 1 explaining the platform_name setting."""
        reserved = boxes.l360.world.reserved_platforms[0]
        text = config_path.read_text().replace(
            'platform_name = "Udemy"', f'platform_name = "{reserved}"'
        )
        config_path.write_text(text)
        result = cli(config_path, "setup")
        assert result.exit_code == 1
        assert "platform_name" in output(result)


class TestSyncAndRuns:
    def test_sync_all_then_runs(self, config_path: Path, boxes: Sandboxes) -> None:
        """sync all lands the catalog and statistics; runs and runs show report them."""
        assert cli(config_path, "setup").exit_code == 0
        result = cli(config_path, "sync", "all")
        assert result.exit_code in (0, 3), output(result)
        assert len(boxes.l360.world.courses) == boxes.udemy.tenant.course_count
        assert boxes.l360.world.attempts
        history = cli(config_path, "runs")
        assert history.exit_code == 0
        assert "courses" in history.stdout
        assert "stats" in history.stdout
        shown = cli(config_path, "runs", "show", "2")
        assert shown.exit_code == 0
        assert "Unmatched learners" in shown.stdout
        for secret in secrets_of(boxes):
            assert secret not in output(result) + history.stdout + shown.stdout

    def test_dry_run_writes_nothing(self, config_path: Path, boxes: Sandboxes) -> None:
        """sync courses --dry-run sends no write to 360Learning."""
        assert cli(config_path, "setup").exit_code == 0
        writes = boxes.l360.write_count
        result = cli(config_path, "sync", "courses", "--dry-run")
        assert result.exit_code == 0, output(result)
        assert boxes.l360.write_count == writes
        assert not boxes.l360.world.courses

    def test_runs_show_unknown_id(self, config_path: Path) -> None:
        """runs show with an unknown id exits 2."""
        assert cli(config_path, "runs", "show", "999").exit_code == 2

    def test_json_logs_carry_connection_and_no_secret(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """With --log-format json each engine line is JSON with the connection; no secret."""
        import json

        assert cli(config_path, "setup").exit_code == 0
        result = cli(config_path, "--log-format", "json", "--verbose", "sync", "courses")
        lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
        assert lines
        events = [json.loads(line) for line in lines]
        assert any(e.get("connection") == "default" and e.get("job") == "courses" for e in events)
        for secret in secrets_of(boxes):
            assert secret not in result.stderr


class TestDeactivate:
    def test_deactivate_stops_sync_and_setup_reactivates(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """A deactivated connection refuses sync; setup turns it back on."""
        assert cli(config_path, "setup").exit_code == 0
        assert cli(config_path, "deactivate").exit_code == 0
        refused = cli(config_path, "sync", "courses")
        assert refused.exit_code == 1
        assert "deactivated" in output(refused)
        assert cli(config_path, "setup").exit_code == 0
        assert cli(config_path, "sync", "courses").exit_code == 0

    def test_deactivate_dry_run_changes_nothing(self, config_path: Path, boxes: Sandboxes) -> None:
        """deactivate --dry-run --delete-integration describes both steps and does neither."""
        assert cli(config_path, "setup").exit_code == 0
        writes = boxes.l360.write_count
        result = cli(config_path, "deactivate", "--delete-integration", "--dry-run")
        assert result.exit_code == 0, output(result)
        assert "would delete integration" in result.stdout
        assert boxes.l360.write_count == writes
        assert cli(config_path, "sync", "courses").exit_code == 0

    def test_delete_integration_needs_confirmation(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """--delete-integration asks first; answering no deletes nothing."""
        assert cli(config_path, "setup").exit_code == 0
        result = cli(config_path, "deactivate", "--delete-integration", input="n\n")
        assert result.exit_code == 1
        assert len(boxes.l360.world.integrations) == 1

    def test_delete_integration_with_yes(self, config_path: Path, boxes: Sandboxes) -> None:
        """--delete-integration --yes deletes it and forgets its id in the store."""
        assert cli(config_path, "setup").exit_code == 0
        integration_id = next(iter(boxes.l360.world.integrations))
        assert cli(config_path, "deactivate", "--delete-integration", "--yes").exit_code == 0
        remaining = boxes.l360.world.integrations.get(integration_id)
        assert remaining is None or not remaining.active
        data = tomllib.loads(config_path.read_text())
        with Store.open(data["store_url"]) as store:
            row = store.connections.get("default")
        assert row is not None
        assert row.integration_id is None
        assert not row.active


@pytest.mark.parametrize("args", [["config", "show"], ["check"], ["runs"]])
def test_no_secret_in_any_output(config_path: Path, boxes: Sandboxes, args: list[str]) -> None:
    """Neither stdout nor stderr of common commands ever shows a secret."""
    result = cli(config_path, *args)
    for secret in secrets_of(boxes):
        assert secret not in output(result)
