"""Every setting of the app, read once from one place.

Sources, first match wins: the process environment, a ``.env`` file (python-dotenv),
then ``.streamlit/secrets.toml``. A key typed into the sidebar overrides all of them
for that browser session only (see :meth:`Settings.with_key`).
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

from lib.errors import ConfigurationError
from lib.people.access import parse_addresses
from lib.secret import Secret

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.aimlapi.com/v1"
DEFAULT_MODEL = "google/gemma-3-27b-it"
DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful, precise assistant. Answer clearly and concisely, "
    "use Markdown where it helps, and say so when you are not sure."
)
APP_NAME = "gemma-chat"
#: where saved conversations live unless CHAT_DB_PATH or CHAT_DB_URL says otherwise
DEFAULT_DB_PATH = "~/.local/share/gemma-chat/chats.sqlite3"
DEFAULT_IMPORT_MAX_BYTES = 20_000_000
#: Gemma 3's vision encoder sees 896×896 pixels: a longer side is only squeezed down by the server
DEFAULT_IMAGE_MAX_SIDE = 896
DEFAULT_IMAGE_QUALITY = 85
#: each image is sent again with every later turn (the whole history goes each time), so a few
#: per message keep the requests small: five 150 KB images are about 1 MB of base64
DEFAULT_IMAGE_MAX_COUNT = 5
#: a phone's photo is 2–12 MB; this leaves room for a large PNG screenshot
DEFAULT_IMAGE_MAX_BYTES = 20_000_000
#: a 48 MP phone photo (8064×6048) passes; decoding 50 MP takes up to 200 MB of memory for a moment
DEFAULT_IMAGE_MAX_PIXELS = 50_000_000
#: a conversation of this many messages imports in 0.7 s and opens in 1 s (bench/long_chats.py)
DEFAULT_IMPORT_MAX_MESSAGES = 10_000
#: requests a prompt-lab run sends at once: more would meet 429s sooner, fewer would crawl
DEFAULT_LAB_CONCURRENCY = 4
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    """One documented setting: its variable, default and meaning (for README and examples)."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("AIMLAPI_API_KEY", "", "API key (bearer token). With none anywhere the app runs in offline demo mode."),
    Setting("AIMLAPI_BASE_URL", DEFAULT_BASE_URL, "Base URL of any OpenAI-compatible server; `/chat/completions` is appended."),
    Setting("AIMLAPI_MODEL", DEFAULT_MODEL, "Model id sent by default."),
    Setting("AIMLAPI_CONNECT_TIMEOUT", "10", "Seconds to wait for the server to accept the connection."),
    Setting("AIMLAPI_READ_TIMEOUT", "60", "Seconds to wait for the first byte, and between two bytes of a stream."),
    Setting("AIMLAPI_MAX_RETRIES", "3", "Retries of a 429 or 5xx answer before any text has arrived (0 turns them off)."),
    Setting("AIMLAPI_RETRY_BACKOFF", "1", "Backoff: retries wait 1, 2, 4 … times this many seconds, or what Retry-After says."),
    Setting("AIMLAPI_MAX_RETRY_WAIT", "60", "Seconds a retry may wait at most; a longer Retry-After fails at once, naming it."),
    Setting("AIMLAPI_PRICE_INPUT_PER_M", "", "USD per million prompt tokens, for an estimate when the server reports no cost."),
    Setting("AIMLAPI_PRICE_OUTPUT_PER_M", "", "USD per million completion tokens, for the same estimate."),
    Setting("CHAT_SYSTEM_PROMPT", DEFAULT_SYSTEM_PROMPT, "System prompt a new chat starts with."),
    Setting("CHAT_HISTORY", "on", "`on` saves every conversation (History page); `off` keeps chats in the browser session only."),
    Setting("CHAT_DB_PATH", DEFAULT_DB_PATH, "SQLite file the conversations are saved in."),
    Setting("CHAT_DB_URL", "", "SQLAlchemy URL of a database to use instead, e.g. `postgresql+psycopg://user:pass@host/db`."),
    Setting(
        "CHAT_IMPORT_MAX_BYTES", str(DEFAULT_IMPORT_MAX_BYTES),
        "Largest file the History page imports, in bytes (20 MB: an export carries its images).",
    ),
    Setting(
        "CHAT_IMAGE_MAX_SIDE", str(DEFAULT_IMAGE_MAX_SIDE),
        "Attached images are shrunk to at most this many pixels on their long side (what Gemma 3 sees).",
    ),
    Setting("CHAT_IMAGE_QUALITY", str(DEFAULT_IMAGE_QUALITY), "JPEG quality (1–95) attached images are sent at."),
    Setting("CHAT_IMAGE_MAX_COUNT", str(DEFAULT_IMAGE_MAX_COUNT), "Most images one message may carry."),
    Setting("CHAT_IMAGE_MAX_BYTES", str(DEFAULT_IMAGE_MAX_BYTES), "Largest image file accepted, in bytes (20 MB)."),
    Setting(
        "CHAT_IMAGE_MAX_PIXELS", str(DEFAULT_IMAGE_MAX_PIXELS),
        "Most pixels an image may have (50 megapixels): a larger one is refused before it is decoded.",
    ),
    Setting("CHAT_LAB_CONCURRENCY", str(DEFAULT_LAB_CONCURRENCY), "Most requests a prompt-lab run has in flight at once."),
    Setting("CHAT_IMPORT_MAX_MESSAGES", str(DEFAULT_IMPORT_MAX_MESSAGES),
            "Most messages one imported conversation may hold; a file with more is refused."),
    Setting(
        "CHAT_ALLOWED_EMAILS", "",
        "With sign-in: who may enter, as e-mail addresses or `@domain`s, comma-separated. Empty: anyone the provider signs in.",
    ),
    Setting("CHAT_ADMINS", "", "With sign-in: the e-mail addresses of admins, who see where the database lives."),

    Setting("CHAT_DAILY_USD", "", "Spending limit per day (local time), in USD, for everyone together; then nothing is sent."),
    Setting("CHAT_MONTHLY_USD", "", "Spending limit per calendar month, in USD, for everyone together."),
    Setting("CHAT_USER_RPM", "", "Most requests one person may send in a minute (counted in the database, across replicas)."),
    Setting("CHAT_USER_DAILY_USD", "", "Spending limit per person per day, in USD."),
)


