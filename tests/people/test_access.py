"""Who may enter, who is an admin, and when a deployment is shared without sign-in (#14)."""

from __future__ import annotations

import pytest

from lib.errors import ConfigurationError
from lib.people.access import (
    Person,
    conversation_asked_for,
    is_admin,
    listens_beyond_loopback,
    may_enter,
    owner_of_person,
    parse_addresses,
    shared_without_sign_in,
)
from lib.people.owner import LOCAL_OWNER, owner_of
from lib.settings import load_settings

ISSUER = "http://127.0.0.1:9400"


def person(email: str, sub: str = "alice", **claims: object) -> Person:
    return Person.from_claims({"iss": ISSUER, "sub": sub, "email": email, "is_logged_in": True, **claims})


def test_a_person_is_named_by_issuer_and_subject_not_by_address() -> None:
    alice = person("Alice@Example.com", name="Alice")
    assert (alice.owner, alice.email, alice.name) == (owner_of(ISSUER, "alice"), "alice@example.com", "Alice")
    assert person("alice@example.com", sub="other").owner != alice.owner
    assert person("", sub="x").name == "x"
    with pytest.raises(ValueError):
        Person.from_claims({"sub": "alice", "email": "alice@example.com"})  # no issuer


def test_the_settings_read_addresses_and_domains() -> None:
    settings = load_settings({"CHAT_ALLOWED_EMAILS": "Alice@Example.com, @Team.example.org;bob@x.io",
                              "CHAT_ADMINS": "alice@example.com"})
    assert settings.allowed_emails == ("alice@example.com", "@team.example.org", "bob@x.io")
    assert settings.admins == ("alice@example.com",)
    assert load_settings({}).allowed_emails == () and load_settings({}).admins == ()


@pytest.mark.parametrize(("setting", "value"), [
    ("CHAT_ALLOWED_EMAILS", "alice"), ("CHAT_ALLOWED_EMAILS", "example.com"), ("CHAT_ALLOWED_EMAILS", "a@b"),
    ("CHAT_ALLOWED_EMAILS", "@.com"), ("CHAT_ADMINS", "@example.com"),
])
def test_a_typo_in_a_list_is_refused_naming_it(setting: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        load_settings({setting: value})


def test_the_allow_list() -> None:
    allowed = parse_addresses("alice@example.com, @team.org", "X", domains=True)
    assert may_enter(person("alice@example.com"), allowed)
    assert may_enter(person("ALICE@example.com"), allowed)
    assert may_enter(person("carol@team.org"), allowed)
    assert not may_enter(person("bob@example.com"), allowed)
    # A domain entry is that domain: not a subdomain, not a longer name ending the same.
    assert not may_enter(person("eve@evil.team.org"), allowed)
    assert not may_enter(person("eve@notteam.org"), allowed)
    assert not may_enter(person("alice@example.com.evil.io"), allowed)
    assert not may_enter(person(""), allowed)
    # An address the provider has not verified opens nothing.
    assert not may_enter(person("alice@example.com", email_verified=False), allowed)
    assert may_enter(person("alice@example.com", email_verified=True), allowed)
    # No list: whoever the provider signs in.
    assert may_enter(person(""), ())


def test_admins() -> None:
    admins = ("alice@example.com",)
    assert is_admin(person("alice@example.com"), admins)
    assert not is_admin(person("bob@example.com"), admins)
    assert not is_admin(person("alice@example.com", email_verified=False), admins)
    assert not is_admin(person(""), admins) and not is_admin(person("alice@example.com"), ())
    # Without sign-in, the one person at the machine is its admin.
    assert is_admin(None, ())
    assert owner_of_person(None) == LOCAL_OWNER and owner_of_person(person("a@b.io")) == owner_of(ISSUER, "alice")


@pytest.mark.parametrize(("address", "beyond"), [
    (None, True), ("", True), ("0.0.0.0", True), ("::", True),  # noqa: S104 - what is being checked
    ("192.168.1.20", True), ("myhost", True),
    ("127.0.0.1", False), ("127.0.1.1", False), ("localhost", False), ("LOCALHOST", False), ("::1", False),
    ("[::1]", False),
])
def test_listening_beyond_loopback(address: str | None, beyond: bool) -> None:
    assert listens_beyond_loopback(address) is beyond


def test_shared_without_sign_in_needs_all_three() -> None:
    assert shared_without_sign_in(address="", sign_in=False, history=True)
    assert not shared_without_sign_in(address="", sign_in=True, history=True)
    assert not shared_without_sign_in(address="", sign_in=False, history=False)
    assert not shared_without_sign_in(address="127.0.0.1", sign_in=False, history=True)


def test_the_conversation_asked_for_signed_out_is_given_back_as_an_address() -> None:
    assert conversation_asked_for("https://chat.example/", {"c": "0123abcd"}) == "https://chat.example/?c=0123abcd"
    assert conversation_asked_for("https://chat.example/base", {"c": "x y"}) == "https://chat.example/base/?c=x+y"
    assert conversation_asked_for("https://chat.example/", {}) is None
    assert conversation_asked_for("https://chat.example/", {"c": ""}) is None
