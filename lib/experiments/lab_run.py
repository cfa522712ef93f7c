"""A prompt-lab run: one template over every row of a test set, for one or more set-ups.

Each (row, set-up) pair is a cell: one request, read with :class:`LiveReply` as in the chat, so
that retries, a 429's ``Retry-After`` and Stop behave the same. A pool of at most
``CHAT_LAB_CONCURRENCY`` workers sends them, each with its own :class:`ChatClient` (a client's
retry hook belongs to one request at a time), so no more are ever in flight at once.

:meth:`LabRun.cancel` stops the replies in flight and starts no more; finished cells are kept.
A cost cap does the same once the cost of the finished cells reaches it, and says so (the
cost reported by the server, else estimated from the price settings; a cell whose cost is
unknown counts as nothing, and a reply in flight is counted when it ends).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lib.api.client import ChatClient
from lib.api.request import api_messages, build_body
from lib.chat.context_gauge import estimate_message
from lib.chat.conversation import new_id
from lib.chat.live_reply import LiveReply
from lib.chat.recorder import RequestTag
from lib.chat.usage import Cost, ReplyStats, format_cost
from lib.errors import TemplateError
from lib.experiments.checks import Check, CheckResult, pass_rate, run_checks
from lib.experiments.compare import Setup
from lib.experiments.templates import fill
from lib.people.owner import LOCAL_OWNER
from lib.settings import Settings

CellStatus = Literal["pending", "running", "done", "failed", "cancelled", "skipped"]
RunStatus = Literal["ready", "running", "finished", "cancelled", "capped"]
#: completion tokens assumed per reply for the estimate, when a set-up sets no ``max_tokens``
ASSUMED_REPLY_TOKENS = 300


@dataclass(frozen=True)
class Template:
    """The system prompt and the message of a run, with ``{{variables}}``.

    An empty system prompt leaves each set-up's own (filled the same way) in force.
    """

    message: str
    system_prompt: str = ""

    def system_for(self, setup: Setup) -> str:
        return self.system_prompt if self.system_prompt.strip() else setup.system_prompt

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "system_prompt": self.system_prompt}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Template:
        return cls(str(data.get("message") or ""), str(data.get("system_prompt") or ""))


def request_body(template: Template, setup: Setup, row: Mapping[str, Any]) -> dict[str, Any]:
    """The body sent for one cell; TemplateError when the row does not fill the template."""
    system = template.system_for(setup)
    message = fill(template.message, row, declared_in=[system])
    prompt = fill(system, row, declared_in=[template.message])
    messages = api_messages(prompt, [{"role": "user", "content": message}], setup.model, setup.instruction_role)
    return build_body(setup.model, messages, setup.params)


# -- the cost before the run --------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    """What a run should cost, counted before it starts: always an estimate (shown with ≈).

    Prompt tokens are counted from the filled prompts; each reply is assumed to be as long as
    the set-up's ``max_tokens``, else :data:`ASSUMED_REPLY_TOKENS`. ``usd`` is None when a price
    is not set (AIMLAPI_PRICE_INPUT_PER_M, AIMLAPI_PRICE_OUTPUT_PER_M).
    """

    usd: float | None
    prompt_tokens: int
    completion_tokens: int
    #: per set-up, in set-up order; None where unknown
    per_setup: tuple[float | None, ...]
    estimated: bool = True

    def text(self) -> str:
        """``≈$0.0012 (estimate)``, or a sentence saying why there is no figure."""
        if self.usd is None:
            return "Unknown: set AIMLAPI_PRICE_INPUT_PER_M and AIMLAPI_PRICE_OUTPUT_PER_M for an estimate."
        return format_cost(Cost(self.usd, "estimate"))


def price_of(settings: Settings, model: str) -> tuple[float, float] | None:
    """USD per million prompt and completion tokens for ``model``; None when unknown.

    The settings hold one price for every model; the model is named so that per-model prices
    can come in without changing the callers.
    """
    if settings.price_input_per_m is None or settings.price_output_per_m is None:
        return None
    return settings.price_input_per_m, settings.price_output_per_m


def estimate_run_cost(
    template: Template, setups: Sequence[Setup], rows: Sequence[Mapping[str, Any]], settings: Settings
) -> CostEstimate:
    prompt_total = completion_total = 0
    per_setup: list[float | None] = []
    for setup in setups:
        reply = int(setup.params.get("max_tokens") or ASSUMED_REPLY_TOKENS)
        prompt = completion = 0
        for row in rows:
            try:
                messages = request_body(template, setup, row)["messages"]
            except TemplateError:
                continue  # a row that cannot be filled is never sent
            prompt += sum(estimate_message(m["content"]) for m in messages)
            completion += reply
        prompt_total, completion_total = prompt_total + prompt, completion_total + completion
        price = price_of(settings, setup.model)
        per_setup.append(None if price is None else (prompt * price[0] + completion * price[1]) / 1_000_000)
    usd = None if None in per_setup else sum(per_setup)  # type: ignore[arg-type]
    return CostEstimate(usd, prompt_total, completion_total, tuple(per_setup))


# -- cells and totals ---------------------------------------------------------------------


@dataclass
class LabCell:
    row: int
    setup: int
    status: CellStatus = "pending"
    text: str = ""
    stats: ReplyStats | None = None
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    #: a judge's verdict (lib.experiments.judge.Verdict.to_dict()): a model's opinion, kept apart from the checks
    judge: dict[str, Any] | None = None

    @property
    def cost_usd(self) -> float | None:
        return self.stats.cost.usd if self.stats and self.stats.cost else None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled", "skipped")

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "setup": self.setup, "status": self.status, "text": self.text,
            "stats": self.stats.to_dict() if self.stats else None, "error": self.error,
            "checks": [{"passed": r.passed, "detail": r.detail} for r in self.checks],
            "judge": self.judge,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabCell:
        return cls(
            row=int(data["row"]), setup=int(data["setup"]), status=data.get("status", "done"),
            text=str(data.get("text") or ""), stats=ReplyStats.from_dict(data.get("stats")),
            error=data.get("error"),
            checks=[CheckResult(bool(c["passed"]), str(c.get("detail", ""))) for c in data.get("checks") or []],
            judge=data.get("judge") if isinstance(data.get("judge"), dict) else None,
        )


@dataclass(frozen=True)
class SetupTotals:
    #: replies that came to an end (done, or ended in an error); a reply stopped half-way is not one
    requests: int
    #: replies that ended in an error (request errors, not failed checks)
    failed: int
    cost_usd: float
    #: whether any cost was only estimated from the price settings, or unknown
    cost_estimated: bool
    cost_unknown: bool
    prompt_tokens: int
    completion_tokens: int
    mean_first_token: float | None
    pass_rate: float | None
    #: replies stopped half-way by a cancel or the cost cap (their cost is counted: it was spent)
    stopped: int = 0


def setup_totals(cells: Sequence[LabCell], setup: int) -> SetupTotals:
    mine = [c for c in cells if c.setup == setup and c.status in ("done", "failed", "cancelled")]
    stats = [c.stats for c in mine if c.stats is not None]
    firsts = [s.time_to_first_token for s in stats if s.time_to_first_token is not None]
    return SetupTotals(
        requests=sum(c.status != "cancelled" for c in mine),
        stopped=sum(c.status == "cancelled" for c in mine),
        failed=sum(c.status == "failed" for c in mine),
        cost_usd=sum(s.cost.usd for s in stats if s.cost),
        cost_estimated=any(s.cost and s.cost.is_estimate for s in stats),
        cost_unknown=any(c.cost_usd is None for c in mine),
        prompt_tokens=sum((s.usage.prompt_tokens or 0) for s in stats if s.usage),
        completion_tokens=sum((s.usage.completion_tokens or 0) for s in stats if s.usage),
        mean_first_token=sum(firsts) / len(firsts) if firsts else None,
        pass_rate=pass_rate(r for c in mine if c.status == "done" for r in c.checks),
    )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    failed: int
    elapsed: float
    #: seconds, from the pace so far; None before the first cell finished
    time_left: float | None
    cost_usd: float
    status: RunStatus
    #: why the run stopped early ("Stopped at the cost cap: …"), else ""
    note: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass
class LabResult:
    """A run as it is kept: what was run over what, and every cell (saved, exported, diffed)."""

    template: Template
    setups: list[Setup]
    checks: list[Check]
    rows: list[dict[str, Any]]
    cells: list[LabCell]
    status: RunStatus = "finished"
    note: str = ""
    #: the name of the test set the rows came from; runs of one test set can be diffed
    test_set: str = ""
    id: str = field(default_factory=new_id)
    created: float = field(default_factory=time.time)

    def cell(self, row: int, setup: int) -> LabCell | None:
        return next((c for c in self.cells if c.row == row and c.setup == setup), None)

    def totals(self) -> list[SetupTotals]:
        return [setup_totals(self.cells, index) for index in range(len(self.setups))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "created": self.created, "status": self.status, "note": self.note,
            "test_set": self.test_set, "template": self.template.to_dict(),
            "setups": [s.to_dict() for s in self.setups], "checks": [c.to_dict() for c in self.checks],
            "rows": [dict(r) for r in self.rows], "cells": [c.to_dict() for c in self.cells],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabResult:
        return cls(
            template=Template.from_dict(data.get("template") or {}),
            setups=[Setup.from_dict(s) for s in data.get("setups") or []],
            checks=[Check.from_dict(c) for c in data.get("checks") or []],
            rows=[dict(r) for r in data.get("rows") or []],
            cells=[LabCell.from_dict(c) for c in data.get("cells") or []],
            status=data.get("status") or "finished", note=str(data.get("note") or ""),
            test_set=str(data.get("test_set") or ""), id=str(data.get("id") or new_id()),
            created=float(data.get("created") or time.time()),
        )


# -- the run ------------------------------------------------------------------------------


@dataclass
class LabRun:
    template: Template
    setups: list[Setup]
    rows: list[dict[str, Any]]
    settings: Settings
    checks: list[Check] = field(default_factory=list)
    #: USD; the run stops once the finished cells cost this much
    cost_cap: float | None = None
    #: the name of the test set the rows came from
    test_set: str = ""
    #: a client per worker; tests may pass their own
    client_factory: Callable[[Settings], ChatClient] = ChatClient
    #: for the request log: "lab", or "judge" for a judge's requests
    source: str = "lab"
    #: whose requests these are (the request log and the per-person limits count by it)
    owner: str = LOCAL_OWNER
    #: the store that logs the requests; None: the one installed (lib.chat.recorder.install)
    ledger: Any = None
    #: the run id the log files the requests under (a judge's: the run it judges); None: this run's
    logged_as: str | None = None
    cells: list[LabCell] = field(default_factory=list)
    status: RunStatus = "ready"
    note: str = ""
    id: str = field(default_factory=new_id)
    created: float = field(default_factory=time.time)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    _live: dict[int, LiveReply] = field(default_factory=dict)
    _jobs: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _workers: list[threading.Thread] = field(default_factory=list)
    _started: float = 0.0
    _ended: float | None = None

    def __post_init__(self) -> None:
        if not self.cells:
            # Row by row, every set-up of a row together: early results compare like with like.
            self.cells = [LabCell(r, s) for r in range(len(self.rows)) for s in range(len(self.setups))]

    def estimate(self) -> CostEstimate:
        return estimate_run_cost(self.template, self.setups, self.rows, self.settings)

    # -- control ------------------------------------------------------------------------

    def start(self) -> LabRun:
        with self._lock:
            if self.status != "ready":
                raise RuntimeError("a run starts once")
            self.status, self._started = "running", time.monotonic()
        for index, cell in enumerate(self.cells):
            if not cell.finished:
                self._jobs.put(index)
        count = max(1, min(self.settings.lab_concurrency, len(self.cells)))
        self._workers = [threading.Thread(target=self._work, name=f"lab-{n}", daemon=True) for n in range(count)]
        for worker in self._workers:
            worker.start()
        threading.Thread(target=self._finish_when_done, name="lab-end", daemon=True).start()
        return self

    def cancel(self, note: str = "Cancelled.") -> None:
        """Stop what is in flight and start nothing more; finished cells stay."""
        with self._lock:
            if self._stop.is_set():
                return
            self._stop.set()
            if self.status == "running":
                self.status, self.note = "cancelled", note
            live = list(self._live.values())
        for reply in live:
            reply.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run to end (every cell finished or skipped); False on a timeout."""
        return self._done.wait(timeout)

    # -- workers ------------------------------------------------------------------------

    def _work(self) -> None:
        client = self.client_factory(self.settings)
        try:
            while not self._stop.is_set():
                try:
                    index = self._jobs.get_nowait()
                except queue.Empty:
                    return
                self._run_cell(client, index)
        finally:
            client.close()

    def _run_cell(self, client: ChatClient, index: int) -> None:
        cell = self.cells[index]
        setup = self.setups[cell.setup]
        try:
            body = request_body(self.template, setup, self.rows[cell.row])
        except TemplateError as exc:
            self._record(cell, "failed", error=exc.message)
            return
        tag = RequestTag(self.source, owner=self.owner, lab_run_id=self.logged_as or self.id, label=setup.label())
        reply = LiveReply(client, body, tag=tag, ledger=self.ledger)
        with self._lock:
            if self._stop.is_set():
                return  # cancelled between taking the job and sending it
            cell.status = "running"
            self._live[index] = reply
            reply.start()
        reply.wait()
        with self._lock:
            self._live.pop(index, None)
        outcome = reply.outcome()
        if outcome.stopped:
            self._record(cell, "cancelled", outcome.text, outcome.stats)
        elif outcome.error is not None:
            self._record(cell, "failed", outcome.text, outcome.stats, outcome.error.message)
        else:
            self._record(cell, "done", outcome.text, outcome.stats, checks=run_checks(self.checks, outcome.text))

    def _record(
        self, cell: LabCell, status: CellStatus, text: str = "", stats: ReplyStats | None = None,
        error: str | None = None, checks: list[CheckResult] | None = None,
    ) -> None:
        with self._lock:
            cell.text, cell.stats, cell.error, cell.checks = text, stats, error, checks or []
            cell.status = status
            spent = self._cost()
        if self.cost_cap is not None and spent >= self.cost_cap:
            self._hit_cap(spent)

    def _hit_cap(self, spent: float) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self.status = "capped"
            self.note = f"Stopped at the cost cap: ${spent:.6f} spent of ${self.cost_cap:.6f}."
        self.cancel()

    def _finish_when_done(self) -> None:
        for worker in self._workers:
            worker.join()
        with self._lock:
            for cell in self.cells:
                if not cell.finished:
                    cell.status = "skipped"
            if self.status == "running":
                self.status = "finished"
            self._ended = time.monotonic()
        self._done.set()

    # -- reading, from any thread -------------------------------------------------------

    def _cost(self) -> float:
        return sum(c.cost_usd or 0.0 for c in self.cells)

    @property
    def finished(self) -> bool:
        return self._ended is not None

    def progress(self) -> Progress:
        with self._lock:
            done = sum(c.status in ("done", "failed", "cancelled") for c in self.cells)
            failed = sum(c.status == "failed" for c in self.cells)
            end = self._ended if self._ended is not None else time.monotonic()
            elapsed = end - self._started if self._started else 0.0
            total = len(self.cells)
            left = None
            if self.status != "running":
                left = 0.0 if self._ended is not None else None
            elif done:
                left = elapsed / done * (total - done)
            return Progress(done, total, failed, elapsed, left, self._cost(), self.status, self.note)

    def snapshot(self) -> list[LabCell]:
        """Copies of the cells as they are now; a cell in flight holds the text that has arrived so far."""
        with self._lock:
            return [
                LabCell(c.row, c.setup, c.status, self._text_now(index, c), c.stats, c.error, list(c.checks), c.judge)
                for index, c in enumerate(self.cells)
            ]

    def _text_now(self, index: int, cell: LabCell) -> str:
        live = self._live.get(index) if cell.status == "running" else None
        return live.text if live is not None else cell.text

    def totals(self) -> list[SetupTotals]:
        cells = self.snapshot()
        return [setup_totals(cells, index) for index in range(len(self.setups))]

    def result(self) -> LabResult:
        """The run as it stands, to keep (cells still in flight are kept as they are now)."""
        with self._lock:
            return LabResult(
                self.template, list(self.setups), list(self.checks), [dict(r) for r in self.rows],
                self.snapshot(), self.status, self.note, self.test_set, self.id, self.created,
            )
