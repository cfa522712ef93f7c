"""Rewrite .env.example, .streamlit/secrets.toml.example and the README's settings table from lib.settings.

Run after changing a setting: .venv/bin/python scripts/settings_docs.py (tests/test_docs.py checks they agree).
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.settings import SETTINGS, Setting  # noqa: E402


def example_line(setting: Setting, separator: str, quote: str) -> str:
    if setting.name == "AIMLAPI_API_KEY":
        return f"{setting.name}{separator}{quote}{quote}"
    # The others stay commented out, so that the defaults in lib/settings.py keep applying.
    mark = quote or ('"' if " " in setting.default else "")
    return f"# {setting.name}{separator}{mark}{setting.default}{mark}"


def default_cell(setting: Setting) -> str:
    if not setting.default:
        return "—"
    if setting.name == "CHAT_SYSTEM_PROMPT":
        return "a helpful-assistant prompt"
    return f"`{setting.default}`"


def main() -> None:
    env = ["# Copy to .env (git-ignored) and fill in. Every setting is optional.", ""]
    toml = ["# Copy to .streamlit/secrets.toml (git-ignored). Same names as the environment variables.", ""]
    for setting in SETTINGS:
        env += [f"# {setting.help}", example_line(setting, "=", ""), ""]
        toml += [f"# {setting.help}", example_line(setting, " = ", '"'), ""]
    # Streamlit's own section, last (a TOML table ends the top-level keys): sign-in, see the README.
    toml += [
        "# Sign-in (OpenID Connect, Streamlit's st.login): uncomment and fill in to require it on every page.",
        "# [auth]",
        '# redirect_uri = "https://chat.example.com/oauth2callback"',
        '# cookie_secret = "a long random string"',
        '# client_id = ""',
        '# client_secret = ""',
        '# server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"',
        "",
    ]
    (ROOT / ".env.example").write_text("\n".join(env))
    (ROOT / ".streamlit" / "secrets.toml.example").write_text("\n".join(toml))
    rows = "\n".join(f"| `{s.name}` | {default_cell(s)} | {s.help} |" for s in SETTINGS)
    readme = ROOT / "README.md"
    table = "| Setting | Default | Meaning |\n|---|---|---|\n" + rows + "\n"
    readme.write_text(re.sub(r"\| Setting \| Default \| Meaning \|\n\|---\|---\|---\|\n(\|.*\n)+", table, readme.read_text()))


if __name__ == "__main__":
    main()
