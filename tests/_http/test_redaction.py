"""Secrets and signed URLs never leave the process in logs or errors."""

from __future__ import annotations

import pytest

from udemy360._http import Redactor, require_secure_base_url, safe_url, strip_query


class TestSafeUrl:
    def test_drops_userinfo(self) -> None:
        """Credentials embedded in a URL are removed."""
        assert "secret" not in safe_url("https://id:secret@acme.udemy.com/api-2.0/")

    def test_redacts_signature_params(self) -> None:
        """CDN signatures are replaced; harmless params are kept."""
        url = safe_url("https://cdn.example/v.mp4?Expires=1&Signature=abc&Key-Pair-Id=K&page=2")
        assert "abc" not in url
        assert "Signature=REDACTED" in url
        assert "page=2" in url

    def test_keeps_field_selectors_readable(self) -> None:
        """Udemy's fields[course]=… selectors stay readable in error messages."""
        assert "fields[course]=id,title" in safe_url("https://a.b/c?fields[course]=id,title")


def test_strip_query() -> None:
    """Only the stable part of a signed URL remains."""
    assert strip_query("https://cdn.example/v.mp4?Expires=1&Signature=x") == (
        "https://cdn.example/v.mp4"
    )


class TestRedactor:
    def test_scrubs_secret_and_basic_token(self) -> None:
        """Both the raw secret and its Basic-auth encoding are scrubbed."""
        redact = Redactor.for_basic_auth("client", "s3cr3t-value")
        text = "secret=s3cr3t-value auth=Basic Y2xpZW50OnMzY3IzdC12YWx1ZQ=="
        assert "s3cr3t-value" not in redact(text)
        assert "Y2xpZW50OnMzY3IzdC12YWx1ZQ==" not in redact(text)

    def test_repr_hides_secrets(self) -> None:
        """A redactor's repr says how many secrets it holds, not what they are."""
        assert "s3cr3t" not in repr(Redactor(["s3cr3t-value"]))


class TestRequireSecureBaseUrl:
    @pytest.mark.parametrize(
        "url", ["https://app.360learning.com", "http://127.0.0.1:8000/x", "http://localhost:1/"]
    )
    def test_accepts_https_and_loopback_http(self, url: str) -> None:
        """HTTPS anywhere and plain HTTP on loopback are accepted, with a trailing slash."""
        assert require_secure_base_url(url).endswith("/")

    @pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1/", "ftp://x/"])
    def test_rejects_plain_http_elsewhere(self, url: str) -> None:
        """Plain HTTP to a non-loopback host is refused with a message naming the setting."""
        with pytest.raises(ValueError, match="base_url"):
            require_secure_base_url(url)

    def test_rejects_embedded_credentials(self) -> None:
        """A URL carrying user:password is refused."""
        with pytest.raises(ValueError, match="credentials"):
            require_secure_base_url("https://u:p@app.360learning.com")
