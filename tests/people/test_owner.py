import pytest

from lib.people.owner import LOCAL_OWNER, owner_of


def test_an_owner_is_issuer_and_subject() -> None:
    assert owner_of("http://idp.example", "alice") == "http://idp.example alice"


def test_two_providers_never_share_an_owner() -> None:
    assert owner_of("http://a", "1") != owner_of("http://b", "1")
    assert owner_of("http://a", "1") != LOCAL_OWNER


@pytest.mark.parametrize(("issuer", "subject"), [("", "alice"), ("http://a", "")])
def test_an_owner_needs_both_names(issuer: str, subject: str) -> None:
    with pytest.raises(ValueError):
        owner_of(issuer, subject)