@dataclass(frozen=True)
class Settings:
    api_key: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 3
    retry_backoff: float = 1.0
    #: the longest Retry-After honoured by waiting; a longer one fails at once and says so
    max_retry_wait: float = 60.0
    price_input_per_m: float | None = None
    price_output_per_m: float | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    #: where the key came from, for the sidebar: "environment", "sidebar" or ""
    key_source: str = ""
    #: whether conversations are saved at all (CHAT_HISTORY)
    history: bool = True
    db_path: Path = field(default_factory=lambda: Path(DEFAULT_DB_PATH).expanduser())
    #: a database URL that wins over db_path; it may hold a password, so never show it whole
    db_url: str = field(default="", repr=False)
    import_max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
    #: how attached images are prepared and what is refused (see lib.images.prepare.ImageLimits)
    image_max_side: int = DEFAULT_IMAGE_MAX_SIDE
    image_quality: int = DEFAULT_IMAGE_QUALITY
    image_max_count: int = DEFAULT_IMAGE_MAX_COUNT
    image_max_bytes: int = DEFAULT_IMAGE_MAX_BYTES
    image_max_pixels: int = DEFAULT_IMAGE_MAX_PIXELS
    import_max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES
    #: requests a prompt-lab run has in flight at once (CHAT_LAB_CONCURRENCY)
    lab_concurrency: int = DEFAULT_LAB_CONCURRENCY
    #: with sign-in, who may enter: addresses and "@domain"s, lower case; empty lets everyone in
    allowed_emails: tuple[str, ...] = ()
    #: with sign-in, the admins' addresses, lower case
    admins: tuple[str, ...] = ()

    #: spending and request limits, counted from the request log (lib.store.budget); None: no limit
    daily_usd: float | None = None
    monthly_usd: float | None = None
    user_rpm: int | None = None
    user_daily_usd: float | None = None
    #: what loading changed in the settings as given, for the sidebar to say
    notes: tuple[str, ...] = ()

    @property
    def demo(self) -> bool:
        """No key anywhere: the offline demo model answers."""
        return not self.api_key

    def with_key(self, typed_key: str) -> Settings:
        """These settings with a key typed into the sidebar, which wins over the others."""
        if not typed_key.strip():
            return self
        return replace(self, api_key=Secret(typed_key), key_source="sidebar")

    def with_base_url(self, base_url: str) -> Settings:
        url, notes = _base_url(base_url)
        return replace(self, base_url=url, notes=(*self.notes, *(n for n in notes if n not in self.notes)))


