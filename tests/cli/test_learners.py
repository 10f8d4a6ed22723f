"""``udemy360 learners``: waiting learners, the directory and alias rules, against real runs."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from udemy360.cli import app
from udemy360.cli._demo import Sandboxes
from udemy360.cli._learners import AliasInputError, parse_alias, read_alias_csv
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.seed import learner_email
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy import UdemySandbox, UdemyTenant
from udemy360.sandbox.udemy.tenant import ID_BASE
from udemy360.store import AliasRow, Store

runner = CliRunner()

COURSES = (ID_BASE + 1, ID_BASE + 2)


@pytest.fixture
def boxes() -> Iterator[Sandboxes]:
    """Both sandboxes on loopback, with no generated activity: each test writes its own rows."""
    udemy = UdemySandbox(UdemyTenant(courses=5, learning_paths=0, learners=10, activity_rows=0))
    l360 = Learning360Sandbox(learners=10)
    l360.faults.clear()
    with serve_in_thread(udemy.app) as udemy_root, serve_in_thread(l360.app) as l360_root:
        yield Sandboxes(udemy, l360, udemy.base_url(udemy_root), l360_root)


def cli(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["--config", str(config), *args])


def output(result: Result) -> str:
    return result.stdout + result.stderr


def ok(config: Path, *args: str) -> Result:
    result = cli(config, *args)
    assert result.exit_code == 0, output(result)
    return result


def stored_aliases(config: Path) -> list[AliasRow]:
    with Store.open(tomllib.loads(config.read_text())["store_url"]) as store:
        return store.learners.aliases("default")


def unmatched_json(config: Path, *args: str) -> dict[str, object]:
    data = json.loads(ok(config, "learners", "unmatched", "--json", *args).stdout)
    assert isinstance(data, dict)
    return data


def set_up(config: Path) -> None:
    ok(config, "setup")
    ok(config, "sync", "courses")


def attempts(boxes: Sandboxes, mail: str, course: int) -> list[dict[str, object]]:
    [course_id] = [c.id for c in boxes.l360.world.courses.values() if c.external_id == str(course)]
    return boxes.l360.attempts_for(mail, course_id)


def sent_identifiers(boxes: Sandboxes) -> list[object]:
    """The userIdentifier of every statistic posted to 360Learning."""
    found: list[object] = []
    for entry in boxes.l360.requests:
        if entry.method == "POST" and entry.path.endswith("/stats"):
            assert isinstance(entry.json, dict)
            found += [item["userIdentifier"] for item in entry.json["input"]]
    return found


class TestUnmatched:
    def test_lists_the_learners_whose_statistics_wait(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """After a stats run, the learner 360Learning does not know is listed with a summary."""
        set_up(config_path)
        for course in COURSES:
            boxes.udemy.tenant.advance_learner("ghost@example.org", course, progress=30)
        boxes.udemy.tenant.advance_learner(0, COURSES[0], progress=50)
        ok(config_path, "sync", "stats")
        result = ok(config_path, "learners", "unmatched")
        assert "ghost@example.org" in result.stdout
        assert learner_email(0) not in result.stdout
        assert "no 360Learning user has this email" in result.stdout
        assert "2 statistic(s) of 1 learner(s) wait, on 2 course(s)" in result.stdout

    def test_json_gives_every_field(self, config_path: Path, boxes: Sandboxes) -> None:
        """--json prints the summary and each learner with courses, first seen and reason."""
        set_up(config_path)
        for course in COURSES:
            boxes.udemy.tenant.advance_learner("ghost@example.org", course, progress=30)
        ok(config_path, "sync", "stats")
        data = unmatched_json(config_path)
        summary = data["summary"]
        assert isinstance(summary, dict)
        assert (summary["rows"], summary["learners"], summary["courses"]) == (2, 1, 2)
        assert summary["first_seen"]
        [learner] = data["learners"]  # type: ignore[misc]
        assert learner["mail"] == "ghost@example.org"
        assert learner["courses"] == 2
        assert sorted(learner["course_ids"]) == sorted(str(c) for c in COURSES)
        assert "no 360Learning user" in learner["last_reason"]
        assert learner["first_seen"]

    def test_limit_lists_most_courses_first(self, config_path: Path, boxes: Sandboxes) -> None:
        """--limit 1 shows the learner with the most courses and says how many more wait."""
        set_up(config_path)
        for course in COURSES:
            boxes.udemy.tenant.advance_learner("many@example.org", course, progress=30)
        boxes.udemy.tenant.advance_learner("one@example.org", COURSES[0], progress=30)
        ok(config_path, "sync", "stats")
        result = ok(config_path, "learners", "unmatched", "--limit", "1")
        assert "many@example.org" in result.stdout
        assert "one@example.org" not in result.stdout
        assert "and 1 more learner(s)" in result.stdout

    def test_nothing_waiting(self, config_path: Path) -> None:
        """With no waiting statistic the command says so and exits 0."""
        result = ok(config_path, "learners", "unmatched")
        assert "No statistic is waiting" in result.stdout
        assert unmatched_json(config_path)["learners"] == []

    def test_limit_below_one_is_a_usage_error(self, config_path: Path) -> None:
        """--limit 0 exits with 2."""
        assert cli(config_path, "learners", "unmatched", "--limit", "0").exit_code == 2


class TestAliasAdd:
    def test_a_domain_rule_sends_the_waiting_rows_on_the_next_stats_run(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """A learner waiting under an old domain is sent by user id once a rule maps it."""
        set_up(config_path)
        boxes.l360.add_user("ann@corp.com")
        boxes.udemy.tenant.advance_learner("Ann@Corp-Old.com", COURSES[0], progress=20)
        ok(config_path, "sync", "stats")
        assert unmatched_json(config_path)["learners"] != []
        added = ok(config_path, "learners", "alias", "add", "--domain", "@Corp-Old.com", "corp.com")
        assert "Added domain alias corp-old.com → corp.com" in added.stdout
        assert "1 learner(s) whose statistics wait now match" in added.stdout
        ok(config_path, "sync", "stats")
        assert attempts(boxes, "ann@corp.com", COURSES[0])[0]["progress"] == 20
        [user] = [u for u in boxes.l360.world.users.values() if u.mail == "ann@corp.com"]
        assert {"type": "internalId", "value": user.id} in sent_identifiers(boxes)
        assert unmatched_json(config_path)["learners"] == []

    def test_a_mail_rule_matches_one_learner(self, config_path: Path, boxes: Sandboxes) -> None:
        """An explicit mail alias makes that learner's waiting statistic sendable."""
        set_up(config_path)
        boxes.l360.add_user("robert.smith@corp.com")
        boxes.udemy.tenant.advance_learner("bob@corp.com", COURSES[1], progress=60)
        ok(config_path, "sync", "stats")
        ok(
            config_path,
            "learners", "alias", "add", "--mail", "bob@corp.com", "Robert.Smith@corp.com",
        )  # fmt: skip
        ok(config_path, "sync", "stats")
        assert attempts(boxes, "robert.smith@corp.com", COURSES[1])[0]["progress"] == 60
        assert unmatched_json(config_path)["learners"] == []

    def test_dry_run_writes_nothing(self, config_path: Path) -> None:
        """--dry-run says what it would add and stores no rule."""
        ok(config_path, "setup")
        result = ok(
            config_path, "learners", "alias", "add", "--domain", "old.com", "new.com", "--dry-run"
        )
        assert "would add domain alias old.com → new.com" in result.stdout
        assert stored_aliases(config_path) == []

    def test_a_second_add_changes_the_target(self, config_path: Path) -> None:
        """Adding a rule for a source that has one replaces its target and says what it was."""
        ok(config_path, "setup")
        ok(config_path, "learners", "alias", "add", "--mail", "a@x.com", "b@y.com")
        result = ok(config_path, "learners", "alias", "add", "--mail", "a@x.com", "c@y.com")
        assert "(was b@y.com)" in result.stdout
        assert [(r.kind, r.source, r.target) for r in stored_aliases(config_path)] == [
            ("mail", "a@x.com", "c@y.com")
        ]

    @pytest.mark.parametrize(
        ("option", "source", "target", "named"),
        [
            ("--mail", "not-a-mail", "b@y.com", "'not-a-mail' is not an email address"),
            ("--mail", "a@x.com", "b@y", "'b@y' is not an email address"),
            ("--mail", "a b@x.com", "b@y.com", "is not an email address"),
            ("--domain", "corp", "corp.com", "'corp' is not a domain"),
            ("--domain", "corp.com", "a@corp.com", "'a@corp.com' is not a domain"),
            ("--domain", "-corp.com", "corp.com", "is not a domain"),
            ("--domain", "corp.com", "Corp.com", "maps corp.com to itself"),
        ],
    )
    def test_invalid_input_is_a_usage_error(
        self, config_path: Path, option: str, source: str, target: str, named: str
    ) -> None:
        """A mail or domain that does not look like one exits 2 naming it; nothing is stored."""
        ok(config_path, "setup")
        result = cli(config_path, "learners", "alias", "add", option, source, target)
        assert result.exit_code == 2
        assert named in output(result)
        assert stored_aliases(config_path) == []

    @pytest.mark.parametrize(
        "args", [[], ["--mail", "a@x.com", "b@y.com", "--domain", "old.com", "new.com"]]
    )
    def test_exactly_one_kind(self, config_path: Path, args: list[str]) -> None:
        """Neither or both of --mail and --domain is a usage error."""
        result = cli(config_path, "learners", "alias", "add", *args)
        assert result.exit_code == 2
        assert "exactly one of --mail and --domain" in output(result)

    def test_refused_before_setup(self, config_path: Path) -> None:
        """Rules belong to a set-up connection: before setup the command says to run it."""
        result = cli(config_path, "learners", "alias", "add", "--domain", "old.com", "new.com")
        assert result.exit_code == 1
        assert "udemy360 setup" in output(result)


