"""lib.settings: where each setting comes from, its default, and its validation."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from lib.errors import ConfigurationError
from lib.secret import Secret
from lib.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_SYSTEM_PROMPT,
    SETTINGS,
    gather,
    load_settings,
    validate_base_url,
)
from tests.conftest import CANARY_KEY


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Paths for a .env and a secrets.toml that do not exist yet."""
    return tmp_path / ".env", tmp_path / "secrets.toml"


def write_env(path: Path, **values: str) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def write_toml(path: Path, **values: str | int | float) -> None:
    lines = [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in values.items()]
    path.write_text("\n".join(lines).replace("'", '"') + "\n")


# -- sources and precedence ----------------------------------------------------------


def test_environment_beats_dotenv_beats_secrets(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    write_toml(secrets_file, AIMLAPI_API_KEY="from-secrets", AIMLAPI_MODEL="google/gemma-3-4b-it",
               AIMLAPI_BASE_URL="http://secrets.example/v1")
    write_env(env_file, AIMLAPI_API_KEY="from-dotenv", AIMLAPI_MODEL="google/gemma-3-12b-it")
    merged = gather({"AIMLAPI_API_KEY": "from-env"}, env_file, secrets_file)
    assert merged["AIMLAPI_API_KEY"] == "from-env"
    assert merged["AIMLAPI_MODEL"] == "google/gemma-3-12b-it"
    assert merged["AIMLAPI_BASE_URL"] == "http://secrets.example/v1"


def test_dotenv_beats_secrets(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    write_toml(secrets_file, AIMLAPI_API_KEY="from-secrets")
    write_env(env_file, AIMLAPI_API_KEY="from-dotenv")
    settings = load_settings(gather({}, env_file, secrets_file))
    assert settings.api_key.reveal() == "from-dotenv"
    assert settings.key_source == "environment"


def test_secrets_toml_alone(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    write_toml(secrets_file, AIMLAPI_API_KEY="from-secrets", AIMLAPI_MAX_RETRIES=5, AIMLAPI_READ_TIMEOUT=2.5)
    merged = gather({}, env_file, secrets_file)
    assert merged["AIMLAPI_MAX_RETRIES"] == "5" and merged["AIMLAPI_READ_TIMEOUT"] == "2.5"
    settings = load_settings(merged)
    assert settings.api_key.reveal() == "from-secrets"
    assert settings.max_retries == 5 and settings.read_timeout == 2.5


def test_secrets_toml_tables_are_ignored(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    secrets_file.write_text('AIMLAPI_MODEL = "google/gemma-3-4b-it"\n[other]\nAIMLAPI_API_KEY = "nested"\n')
    merged = gather({}, env_file, secrets_file)
    assert merged == {"AIMLAPI_MODEL": "google/gemma-3-4b-it"}


def test_no_files_at_all(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    assert gather({"AIMLAPI_MODEL": "m"}, env_file, secrets_file) == {"AIMLAPI_MODEL": "m"}


def test_empty_environment_variable_does_not_hide_the_files(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    write_env(env_file, AIMLAPI_API_KEY="from-dotenv")
    assert gather({"AIMLAPI_API_KEY": ""}, env_file, secrets_file)["AIMLAPI_API_KEY"] == "from-dotenv"


def test_empty_dotenv_value_does_not_hide_secrets_toml(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    write_toml(secrets_file, AIMLAPI_API_KEY="from-secrets")
    write_env(env_file, AIMLAPI_API_KEY="", AIMLAPI_PRICE_INPUT_PER_M="")
    assert load_settings(gather({}, env_file, secrets_file)).api_key.reveal() == "from-secrets"


def test_invalid_secrets_toml_is_a_configuration_error(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    secrets_file.write_text("AIMLAPI_API_KEY = not quoted\n")
    with pytest.raises(ConfigurationError) as info:
        gather({}, env_file, secrets_file)
    assert str(secrets_file) in str(info.value)
    assert "TOML" in str(info.value)


def test_dotenv_quotes_and_comments(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    env_file.write_text('# a comment\nCHAT_SYSTEM_PROMPT="Be brief. Use = signs freely."\nAIMLAPI_MODEL=m # trailing\n')
    merged = gather({}, env_file, secrets_file)
    assert merged["CHAT_SYSTEM_PROMPT"] == "Be brief. Use = signs freely."
    assert merged["AIMLAPI_MODEL"] == "m"


def test_gather_reads_the_process_environment_by_default(files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    env_file, secrets_file = files
    write_env(env_file, AIMLAPI_MODEL="from-dotenv")
    monkeypatch.setenv("AIMLAPI_MODEL", "from-process")
    assert gather(None, env_file, secrets_file)["AIMLAPI_MODEL"] == "from-process"


# -- defaults and values -------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.api_key == Secret("")
    assert settings.demo
    assert settings.key_source == ""
    assert settings.base_url == DEFAULT_BASE_URL == "https://api.aimlapi.com/v1"
    assert settings.model == DEFAULT_MODEL == "google/gemma-3-27b-it"
    assert (settings.connect_timeout, settings.read_timeout) == (10.0, 60.0)
    assert (settings.max_retries, settings.retry_backoff) == (3, 1.0)
    assert settings.price_input_per_m is None and settings.price_output_per_m is None
    assert settings.system_prompt == DEFAULT_SYSTEM_PROMPT


def test_documented_defaults_are_the_real_defaults() -> None:
    documented = {s.name: s.default for s in SETTINGS}
    assert load_settings(documented) == load_settings({})


def test_every_value_is_read() -> None:
    settings = load_settings({
        "AIMLAPI_API_KEY": f"  {CANARY_KEY}\n",
        "AIMLAPI_BASE_URL": "http://127.0.0.1:9999/v1/",
        "AIMLAPI_MODEL": " google/gemma-3n-e4b-it ",
        "AIMLAPI_CONNECT_TIMEOUT": "2.5",
        "AIMLAPI_READ_TIMEOUT": "30",
        "AIMLAPI_MAX_RETRIES": "0",
        "AIMLAPI_RETRY_BACKOFF": "0.5",
        "AIMLAPI_PRICE_INPUT_PER_M": "0.04",
        "AIMLAPI_PRICE_OUTPUT_PER_M": "0.08",
        "CHAT_SYSTEM_PROMPT": "Talk like a pirate.",
    })
    assert settings.api_key.reveal() == CANARY_KEY, "whitespace around a pasted key is dropped"
    assert not settings.demo and settings.key_source == "environment"
    assert settings.base_url == "http://127.0.0.1:9999/v1"
    assert settings.model == "google/gemma-3n-e4b-it"
    assert (settings.connect_timeout, settings.read_timeout) == (2.5, 30.0)
    assert settings.max_retries == 0 and isinstance(settings.max_retries, int)
    assert settings.retry_backoff == 0.5
    assert (settings.price_input_per_m, settings.price_output_per_m) == (0.04, 0.08)
    assert settings.system_prompt == "Talk like a pirate."


def test_settings_are_frozen() -> None:
    settings = load_settings({})
    with pytest.raises(FrozenInstanceError):
        settings.model = "x"  # type: ignore[misc]


# -- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["api.aimlapi.com/v1", "ftp://api.aimlapi.com/v1", "http://", "https:///v1", "not a url", "file:///etc/passwd"]
)
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"AIMLAPI_BASE_URL": url})
    assert "AIMLAPI_BASE_URL" in str(info.value)
    assert info.value.retryable is False


def test_validate_base_url_strips_space_and_slashes() -> None:
    assert validate_base_url("  https://example.com/v1//  ") == "https://example.com/v1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIMLAPI_READ_TIMEOUT", "abc"),
        ("AIMLAPI_READ_TIMEOUT", "0"),
        ("AIMLAPI_READ_TIMEOUT", "0.05"),
        ("AIMLAPI_CONNECT_TIMEOUT", "-1"),
        ("AIMLAPI_MAX_RETRIES", "-1"),
        ("AIMLAPI_MAX_RETRIES", "three"),
        ("AIMLAPI_RETRY_BACKOFF", "-0.5"),
        ("AIMLAPI_PRICE_INPUT_PER_M", "-1"),
        ("AIMLAPI_PRICE_OUTPUT_PER_M", "cheap"),
        ("CHAT_IMAGE_QUALITY", "100"),
        ("CHAT_IMAGE_QUALITY", "0"),
        ("CHAT_IMAGE_MAX_SIDE", "16"),
        ("CHAT_IMAGE_MAX_COUNT", "0"),
        ("CHAT_IMAGE_MAX_BYTES", "lots"),
        ("CHAT_IMAGE_MAX_PIXELS", "-5"),
    ],
)
def test_bad_numbers(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({name: value})
    assert name in str(info.value)
    assert value in str(info.value) or value.lstrip("-") in str(info.value)


def test_image_settings_and_their_defaults() -> None:
    default = load_settings({})
    assert (default.image_max_side, default.image_quality, default.image_max_count) == (896, 85, 5)
    assert (default.image_max_bytes, default.image_max_pixels) == (20_000_000, 50_000_000)
    custom = load_settings({"CHAT_IMAGE_MAX_SIDE": "1024", "CHAT_IMAGE_QUALITY": "95", "CHAT_IMAGE_MAX_COUNT": "1"})
    assert (custom.image_max_side, custom.image_quality, custom.image_max_count) == (1024, 95, 1)


def test_nan_is_not_a_number_of_seconds() -> None:
    with pytest.raises(ConfigurationError):
        load_settings({"AIMLAPI_READ_TIMEOUT": "nan"})


def test_blank_numbers_take_the_default() -> None:
    settings = load_settings({"AIMLAPI_READ_TIMEOUT": "  ", "AIMLAPI_PRICE_INPUT_PER_M": ""})
    assert settings.read_timeout == 60.0
    assert settings.price_input_per_m is None


# -- the sidebar key and demo mode ---------------------------------------------------


def test_with_key_from_the_sidebar_wins() -> None:
    settings = load_settings({"AIMLAPI_API_KEY": "from-env"})
    typed = settings.with_key(f" {CANARY_KEY} ")
    assert typed.api_key.reveal() == CANARY_KEY
    assert typed.key_source == "sidebar"
    assert not typed.demo
    assert settings.api_key.reveal() == "from-env", "the original settings are untouched"
    assert typed.base_url == settings.base_url and typed.model == settings.model


def test_blank_sidebar_key_changes_nothing() -> None:
    settings = load_settings({"AIMLAPI_API_KEY": "from-env"})
    assert settings.with_key("   ") is settings
    demo = load_settings({})
    assert demo.with_key("").demo


def test_demo_when_no_key_anywhere(files: tuple[Path, Path]) -> None:
    env_file, secrets_file = files
    settings = load_settings(gather({}, env_file, secrets_file))
    assert settings.demo
    assert settings.with_key("sk-typed").demo is False


def test_whitespace_only_key_is_demo() -> None:
    assert load_settings({"AIMLAPI_API_KEY": "   "}).demo


def test_with_base_url_validates() -> None:
    settings = load_settings({})
    assert settings.with_base_url("http://127.0.0.1:1/v1/").base_url == "http://127.0.0.1:1/v1"
    with pytest.raises(ConfigurationError):
        settings.with_base_url("nope")


# -- the key never shows -------------------------------------------------------------


def test_repr_of_settings_has_no_key() -> None:
    settings = load_settings({"AIMLAPI_API_KEY": CANARY_KEY}).with_key(CANARY_KEY)
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert CANARY_KEY not in text
        assert "Secret('***')" in text


def test_repr_of_settings_has_no_database_password() -> None:
    settings = load_settings({"CHAT_DB_URL": "postgresql+psycopg://chat:hunter2-secret@127.0.0.1/chat"})
    assert "hunter2-secret" not in repr(settings)


def test_max_retry_wait_defaults_to_a_minute_and_is_validated() -> None:
    assert load_settings({}).max_retry_wait == 60
    assert load_settings({"AIMLAPI_MAX_RETRY_WAIT": "5"}).max_retry_wait == 5
    with pytest.raises(ConfigurationError):
        load_settings({"AIMLAPI_MAX_RETRY_WAIT": "-1"})


# -- credentials in the base URL (issue #10) -------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://user:hunter2-secret@127.0.0.1:9999/v1", "http://127.0.0.1:9999/v1"),
        ("https://:hunter2-secret@api.example.com/v1/", "https://api.example.com/v1"),
        ("https://hunter2-secret@api.example.com/v1", "https://api.example.com/v1"),
        ("http://us:hunter2@secret@127.0.0.1/v1", "http://127.0.0.1/v1"),  # an unescaped @ in the password
    ],
)
def test_credentials_in_the_base_url_are_removed_and_said(given: str, expected: str) -> None:
    settings = load_settings({"AIMLAPI_API_KEY": CANARY_KEY, "AIMLAPI_BASE_URL": given})
    assert settings.base_url == expected
    for text in (settings.base_url, repr(settings), str(settings), repr(settings.with_key("sk-other-key-123"))):
        assert "hunter2" not in text and "secret@" not in text
    assert settings.notes and "AIMLAPI_BASE_URL" in settings.notes[0] and "removed" in settings.notes[0]
    assert settings.with_key("sk-other-key-123").notes == settings.notes


def test_a_base_url_without_credentials_has_no_note() -> None:
    settings = load_settings({"AIMLAPI_BASE_URL": "http://127.0.0.1:9999/v1?token=a@b"})
    assert settings.notes == () and settings.base_url == "http://127.0.0.1:9999/v1?token=a@b"


def test_credentials_are_logged_as_removed_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    import lib.settings

    lib.settings._said.clear()
    with caplog.at_level("WARNING", logger="lib.settings"):
        load_settings({"AIMLAPI_BASE_URL": "http://user:hunter2-secret@127.0.0.1:9999/v1"})
    assert "removed" in caplog.text and "http://127.0.0.1:9999/v1" in caplog.text
    assert "hunter2" not in caplog.text


def test_an_invalid_base_url_with_credentials_does_not_quote_them() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"AIMLAPI_BASE_URL": "ftp://user:hunter2-secret@example.com/v1"})
    assert "hunter2" not in str(info.value) and "AIMLAPI_BASE_URL" in str(info.value)


def test_with_base_url_removes_credentials_too() -> None:
    settings = load_settings({}).with_base_url("http://user:hunter2-secret@127.0.0.1:1/v1")
    assert settings.base_url == "http://127.0.0.1:1/v1" and len(settings.notes) == 1


def test_the_page_says_credentials_were_removed_and_shows_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lib.api.fake_api import Behaviour, FakeAPI
    from tests.apptest_helpers import new_app, page_text, send
    from tests.conftest import isolate_env

    with FakeAPI(api_key=CANARY_KEY) as api:
        isolate_env(
            monkeypatch, tmp_path,
            AIMLAPI_API_KEY=CANARY_KEY, AIMLAPI_BASE_URL=api.url.replace("://", "://user:hunter2-secret@"),
            AIMLAPI_MAX_RETRIES="0",
        )
        api.plan(Behaviour(reply="Hello."), Behaviour(status=500))
        at = new_app()
        send(at, "hi")
        send(at, "again")  # and a failed turn, whose error is shown too
        text = page_text(at)
        assert any("removed" in w.value and "AIMLAPI_BASE_URL" in w.value for w in at.warning), text
        assert "hunter2" not in text and api.url in text
        assert api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"


def test_lab_concurrency_defaults_to_four_and_is_a_whole_number_from_1_to_32() -> None:
    assert load_settings({}).lab_concurrency == 4
    assert load_settings({"CHAT_LAB_CONCURRENCY": "2"}).lab_concurrency == 2
    for bad in ("0", "33", "many"):
        with pytest.raises(ConfigurationError, match="CHAT_LAB_CONCURRENCY"):
            load_settings({"CHAT_LAB_CONCURRENCY": bad})
