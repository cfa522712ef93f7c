"""``python -m tests.e2e.slow_runs run app.py …``: the ``streamlit`` command on a server too busy to
start a page's run at once, as under load (bench's load test: 20 sessions on 2 cores).

Each full run of the page's script starts ``E2E_RUN_DELAY`` seconds late (after Streamlit has told
the browser that it started); fragment runs do not wait. Nothing else changes.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def install(delay: float) -> None:
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling

    def late(func: Any, ctx: Any) -> Any:
        if not ctx.fragment_ids_this_run:
            time.sleep(delay)
        return original(func, ctx)

    script_runner.exec_func_with_error_handling = late


def main() -> None:
    install(float(os.environ.get("E2E_RUN_DELAY", "0.3")))
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