#: the ``user:password@`` of a URL, after its scheme if it has one
_CREDENTIALS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#\s]*@")

CREDENTIALS_REMOVED = (
    "AIMLAPI_BASE_URL held a user name and password: they were removed from it, "
    "and are neither sent, shown nor saved. The API key goes as a bearer token."
)


def without_credentials(url: str) -> str:
    """``url`` without the ``user:password@`` part, which must never be shown, saved or sent as Basic auth."""
    return _CREDENTIALS.sub(lambda m: m.group("scheme") or "", url.strip(), count=1)


def validate_base_url(url: str) -> str:
    """The URL, credentials removed, without a trailing slash; ConfigurationError unless http(s)."""
    url = without_credentials(url).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigurationError(
            f"AIMLAPI_BASE_URL must be an http(s) URL such as {DEFAULT_BASE_URL}, not {url!r}."
        )
    return url


_said: set[str] = set()


def _base_url(given: str) -> tuple[str, tuple[str, ...]]:
    """The base URL to use and what was changed in it.

    A ``user:pass@`` in it would be shown in the sidebar and in error messages (and saved with
    them), and requests would send it as Basic auth in place of the bearer key.
    """
    url = validate_base_url(given)
    if without_credentials(given) == given.strip():
        return url, ()
    if CREDENTIALS_REMOVED not in _said:  # once per process, not at every run of a page
        _said.add(CREDENTIALS_REMOVED)
        log.warning("%s Using %s.", CREDENTIALS_REMOVED, url)
    return url, (CREDENTIALS_REMOVED,)


def _number(
    raw: dict[str, str], name: str, default: float, *, minimum: float = 0, maximum: float = math.inf
) -> float:
    text = raw.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {text!r}.") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum:g}, not {value:g}.")
    if value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum:g}, not {value:g}.")
    return value


def _whole(raw: dict[str, str], name: str, default: int, *, minimum: int = 1, maximum: float = math.inf) -> int:
    return int(_number(raw, name, default, minimum=minimum, maximum=maximum))


def _optional_price(raw: dict[str, str], name: str) -> float | None:
    if not raw.get(name, "").strip():
        return None
    return _number(raw, name, 0.0)


def _optional_whole(raw: dict[str, str], name: str) -> int | None:
    if not raw.get(name, "").strip():
        return None
    return _whole(raw, name, 0)


def _switch(raw: dict[str, str], name: str, default: bool) -> bool:
    text = raw.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("on", "true", "yes", "1"):
        return True
    if text in ("off", "false", "no", "0"):
        return False
    raise ConfigurationError(f"{name} must be on or off, not {text!r}.")


def _read_secrets_toml(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    return {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float))}


def gather(
    environ: dict[str, str] | None = None,
    env_file: Path | None = None,
    secrets_file: Path | None = None,
) -> dict[str, str]:
    """Merge the three sources into one mapping, the environment winning."""
    environ = dict(os.environ if environ is None else environ)
    env_file = env_file or Path(environ.get("CHAT_DOTENV_PATH") or PROJECT_ROOT / ".env")
    secrets_file = secrets_file or Path(
        environ.get("CHAT_SECRETS_PATH") or PROJECT_ROOT / ".streamlit" / "secrets.toml"
    )
    merged: dict[str, str] = {}
    merged.update(_read_secrets_toml(secrets_file))
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v})
    merged.update({k: v for k, v in environ.items() if v})
    return merged


