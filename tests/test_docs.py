"""The README and the example files document every setting the settings module reads."""

from pathlib import Path

import pytest

from lib.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_documented(name: str) -> None:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, "a row of the settings table, once"
    assert f"{name}=" in (ROOT / ".env.example").read_text()
    assert f"{name} = " in (ROOT / ".streamlit" / "secrets.toml.example").read_text()


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/start" in readme and "./scripts/test" in readme
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_secrets_stay_out_of_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored and ".streamlit/secrets.toml" in ignored
