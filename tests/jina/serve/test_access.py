"""The access token's rules (jina/serve/access.py), without sockets."""

from __future__ import annotations

import pytest

from jina.serve.access import ENV_VARIABLE, TokenCheck, bearer, call_metadata, check_token, token_from_env


def test_only_the_exact_bearer_value_is_accepted():
    check = TokenCheck("abc")
    assert check.accepts("Bearer abc") and check.accepts(b"Bearer abc") and check.accepts(" Bearer abc ")
    for wrong in (None, "", "abc", "Bearer ab", "Bearer abcd", "bearer abc", "Basic abc", "Bearer  abc"):
        assert not check.accepts(wrong), wrong


def test_metadata_and_headers_need_exactly_one_authorization():
    check = TokenCheck("abc")
    assert check.accepts_metadata([("x", "1"), ("authorization", "Bearer abc")])
    assert not check.accepts_metadata(None)
    assert not check.accepts_metadata([("authorization", "Bearer abc"), ("authorization", "Bearer abc")])
    assert check.accepts_headers([(b"Authorization", b"Bearer abc")])
    assert not check.accepts_headers([(b"authorization", b"Bearer x"), (b"authorization", b"Bearer abc")])
    assert check.accepts_headers({"authorization": "Bearer abc"})


def test_token_values():
    assert check_token(None) is None and check_token("") is None
    assert check_token("a-Z_0.9~+/=") == "a-Z_0.9~+/="
    for bad in ("a b", " a", "a\n", "é", 3):
        with pytest.raises(ValueError, match="access_token"):
            check_token(bad)
    assert bearer("t") == "Bearer t"
    assert call_metadata("t") == (("authorization", "Bearer t"),) and call_metadata(None) == ()


def test_the_environment_loses_the_token_once_read():
    env = {ENV_VARIABLE: "tok", "OTHER": "1"}
    assert token_from_env(env) == "tok"
    assert env == {"OTHER": "1"}
    assert token_from_env({ENV_VARIABLE: ""}) is None