class TestAliasesAndRemove:
    def test_list_then_remove(self, config_path: Path) -> None:
        """aliases lists the rules (also as JSON); remove deletes the one named."""
        ok(config_path, "setup")
        assert "No alias rules" in ok(config_path, "learners", "aliases").stdout
        ok(config_path, "learners", "alias", "add", "--domain", "old.com", "new.com")
        ok(config_path, "learners", "alias", "add", "--mail", "a@x.com", "b@y.com")
        listed = ok(config_path, "learners", "aliases")
        for value in ("old.com", "new.com", "a@x.com", "b@y.com"):
            assert value in listed.stdout
        rows = json.loads(ok(config_path, "learners", "aliases", "--json").stdout)
        assert [(r["kind"], r["source"], r["target"]) for r in rows] == [
            ("domain", "old.com", "new.com"),
            ("mail", "a@x.com", "b@y.com"),
        ]
        removed = ok(config_path, "learners", "alias", "remove", "--domain", "OLD.com")
        assert "Removed domain alias old.com → new.com" in removed.stdout
        assert [r.source for r in stored_aliases(config_path)] == ["a@x.com"]

    def test_remove_dry_run_keeps_the_rule(self, config_path: Path) -> None:
        """remove --dry-run says what it would remove and keeps it."""
        ok(config_path, "setup")
        ok(config_path, "learners", "alias", "add", "--mail", "a@x.com", "b@y.com")
        result = ok(config_path, "learners", "alias", "remove", "--mail", "a@x.com", "--dry-run")
        assert "would remove mail alias a@x.com → b@y.com" in result.stdout
        assert len(stored_aliases(config_path)) == 1

    def test_removing_an_unknown_rule_is_a_usage_error(self, config_path: Path) -> None:
        """A rule that does not exist exits 2 and points at the list."""
        ok(config_path, "setup")
        result = cli(config_path, "learners", "alias", "remove", "--mail", "a@x.com")
        assert result.exit_code == 2
        assert "udemy360 learners aliases" in output(result)

    def test_remove_validates_its_input(self, config_path: Path) -> None:
        """A domain that does not look like one exits 2."""
        result = cli(config_path, "learners", "alias", "remove", "--domain", "not a domain")
        assert result.exit_code == 2
        assert "is not a domain" in output(result)