def load_settings(raw: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``raw`` (default: :func:`gather`), validating each value."""
    raw = gather() if raw is None else raw
    key = Secret(raw.get("AIMLAPI_API_KEY", ""))
    base_url, notes = _base_url(raw.get("AIMLAPI_BASE_URL") or DEFAULT_BASE_URL)
    return Settings(
        api_key=key,
        base_url=base_url,
        notes=notes,
        model=(raw.get("AIMLAPI_MODEL") or DEFAULT_MODEL).strip(),
        connect_timeout=_number(raw, "AIMLAPI_CONNECT_TIMEOUT", 10.0, minimum=0.1),
        read_timeout=_number(raw, "AIMLAPI_READ_TIMEOUT", 60.0, minimum=0.1),
        max_retries=int(_number(raw, "AIMLAPI_MAX_RETRIES", 3)),
        retry_backoff=_number(raw, "AIMLAPI_RETRY_BACKOFF", 1.0),
        max_retry_wait=_number(raw, "AIMLAPI_MAX_RETRY_WAIT", 60.0),
        price_input_per_m=_optional_price(raw, "AIMLAPI_PRICE_INPUT_PER_M"),
        price_output_per_m=_optional_price(raw, "AIMLAPI_PRICE_OUTPUT_PER_M"),
        system_prompt=raw.get("CHAT_SYSTEM_PROMPT") or DEFAULT_SYSTEM_PROMPT,
        key_source="environment" if key else "",
        history=_switch(raw, "CHAT_HISTORY", True),
        db_path=Path(raw.get("CHAT_DB_PATH") or DEFAULT_DB_PATH).expanduser(),
        db_url=raw.get("CHAT_DB_URL", "").strip(),
        import_max_bytes=int(_number(raw, "CHAT_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES, minimum=1)),
        # A side under 32 pixels leaves nothing to see; JPEG quality above 95 only grows the file.
        image_max_side=_whole(raw, "CHAT_IMAGE_MAX_SIDE", DEFAULT_IMAGE_MAX_SIDE, minimum=32),
        image_quality=_whole(raw, "CHAT_IMAGE_QUALITY", DEFAULT_IMAGE_QUALITY, maximum=95),
        image_max_count=_whole(raw, "CHAT_IMAGE_MAX_COUNT", DEFAULT_IMAGE_MAX_COUNT),
        image_max_bytes=_whole(raw, "CHAT_IMAGE_MAX_BYTES", DEFAULT_IMAGE_MAX_BYTES),
        image_max_pixels=_whole(raw, "CHAT_IMAGE_MAX_PIXELS", DEFAULT_IMAGE_MAX_PIXELS),
        import_max_messages=int(_number(raw, "CHAT_IMPORT_MAX_MESSAGES", DEFAULT_IMPORT_MAX_MESSAGES, minimum=1)),
        lab_concurrency=_whole(raw, "CHAT_LAB_CONCURRENCY", DEFAULT_LAB_CONCURRENCY, maximum=32),
        allowed_emails=parse_addresses(raw.get("CHAT_ALLOWED_EMAILS", ""), "CHAT_ALLOWED_EMAILS", domains=True),
        admins=parse_addresses(raw.get("CHAT_ADMINS", ""), "CHAT_ADMINS", domains=False),

        daily_usd=_optional_price(raw, "CHAT_DAILY_USD"),
        monthly_usd=_optional_price(raw, "CHAT_MONTHLY_USD"),
        user_rpm=_optional_whole(raw, "CHAT_USER_RPM"),
        user_daily_usd=_optional_price(raw, "CHAT_USER_DAILY_USD"),
    )
