"""URL rules: a table per rule for launch URLs, image URLs, item links and allowed hosts."""

from __future__ import annotations

import pytest

from udemy360.mapping import RejectedUrl, image_url, launch_hosts, launch_url
from udemy360.mapping.urls import link_url

SANDBOX = frozenset({"127.0.0.1"})


class TestLaunchUrlAccepted:
    @pytest.mark.parametrize(
        ("url", "hosts", "expected"),
        [
            ("https://acme.udemy.com/course/x/", frozenset(), "https://acme.udemy.com/course/x/"),
            ("http://acme.udemy.com/course/x/", frozenset(), "https://acme.udemy.com/course/x/"),
            ("HTTPS://ACME.Udemy.com./x?a=1#f", frozenset(), "https://acme.udemy.com/x?a=1#f"),
            ("https://acme.udemy.com:443/x", frozenset(), "https://acme.udemy.com:443/x"),
            ("/course/x/", frozenset(), "https://acme.udemy.com/course/x/"),
            ("course/x/", frozenset(), "https://acme.udemy.com/course/x/"),
            ("//acme.udemy.com/course/x/", frozenset(), "https://acme.udemy.com/course/x/"),
            ("  https://acme.udemy.com/x ", frozenset(), "https://acme.udemy.com/x"),
            ("https://udemy.com/course/x/", frozenset(), "https://udemy.com/course/x/"),
            ("https://www.udemy.com/course/x/", frozenset(), "https://www.udemy.com/course/x/"),
            ("http://www.udemy.com/course/x/", frozenset(), "https://www.udemy.com/course/x/"),
            ("http://127.0.0.1:8361/course/x/", SANDBOX, "http://127.0.0.1:8361/course/x/"),
            ("https://127.0.0.1:8361/course/x/", SANDBOX, "https://127.0.0.1:8361/course/x/"),
            (
                "https://proxy.example.com/c/",
                frozenset({"proxy.example.com"}),
                "https://proxy.example.com/c/",
            ),
            ("http://[::1]:8/c/", frozenset({"::1"}), "http://[::1]:8/c/"),
        ],
    )
    def test_udemy_hosts_and_allowed_hosts_pass(
        self, url: str, hosts: frozenset[str], expected: str
    ) -> None:
        """The account's, Udemy's and the allowed hosts pass as https (http kept on loopback)."""
        assert launch_url(url, "acme", hosts=hosts) == expected


class TestLaunchUrlRejected:
    @pytest.mark.parametrize(
        ("url", "hosts"),
        [
            (None, frozenset()),
            ("", frozenset()),
            ("   ", frozenset()),
            ("https://evil.example/course/x/", frozenset()),
            ("https://other.udemy.com/course/x/", frozenset()),
            ("https://acme.udemy.com.evil.example/", frozenset()),
            ("https://evil.example#@acme.udemy.com/", frozenset()),
            ("https://evil.example/?u=https://acme.udemy.com/", frozenset()),
            ("http://127.0.0.1:8361/course/x/", frozenset()),
            ("http://localhost/course/x/", SANDBOX),
            ("javascript:alert(1)", frozenset()),
            ("JavaScript:alert(1)//acme.udemy.com", frozenset()),
            ("data:text/html,<script>x</script>", frozenset()),
            ("udemyufb://discover?coursePublishedTitle=x", frozenset()),
            ("ftp://acme.udemy.com/x", frozenset()),
            ("https://user:pass@acme.udemy.com/x", frozenset()),
            ("https://acme.udemy.com@evil.example/x", frozenset()),
            ("https://token@acme.udemy.com/x", frozenset()),
            ("https://acme.udemy.com\\@evil.example/x", frozenset()),
            ("https://evil.example\\.acme.udemy.com/x", frozenset()),
            ("https://acme.udemy.com/\x00x", frozenset()),
            ("https://acme.udemy.com/a b", frozenset()),
            ("https://acme.udemy.com/\ud800", frozenset()),
            ("https:///no-host", frozenset()),
            ("http://[abc/x", frozenset()),
            ("https://acme.udemy.com:99999/x", frozenset()),
            ("https://acme.udemy.com:0/x", frozenset()),
        ],
    )
    def test_anything_else_is_rejected_with_a_reason(
        self, url: str | None, hosts: frozenset[str]
    ) -> None:
        """Another host, another scheme, credentials or a malformed URL give a reason, not a URL."""
        result = launch_url(url, "acme", hosts=hosts)
        assert isinstance(result, RejectedUrl)
        assert "launch URL" in result.reason

    def test_reason_names_the_host_and_the_allowed_ones(self) -> None:
        """A foreign host is named in the reason, with the hosts that would be accepted."""
        result = launch_url("https://evil.example/x", "acme", hosts=frozenset({"proxy.test"}))
        assert isinstance(result, RejectedUrl)
        for host in ("evil.example", "acme.udemy.com", "www.udemy.com", "proxy.test"):
            assert host in result.reason

    @pytest.mark.parametrize("account", ["", "  ", "acme.evil.com", "acme/x", "-acme"])
    def test_relative_url_needs_a_valid_account_name(self, account: str) -> None:
        """A relative URL is joined only to a single DNS-label account name."""
        assert isinstance(launch_url("/course/x/", account), RejectedUrl)