GOOD_CSV = (
    "\ufeffKind, Source ,TARGET\r\n"
    "mail,Bob@Corp.com,robert.smith@corp.com\r\n"
    "\r\n"
    "domain,corp-old.com,corp.com\r\n"
    "mail,bob@corp.com,robert.smith@corp.com\r\n"  # the same rule again counts once
)


class TestAliasImport:
    def test_imports_every_rule(self, config_path: Path, tmp_path: Path) -> None:
        """A valid file (BOM, CRLF, blank line, repeated rule) adds each rule once."""
        ok(config_path, "setup")
        ok(config_path, "learners", "alias", "add", "--domain", "corp-old.com", "elsewhere.com")
        path = tmp_path / "aliases.csv"
        path.write_text(GOOD_CSV, encoding="utf-8")
        result = ok(config_path, "learners", "alias", "import", str(path))
        assert "Added 1 rule(s), changed 1, kept 0 as they were." in result.stdout
        assert [(r.kind, r.source, r.target) for r in stored_aliases(config_path)] == [
            ("domain", "corp-old.com", "corp.com"),
            ("mail", "bob@corp.com", "robert.smith@corp.com"),
        ]
        again = ok(config_path, "learners", "alias", "import", str(path))
        assert "Added 0 rule(s), changed 0, kept 2 as they were." in again.stdout

    def test_dry_run_says_what_would_change(self, config_path: Path, tmp_path: Path) -> None:
        """--dry-run lists each rule it would add and stores nothing."""
        ok(config_path, "setup")
        path = tmp_path / "aliases.csv"
        path.write_text(GOOD_CSV, encoding="utf-8")
        result = ok(config_path, "learners", "alias", "import", str(path), "--dry-run")
        assert "+ mail alias bob@corp.com → robert.smith@corp.com" in result.stdout
        assert "+ domain alias corp-old.com → corp.com" in result.stdout
        assert "would add 2 rule(s)" in result.stdout
        assert stored_aliases(config_path) == []

    def test_a_bad_line_imports_nothing(self, config_path: Path, tmp_path: Path) -> None:
        """Any bad line fails the whole import (exit 2), naming each bad line's number."""
        ok(config_path, "setup")
        path = tmp_path / "aliases.csv"
        path.write_text(
            "kind,source,target\n"
            "mail,a@x.com,b@y.com\n"
            "mail,not-a-mail,b@y.com\n"
            "domain,old.com,new.com\n"
            "group,old.com,new.com\n",
            encoding="utf-8",
        )
        result = cli(config_path, "learners", "alias", "import", str(path))
        assert result.exit_code == 2
        assert "line 3:" in output(result)
        assert "line 5:" in output(result)
        assert "line 2:" not in output(result)
        assert stored_aliases(config_path) == []

    def test_not_utf8_is_a_usage_error(self, config_path: Path, tmp_path: Path) -> None:
        """A file that is not UTF-8 exits 2 and says so."""
        path = tmp_path / "aliases.csv"
        path.write_bytes(b"kind,source,target\nmail,caf\xe9@x.com,b@y.com\n")
        result = cli(config_path, "learners", "alias", "import", str(path))
        assert result.exit_code == 2
        assert "not UTF-8" in output(result)

    def test_missing_file_is_a_usage_error(self, config_path: Path, tmp_path: Path) -> None:
        """A file that does not exist exits 2."""
        result = cli(config_path, "learners", "alias", "import", str(tmp_path / "nope.csv"))
        assert result.exit_code == 2


