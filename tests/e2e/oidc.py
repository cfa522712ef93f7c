"""A real OpenID Connect provider on loopback for the sign-in tests: ``oidc-provider-mock``.

No pytest in here (as in harness.py). The provider runs as its own process on 127.0.0.1; its
sign-in form takes a subject, and a subject given to ``--user-claims`` signs in with those claims.
:func:`write_auth_secrets` writes the ``[auth]`` section an app under test reads (Streamlit's
``secrets.files`` option points at it), so the repository's own files are never touched.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.harness import free_port, wait_until_up

#: the people the provider knows: a subject typed into its form signs in with these claims
PEOPLE = {
    "alice": {"sub": "alice", "email": "alice@example.com", "email_verified": True, "name": "Alice Liddell"},
    "bob": {"sub": "bob", "email": "bob@example.com", "email_verified": True, "name": "Bob Builder"},
    "mallory": {"sub": "mallory", "email": "mallory@elsewhere.test", "email_verified": True, "name": "Mallory"},
}
SIGN_IN_BUTTON = "button:has-text('Sign in')"
SIGN_OUT_BUTTON = "button:has-text('Sign out')"


@dataclass
class OidcProvider:
    """``oidc-provider-mock`` on 127.0.0.1, its output kept in ``log_path``."""

    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def start(self, timeout: float = 30) -> OidcProvider:
        command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(self.port)]
        for claims in PEOPLE.values():
            command += ["--user-claims", json.dumps(claims)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_until_up(self.process, self.metadata_url, timeout, "oidc-provider-mock",
                      lambda: self.log_path.read_text(errors="replace"), self.stop)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def write_auth_secrets(path: Path, provider: OidcProvider, app_port: int) -> Path:
    """The ``[auth]`` section of a secrets.toml for an app on ``app_port`` signing in at ``provider``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "gemma-chat-tests"\n'
        'client_secret = "not-a-secret"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
    return path


def sign_in(page: Any, server_url: str, subject: str, path: str = "/") -> None:
    """Open the app signed out, press Sign in, and sign in at the provider as ``subject``."""
    page.goto(server_url + path)
    page.locator(SIGN_IN_BUTTON).click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill(subject)
    page.locator("button[type=submit]:has-text('Authorize')").click()
    page.wait_for_url(server_url + "/**")


def sign_out(page: Any, server_url: str) -> None:
    """Press Sign out; the provider asks to end its session too (its end_session page), then
    sends the browser back to the app."""
    page.locator(SIGN_OUT_BUTTON).click()
    page.wait_for_url("**/oauth2/end_session**")
    page.locator("button[type=submit]:has-text('End session')").click()
    page.wait_for_url(server_url + "/**")