class TestImageUrl:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://img-c.udemycdn.com/a.jpg", "https://img-c.udemycdn.com/a.jpg"),
            (" https://img-c.udemycdn.com/a.jpg ", "https://img-c.udemycdn.com/a.jpg"),
            ("HTTPS://IMG.example/a.jpg", "https://img.example/a.jpg"),
            ("//img-c.udemycdn.com/a.jpg", "https://img-c.udemycdn.com/a.jpg"),
            ("http://127.0.0.1:8361/a.jpg", "http://127.0.0.1:8361/a.jpg"),
            ("http://127.5.6.7/a.jpg", "http://127.5.6.7/a.jpg"),
            ("http://localhost:9/a.jpg", "http://localhost:9/a.jpg"),
            ("http://[::1]:9/a.jpg", "http://[::1]:9/a.jpg"),
        ],
    )
    def test_https_or_loopback_http_is_sent(self, url: str, expected: str) -> None:
        """https on any host, and plain http on loopback hosts, are sent as imageUrl."""
        assert image_url(url) == expected

    @pytest.mark.parametrize(
        "url",
        [
            None,
            "",
            "http://img-c.udemycdn.com/a.jpg",
            "http://10.0.0.1/a.jpg",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://img.example/a.jpg",
            "/course/750x422/a.jpg",
            "https://user:pass@img.example/a.jpg",
            "https://img.example/a b.jpg",
            "https://img.example:99999/a.jpg",
            "https:///a.jpg",
        ],
    )
    def test_anything_else_is_omitted(self, url: str | None) -> None:
        """Plain http outside loopback, other schemes, credentials or malformed URLs give None."""
        assert image_url(url) is None


class TestItemLinks:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("/course/x/", "https://acme.udemy.com/course/x/"),
            ("https://blog.example.com/p", "https://blog.example.com/p"),
            ("http://blog.example.com/p", "https://blog.example.com/p"),
            ("javascript:alert(1)", None),
            ("https://user:pass@blog.example.com/p", None),
            (None, None),
        ],
    )
    def test_item_links_may_leave_udemy_but_stay_https(
        self, url: str | None, expected: str | None
    ) -> None:
        """A path item may link to another site, with the other launch-URL rules."""
        assert link_url(url, "acme") == expected


class TestLaunchHosts:
    @pytest.mark.parametrize(
        ("base_url", "expected"),
        [
            (None, frozenset()),
            ("", frozenset()),
            ("https://acme.udemy.com/api-2.0/organizations/1/", frozenset({"acme.udemy.com"})),
            ("http://127.0.0.1:8361/api-2.0/", frozenset({"127.0.0.1"})),
            ("https://Proxy.Example.COM./udemy/", frozenset({"proxy.example.com"})),
            ("http://[::1]:8361/", frozenset({"::1"})),
            ("http://[bad/", frozenset()),
        ],
    )
    def test_host_of_the_base_url(self, base_url: str | None, expected: frozenset[str]) -> None:
        """launch_hosts gives the base URL's host in the form launch_url compares."""
        assert launch_hosts(base_url) == expected
