"""What the request log learns from a reply (#15): its tag before it leaves, its figures after.

Every request to the API goes through :class:`lib.chat.live_reply.LiveReply`, which calls
:func:`begin` before sending and :func:`finish` when the reply has ended, so that chat, Compare,
lab and judge requests are all logged, failed, stopped and retried ones too. Logging never fails
a reply: a database error is logged and the reply goes on. Only a limit reached stops it
(:class:`lib.errors.SpendingLimitError`), before anything is sent.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib.chat.context_gauge import estimate_usage
from lib.chat.usage import ReplyStats
from lib.errors import ChatError, SpendingLimitError
from lib.people.owner import LOCAL_OWNER
from lib.store.request_log import RequestRow, begin_request, finish_request

if TYPE_CHECKING:
    from lib.settings import Settings
    from lib.store.database import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestTag:
    """Where a request comes from, for its row in the log."""

    source: str = "chat"
    owner: str = LOCAL_OWNER
    conversation_id: str | None = None
    comparison_id: str | None = None
    lab_run_id: str | None = None
    #: the preset (chat) or the set-up's label (Compare, lab)
    label: str | None = None


_installed: Store | None = None
_installed_lock = threading.Lock()


def install(store: Store | None) -> None:
    """The store that logs requests whose sender named none (a lab run started from a page)."""
    global _installed
    with _installed_lock:
        _installed = store


def installed() -> Store | None:
    with _installed_lock:
        return _installed


def limited(settings: Settings) -> bool:
    """Whether any spending or request limit is set (then each request is checked and logged before it leaves)."""
    return any(v is not None for v in (settings.daily_usd, settings.monthly_usd, settings.user_rpm, settings.user_daily_usd))


def next_cost(body: dict[str, Any], settings: Settings) -> float:
    """The least ``body`` can cost, as known before sending: its prompt at the input price (0 without one)."""
    if settings.price_input_per_m is None:
        return 0.0
    prompt = estimate_usage(body.get("messages") or [], "").prompt_tokens or 0
    return prompt * settings.price_input_per_m / 1_000_000


def begin(store: Store | None, tag: RequestTag, body: dict[str, Any], request_id: str, settings: Settings) -> RequestRow:
    """The row of a request about to leave; with limits set, checked and logged now (SpendingLimitError
    when a limit is reached), else logged by :func:`finish` only."""
    row = RequestRow(
        id=request_id, model=str(body.get("model") or ""), source=tag.source, owner=tag.owner, time=time.time(),
        conversation_id=tag.conversation_id, comparison_id=tag.comparison_id, lab_run_id=tag.lab_run_id,
        label=tag.label,
    )
    if store is None or not limited(settings):
        # Logged when it ends: no write stands between the user and the request (Compare's columns
        # leave together). Only a limit needs the row in the log before the request leaves.
        return row
    try:
        begin_request(store, row, settings, next_cost(body, settings))
    except SpendingLimitError:
        raise
    except Exception as exc:  # noqa: BLE001 - logging must never stop a reply
        log.error("logging the request %s failed: %r", request_id, exc)
    return row


def _status(stats: ReplyStats, error: ChatError | None, stopped: bool) -> tuple[str, str | None]:
    if stopped:
        return "stopped", None
    if error is not None:
        return "error", type(error).__name__
    if stats.finish_reason in ("length", "content_filter"):
        return "cut", None
    return "ok", None


def _cost_source(stats: ReplyStats, demo: bool) -> str | None:
    if stats.cost is None:
        return None
    if demo:
        return "demo"
    return "estimate" if stats.cost.is_estimate else "server"


def finish(
    store: Store | None, row: RequestRow, stats: ReplyStats, *, error: ChatError | None, stopped: bool,
    retries: int, demo: bool, completion_id: str | None = None,
) -> RequestRow:
    """``row`` with how the request ended, written to the log (a failure is logged, not raised)."""
    row.status, row.error_kind = _status(stats, error, stopped)
    row.retries = retries
    usage = stats.usage
    row.prompt_tokens = usage.prompt_tokens if usage else None
    row.completion_tokens = usage.completion_tokens if usage else None
    row.tokens_estimated = bool(usage and usage.estimated)
    row.cost_usd = stats.cost.usd if stats.cost else None
    row.cost_source = _cost_source(stats, demo)
    row.ttft, row.duration = stats.time_to_first_token, stats.total_time
    row.tokens_per_second = stats.tokens_per_second
    row.api_request_id = stats.request_id or (error.request_id if error else None) or completion_id
    if store is not None:
        try:
            finish_request(store, row)
        except Exception as exc:  # noqa: BLE001 - logging must never fail a reply
            log.error("logging the end of request %s failed: %r", row.id, exc)
    return row
