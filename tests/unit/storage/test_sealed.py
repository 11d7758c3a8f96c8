"""Sealed fields: a round trip, rotation across two keys, a wrong or malformed key refused; keys from the config."""

from __future__ import annotations

import stat

import pytest

from storage.sealed import Sealer, SealError, generate_key, parse_keys, sealer
from web.core import config

NUMBER = "11010519491231002X"


def test_a_sealed_value_opens_again_and_does_not_show_the_value():
    key = generate_key()
    box = Sealer([key])
    token = box.seal(NUMBER)
    assert NUMBER not in token and NUMBER.lower() not in token
    assert box.open(token) == NUMBER
    assert box.seal(NUMBER) != token  # a fresh IV each time: equal numbers do not look equal in the table
    assert Sealer([key]).open(token) == NUMBER  # the key, not the object, is what opens it


def test_rotation_seals_with_the_first_key_and_opens_with_any():
    old, new = generate_key(), generate_key()
    token = Sealer([old]).seal(NUMBER)
    both = Sealer([new, old])
    assert both.open(token) == NUMBER  # values sealed before the new key arrived still open
    resealed = both.reseal(token)
    assert Sealer([new]).open(resealed) == NUMBER  # after rotation the old key can go
    with pytest.raises(SealError):
        Sealer([old]).open(resealed)
    with pytest.raises(SealError):
        Sealer([old]).open(both.seal(NUMBER))  # new values are sealed with the first key only


def test_a_wrong_key_is_refused_and_not_named():
    token = Sealer([generate_key()]).seal(NUMBER)
    other = generate_key()
    with pytest.raises(SealError) as refused:
        Sealer([other]).open(token)
    assert other not in str(refused.value) and NUMBER not in str(refused.value)
    with pytest.raises(SealError):
        Sealer([other]).reseal(token)
    with pytest.raises(SealError):
        Sealer([other]).open(token[:-4] + "AAAA")  # tampered tokens fail their HMAC


def test_a_malformed_key_is_refused_by_position_without_echoing_it():
    with pytest.raises(SealError, match="key 2 of 2") as refused:
        Sealer([generate_key(), "not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(refused.value)
    with pytest.raises(SealError, match="FIELD_ENCRYPTION_KEYS"):
        Sealer([])


def test_keys_are_read_comma_separated_and_the_sealer_is_built_once_per_list():
    a, b = generate_key(), generate_key()
    assert parse_keys(f" {a} ,, {b},") == [a, b]
    assert parse_keys("") == []
    assert sealer([a, b]) is sealer((a, b))
    assert sealer([b, a]) is not sealer([a, b])


def test_the_embedded_default_key_is_generated_once_readable_by_the_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS", raising=False)
    keys = config._field_encryption_keys(tmp_path)
    path = tmp_path / "field_encryption_key"
    assert keys == [path.read_text()] and len(keys[0]) == 44
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config._field_encryption_keys(tmp_path) == keys  # kept, not regenerated: old values must still open


def test_keys_from_the_environment_win_and_a_malformed_one_stops_the_start(tmp_path, monkeypatch):
    a, b = generate_key(), generate_key()
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{a},{b}")
    assert config._field_encryption_keys(tmp_path) == [a, b]
    assert not (tmp_path / "field_encryption_key").exists()
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{a},oops")
    with pytest.raises(SealError, match="key 2 of 2"):
        config._field_encryption_keys(tmp_path)