class TestReadAliasCsv:
    def test_conflicting_rules_name_both_lines(self) -> None:
        """One source mapped to two targets is an error naming both lines."""
        text = "kind,source,target\nmail,a@x.com,b@y.com\nmail,A@x.com,c@y.com\n"
        with pytest.raises(
            AliasInputError, match=r"line 3: mail a@x\.com already maps to b@y\.com on line 2"
        ):
            read_alias_csv(text)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "the file is empty"),
            ("source,target\nold.com,new.com\n", "line 1: the first line must be the header"),
            ("kind,source,target\nmail,a@x.com\n", "line 2: expected 3 fields"),
            ('kind,source,target\nmail,"a@x.com\n', "line 2:"),
        ],
    )
    def test_bad_files(self, text: str, message: str) -> None:
        """A missing or wrong header, a short line or broken quoting is named by line."""
        with pytest.raises(AliasInputError, match=message):
            read_alias_csv(text)

    def test_line_numbers_count_physical_lines(self) -> None:
        """A quoted field spanning lines does not shift the line named for a later error."""
        text = 'kind,source,target\n"mail",a@x.com,b@y.com\n\n\nmail,bad,b@y.com\n'
        with pytest.raises(AliasInputError, match="line 5:"):
            read_alias_csv(text)

    def test_header_only_is_no_rule(self) -> None:
        """A file with only its header holds no rule."""
        assert read_alias_csv("kind,source,target\n") == []


