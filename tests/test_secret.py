"""lib.secret: the API key never prints, never logs, never pickles."""

from __future__ import annotations

import io
import logging
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.secret import Secret, protect_logs, redact, redact_error
from lib.settings import load_settings
from tests.conftest import CANARY_KEY


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger with a handler of its own, attached before protect_logs() runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.secret.captured")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


# -- printing ------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_repr_and_str_are_masked() -> None:
    secret = Secret(CANARY_KEY)
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "Secret('***')"
    assert f"{secret}" == "Secret('***')"
    assert format(secret, "") == "Secret('***')"
    assert CANARY_KEY not in repr([secret, {"k": secret}])


def test_reveal_gives_the_stripped_value() -> None:
    assert Secret(f"  {CANARY_KEY}\n").reveal() == CANARY_KEY


def test_truthiness_equality_and_hash() -> None:
    assert Secret(CANARY_KEY) and not Secret("") and not Secret("   ")
    assert Secret(CANARY_KEY) == Secret(f" {CANARY_KEY} ")
    assert Secret(CANARY_KEY) != Secret("other")
    assert Secret(CANARY_KEY) != CANARY_KEY, "a Secret does not compare equal to the bare string"
    assert hash(Secret(CANARY_KEY)) == hash(Secret(CANARY_KEY))
    assert len({Secret(CANARY_KEY), Secret(CANARY_KEY)}) == 1


def test_no_instance_dict_to_leak_through_vars() -> None:
    secret = Secret(CANARY_KEY)
    assert not hasattr(secret, "__dict__")
    with pytest.raises(AttributeError):
        secret.extra = "x"  # type: ignore[attr-defined]


# -- redact --------------------------------------------------------------------------


def test_redact_masks_every_occurrence() -> None:
    text = f"Bearer {CANARY_KEY} and again {CANARY_KEY}"
    assert redact(text, Secret(CANARY_KEY)) == "Bearer *** and again ***"


def test_redact_accepts_strings_several_secrets_and_none() -> None:
    text = f"{CANARY_KEY} / sk-second-key-123"
    assert redact(text, CANARY_KEY, None, Secret("sk-second-key-123")) == "*** / ***"


def test_redact_leaves_short_or_empty_secrets_alone() -> None:
    # masking "" or a 3-letter value would mangle every message
    assert redact("abc abc", "abc", "", Secret("")) == "abc abc"
    assert redact("abcd", "abcd") == "***"


def test_redact_without_a_match_is_unchanged() -> None:
    assert redact("nothing to see", CANARY_KEY) == "nothing to see"


# -- logging -------------------------------------------------------------------------