class TestParseAlias:
    @pytest.mark.parametrize(
        ("kind", "source", "target", "stored"),
        [
            ("mail", " Bob@Corp.COM ", "robert@corp.com", ("bob@corp.com", "robert@corp.com")),
            ("domain", "@Corp-Old.com", "corp.com", ("corp-old.com", "corp.com")),
            ("DOMAIN", "société.fr", "corp.fr", ("société.fr", "corp.fr")),
            (
                "mail",
                "o'neil+udemy@corp.com",
                "oneil@corp.com",
                ("o'neil+udemy@corp.com", "oneil@corp.com"),
            ),
        ],
    )
    def test_accepted_forms(
        self, kind: str, source: str, target: str, stored: tuple[str, str]
    ) -> None:
        """Mails and domains are trimmed and lower-cased; a domain loses its '@'."""
        rule = parse_alias(kind, source, target)
        assert (rule.source, rule.target) == stored

    @pytest.mark.parametrize(
        ("kind", "source"),
        [
            ("mail", "a@x.com\x00"),
            ("mail", "\udcffa@x.com"),
            ("domain", "x..com"),
            ("domain", "x_y.com"),
        ],
    )
    def test_refused_forms(self, kind: str, source: str) -> None:
        """Control characters, undecodable bytes and malformed domains are refused."""
        target = "b@y.com" if kind == "mail" else "y.com"
        with pytest.raises(AliasInputError):
            parse_alias(kind, source, target)


class TestDirectory:
    def test_counts_users_by_status_after_a_stats_run(
        self, config_path: Path, boxes: Sandboxes
    ) -> None:
        """After a stats run the directory holds 360Learning's users by status, with a date."""
        set_up(config_path)
        boxes.l360.add_user("gone@corp.com", status="deleted")
        ok(config_path, "sync", "stats")
        statuses = [u.status for u in boxes.l360.world.users.values() if u.mail]
        data = json.loads(ok(config_path, "learners", "directory", "--json").stdout)
        assert data["users"] == len(statuses)
        assert data["by_status"]["deleted"] == statuses.count("deleted") >= 1
        assert data["by_status"]["active"] == statuses.count("active")
        assert data["last_read"]
        shown = ok(config_path, "learners", "directory")
        assert "as last read" in shown.stdout
        assert "deleted" in shown.stdout

    def test_never_read(self, config_path: Path) -> None:
        """Before any stats run the command says the directory was never read, and why."""
        result = ok(config_path, "learners", "directory")
        assert "never read" in result.stdout
        assert "users:read" in result.stdout
        assert json.loads(ok(config_path, "learners", "directory", "--json").stdout)["users"] == 0