def test_protect_logs_masks_the_key_in_messages(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    protect_logs(Secret(CANARY_KEY))
    logger.info("sending with key %s", CANARY_KEY)
    logger.warning(f"header was Bearer {CANARY_KEY}")
    output = stream.getvalue()
    assert CANARY_KEY not in output
    assert "INFO sending with key ***" in output
    assert "WARNING header was Bearer ***" in output


def test_protect_logs_masks_the_key_in_tracebacks(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    protect_logs(CANARY_KEY)
    try:
        try:
            raise KeyError(f"inner {CANARY_KEY}")
        except KeyError as inner:
            raise RuntimeError(f"request failed with {CANARY_KEY}") from inner
    except RuntimeError:
        logger.exception("the call failed")
    output = stream.getvalue()
    assert CANARY_KEY not in output
    assert "Traceback (most recent call last)" in output, "the traceback is kept, only masked"
    assert "RuntimeError: request failed with ***" in output
    assert "KeyError" in output and "inner ***" in output


def test_protect_logs_covers_pytests_capture_handler(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        protect_logs(CANARY_KEY)
        logging.getLogger("tests.secret.other").info("key=%s", CANARY_KEY)
    assert "key=***" in caplog.text
    assert CANARY_KEY not in caplog.text
    assert all(CANARY_KEY not in r.getMessage() for r in caplog.records)


def test_protect_logs_is_idempotent(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    protect_logs(CANARY_KEY)
    factory = logging.getLogRecordFactory()
    protect_logs(CANARY_KEY)
    assert logging.getLogRecordFactory() is factory, "installed once, not wrapped again"
    logger.info("one line %s", CANARY_KEY)
    assert stream.getvalue().count("one line ***") == 1


def test_records_keep_their_arguments_when_they_hold_no_secret() -> None:
    protect_logs(CANARY_KEY)
    record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "value %s", ("arg",), None)
    assert record.getMessage() == "value arg"


def test_short_values_are_not_treated_as_secrets() -> None:
    protect_logs("ab")
    protect_logs(None)
    protect_logs(CANARY_KEY)
    record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "ab %s", (CANARY_KEY,), None)
    assert record.getMessage() == "ab ***"


def test_protect_logs_covers_handlers_added_later() -> None:
    protect_logs(CANARY_KEY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.secret.late")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("key=%s", CANARY_KEY)
    finally:
        logger.removeHandler(handler)
    assert CANARY_KEY not in stream.getvalue()


# -- pickling ------------------------------------------------------------------------


def test_pickling_a_secret_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY_KEY))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(Secret(CANARY_KEY), protocol=protocol)


def test_pickling_settings_with_a_key_is_refused() -> None:
    settings = load_settings({"AIMLAPI_API_KEY": CANARY_KEY})
    with pytest.raises(TypeError):
        pickle.dumps(settings)


RELOAD_SCRIPT = """
import importlib, logging
import lib.secret as secret_module
old = secret_module.Secret("sk-from-before-the-reload")
reloaded = importlib.reload(secret_module)
assert not isinstance(old, reloaded.Secret)
assert reloaded.redact("key sk-from-before-the-reload here", old) == "key *** here"
reloaded.protect_logs(old)
record = logging.getLogRecordFactory()("x", logging.INFO, "f", 1, "%s", ("sk-from-before-the-reload",), None)
assert record.getMessage() == "***", record.getMessage()
"""


def test_a_secret_from_before_a_module_reload_is_still_masked() -> None:
    """Streamlit reloads edited modules; a Secret kept in a cache is then of the old class.

    In a process of its own: reloading the module here would change it for every other test.
    """
    done = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# -- a key echoed in part (issue #10) --------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        CANARY_KEY[:8],  # the shortest run masked on its own
        CANARY_KEY[5:25],  # a run from the middle
        CANARY_KEY[-12:],
        f"{CANARY_KEY[:6]}...{CANARY_KEY[-4:]}",  # "sk-can...e6f7"
        f"{CANARY_KEY[:6]}{'*' * 20}{CANARY_KEY[-4:]}",  # OpenAI's "sk-abc****xyz1"
        f"****{CANARY_KEY[-4:]}",  # only the last four, after an elision
        f"{CANARY_KEY[:7]}…",
    ],
)
def test_redact_masks_a_key_echoed_in_part(echo: str) -> None:
    text = redact(f"Incorrect API key provided: {echo}. Check it.", Secret(CANARY_KEY))
    assert text == "Incorrect API key provided: ***. Check it.", text


def test_redact_leaves_short_pieces_and_plain_text_alone() -> None:
    key = Secret(CANARY_KEY)
    # seven characters of the key, or its end without an elision, are not evidence of it
    for text in (f"id {CANARY_KEY[10:17]} here", f"ends in {CANARY_KEY[-4:]}", "wait... and *** and … ok", "sk- keys"):
        assert redact(text, key) == text


def test_redact_error_cleans_every_text_of_an_exception_in_place() -> None:
    from lib.errors import AuthenticationError

    err = AuthenticationError(f"bad key {CANARY_KEY}", status=401, request_id=CANARY_KEY[-10:], detail=CANARY_KEY[:9])
    assert redact_error(err, Secret(CANARY_KEY)) is err
    for text in (str(err), repr(err), *map(str, err.args), err.message, err.detail, err.request_id):
        assert CANARY_KEY[-8:] not in text and CANARY_KEY[:8] not in text
    assert err.status == 401 and isinstance(err, AuthenticationError)
