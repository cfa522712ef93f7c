"""The Usage page's pieces: filters, figures and Altair charts over the request log's aggregates.

The aggregates come from SQL (:mod:`lib.store.usage`), so every chart here is drawn from at most
a few hundred rows. A click on a bar of the cost or token charts picks its model; the other
charts, the figures and the CSV follow the pick (``st.altair_chart(on_select="rerun")``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from lib.api.models import model_info
from lib.chat.usage import Cost, format_cost
from lib.settings import Settings
from lib.store import usage, usage_page
from lib.store.database import Store
from lib.store.usage import Choices, UsageFilter
from lib.store.usage_page import Settled
from ui.people import is_admin_here, sign_in_configured

#: the charts a click picks models in, and the name of their selection
PICKERS = ("usage_cost_chart", "usage_tokens_chart")
PICK = "pick"
HEIGHT = 260


def usd(value: float) -> str:
    return format_cost(Cost(value, "server"))


# Kept as they are (cache_resource, no copy per run): the figures of the past are read-only.
@st.cache_resource(ttl=3600, max_entries=32, show_spinner=False)
def _settled_choices(_store: Store, url: str, owner: str | None, part: Settled) -> Choices:
    return usage_page.settled_choices(_store, owner, part)


def choices(store: Store, owner: str | None, part: Settled) -> Choices:
    """What the filters offer: the log before this hour read again only when it changed, this hour's afresh."""
    return _settled_choices(store, store.url, owner, part) + usage_page.recent_choices(store, owner, part)


def everyone(settings: Settings) -> bool:
    """Whether to show every person's requests: an admin of a deployment with sign-in may; everyone
    else sees their own (and sees no switch)."""
    if not (sign_in_configured() and is_admin_here(settings)):
        return False
    return st.toggle(
        "Everyone's requests", key="usage_everyone",
        help="As an admin you see every person's requests and spending. Their conversations stay "
             "theirs: listed without a title, and not opened.",
    )


@st.cache_resource(ttl=3600, max_entries=64, show_spinner=False)
def _settled_figures(_store: Store, url: str, where: UsageFilter, size: int, part: Settled) -> usage_page.Figures:
    return usage_page.figures(_store, usage_page.before(where, part.until), size)


def page_data(store: Store, where: UsageFilter, clicked: tuple[str, ...], size: int, part: Settled) -> usage_page.PageData:
    """The page's figures: the past kept until a request of it ends (a reload, another tab or another
    person looking at the same figures reads no more than this hour's requests)."""
    past = _settled_figures(store, store.url, where, size, part)
    whole = past + usage_page.figures(store, usage_page.since(where, part.until), size)
    return usage_page.page_data(store, whole, clicked)


def filters(options: Choices, owner: str | None) -> UsageFilter:
    """The sidebar's filters, as a UsageFilter."""
    first = date.fromtimestamp(options.first) if options.first else date.today()
    last = date.fromtimestamp(options.last) if options.last else date.today()
    chosen = st.date_input("Dates", value=(first, max(last, date.today())), key="usage_dates")
    start_day, end_day = (tuple(chosen) + (None,))[:2] if isinstance(chosen, (tuple, list)) else (chosen, chosen)
    start, end = usage.day_range(start_day, end_day or start_day)
    models = st.multiselect("Model", options.models, key="usage_models", placeholder="All models")
    sources = st.multiselect("Source", options.sources, key="usage_sources", placeholder="Chat, Compare, lab, judge")
    labels = st.multiselect("Preset or set-up", options.labels, key="usage_labels", placeholder="All")
    include_demo = st.toggle(
        "Include demo", key="usage_demo", help="Demo mode's figures are invented: left out of every total unless on."
    )
    return UsageFilter(start, end, tuple(models), tuple(sources), tuple(labels), owner, include_demo)


def clicked_models() -> tuple[str, ...]:
    """The models picked by a click in the cost or token chart (kept in their widget state)."""
    selections = []
    for key in PICKERS:
        state = st.session_state.get(key) or {}
        selection = state.get("selection") or {}
        selections.append(selection.get(PICK) or [])
    return usage.picked(selections)


def figures(totals: usage.Totals) -> None:
    # A row that wraps: five figures side by side on a desktop, two or three a line on a phone.
    with st.container(horizontal=True, gap="large"):
        st.metric("Cost", usd(totals.cost_usd), width="content",
                  help="What the API reported, plus estimates where it reported none.")
        st.metric("Requests", totals.requests, format="compact", width="content", help=f"{totals.requests:,}")
        st.metric("Errors", totals.errors, format="compact", width="content",
                  help=f"{totals.errors:,} failed; {totals.retries:,} automatic retries")
        st.metric("Tokens in", totals.prompt_tokens, format="compact", width="content", help=f"{totals.prompt_tokens:,}")
        st.metric("Tokens out", totals.completion_tokens, format="compact", width="content",
                  help=f"{totals.completion_tokens:,}")
    if totals.estimated_usd:
        reported = max(0.0, totals.cost_usd - totals.estimated_usd)
        st.caption(f"Of the cost, {usd(reported)} as the API reported it and ≈{usd(totals.estimated_usd)} estimated "
                   "from your prices (stopped or cut-off replies, or a server that reported no cost).")


def _draw(chart: alt.Chart, key: str | None = None) -> Any:
    if key is None:
        return st.altair_chart(chart, width="stretch")
    return st.altair_chart(chart, width="stretch", key=key, on_select="rerun", selection_mode=PICK)


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    """With each model's short name ("Gemma 3 27B") for legends and axes; tooltips keep the id."""
    return frame.assign(name=frame["model"].map(lambda m: model_info(m).label))


def _when(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = _named(pd.DataFrame(rows))
    # Epoch milliseconds: Vega-Lite shows them in the browser's own time zone.
    frame["when"] = frame["start"] * 1000
    return frame


#: A label only on a bucket's start (Vega may put ticks between them, which would repeat a label).
#: Not ``tickCount={"interval": …, "step": 1}``: Altair writes it as Vega-Lite 6 allows, and the
#: Vega that Streamlit's page runs fails on it and draws the chart empty.
_HOUR_LABEL = "minutes(datum.value) == 0 ? timeFormat(datum.value, '%b %d %H:00') : ''"
_DAY_LABEL = "hours(datum.value) == 0 && minutes(datum.value) == 0 ? timeFormat(datum.value, '%b %d') : ''"


def _time_axis(size: int) -> alt.X:
    """Buckets of an hour or a day, each labelled once at its start."""
    hourly = size == usage.HOUR
    return alt.X(
        "when:T", timeUnit="yearmonthdatehours" if hourly else "yearmonthdate", title=None,
        axis=alt.Axis(labelExpr=_HOUR_LABEL if hourly else _DAY_LABEL, labelOverlap=True),
    )


def cost_over_time(buckets: list[dict[str, Any]], size: int, picked: tuple[str, ...]) -> None:
    st.subheader("Cost over time", anchor=False)
    pick = alt.selection_point(name=PICK, fields=["model"], value=[{"model": m} for m in picked] or None)
    unit = "yearmonthdatehours" if size == usage.HOUR else "yearmonthdate"
    chart = (
        alt.Chart(_when(buckets), height=HEIGHT)
        .mark_bar()
        .encode(
            x=_time_axis(size),
            y=alt.Y("sum(cost_usd):Q", title="USD"),
            color=alt.Color("name:N", legend=alt.Legend(orient="bottom", title=None, columns=2)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)),
            tooltip=[alt.Tooltip("when:T", timeUnit=unit, title="from"), "model:N",
                     alt.Tooltip("sum(cost_usd):Q", title="USD", format=".6f"), alt.Tooltip("sum(requests):Q", title="requests")],
        )
        .add_params(pick)
    )
    _draw(chart, PICKERS[0])


def tokens_by_model(models: list[dict[str, Any]], picked: tuple[str, ...]) -> None:
    st.subheader("Tokens in and out by model", anchor=False)
    frame = _named(pd.DataFrame(models)).melt(
        id_vars=["model", "name"], value_vars=["prompt_tokens", "completion_tokens"], var_name="direction",
        value_name="tokens",
    )
    frame["direction"] = frame["direction"].map({"prompt_tokens": "in (prompt)", "completion_tokens": "out (completion)"})
    pick = alt.selection_point(name=PICK, fields=["model"], value=[{"model": m} for m in picked] or None)
    chart = (
        alt.Chart(frame, height=HEIGHT)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=None, axis=alt.Axis(labelLimit=120)),
            x=alt.X("tokens:Q", title="tokens", axis=alt.Axis(format="~s")),
            color=alt.Color("direction:N", legend=alt.Legend(orient="bottom", title=None)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)),
            tooltip=["model:N", "direction:N", alt.Tooltip("tokens:Q", format=",")],
        )
        .add_params(pick)
    )
    _draw(chart, PICKERS[1])


def requests_over_time(buckets: list[dict[str, Any]], size: int) -> None:
    st.subheader("Requests, errors and retries", anchor=False)
    if not buckets:
        st.caption("No requests in these filters.")
        return
    frame = _when(buckets).groupby("when", as_index=False)[["requests", "errors", "stopped", "retries"]].sum()
    frame["answered"] = frame["requests"] - frame["errors"] - frame["stopped"]
    ended = frame.melt(id_vars=["when"], value_vars=["answered", "stopped", "errors"], var_name="ended", value_name="n")
    unit = "yearmonthdatehours" if size == usage.HOUR else "yearmonthdate"
    x = _time_axis(size)
    bars = (
        alt.Chart(ended)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("n:Q", title="requests", axis=alt.Axis(tickMinStep=1, format="~s")),
            color=alt.Color("ended:N", title=None, legend=alt.Legend(orient="bottom", columns=2),
                            scale=alt.Scale(domain=["answered", "stopped", "errors", "retries"],
                                            range=["#83c9ff", "#ffabab", "#ff2b2b", "#29b09d"])),
            order=alt.Order("ended:N", sort="descending"),
            tooltip=[alt.Tooltip("when:T", timeUnit=unit, title="from"), "ended:N", "n:Q"],
        )
    )
    # Retries on their own axis: a handful beside thousands of requests would lie flat on zero.
    retries = (
        alt.Chart(frame.assign(kind="retries"))
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("retries:Q", title="retries", axis=alt.Axis(orient="right", tickMinStep=1, format="d")),
            color=alt.Color("kind:N"),
            tooltip=[alt.Tooltip("when:T", timeUnit=unit, title="from"), "retries:Q"],
        )
    )
    _draw(alt.layer(bars, retries, height=HEIGHT).resolve_scale(y="independent"))


def speed(rows: list[dict[str, Any]]) -> None:
    st.subheader("Speed per model", anchor=False)
    if not rows:
        st.caption("No reply with a first token in these requests.")
        return
    frame = _named(pd.DataFrame(rows)).melt(
        id_vars=["metric", "model", "name", "n"], value_vars=[f"p{p}" for p in usage.PERCENTILES], var_name="percentile"
    )
    order = [f"p{p}" for p in usage.PERCENTILES]
    left, right = st.columns(2)
    for column, metric, title in ((left, "ttft", "Time to first token (s)"), (right, "tokens_per_second", "Tokens/s")):
        part = frame[frame["metric"] == metric]
        with column:
            if part.empty:
                st.caption(f"{title}: not measured in these requests.")
                continue
            chart = (
                alt.Chart(part, height=HEIGHT, title=title)
                .mark_bar()
                .encode(
                    y=alt.Y("name:N", title=None, axis=alt.Axis(labelLimit=120)),
                    yOffset=alt.YOffset("percentile:N", sort=order),
                    x=alt.X("value:Q", title=None),
                    color=alt.Color("percentile:N", sort=order, legend=alt.Legend(orient="bottom", title=None),
                                    scale=alt.Scale(scheme="blues", reverse=False)),
                    tooltip=["model:N", "percentile:N", alt.Tooltip("value:Q", format=".3f"),
                             alt.Tooltip("n:Q", title="replies")],
                )
            )
            _draw(chart)


def by_person(rows: list[dict[str, Any]]) -> None:
    """Per person (an admin's page showing everyone's requests); nothing otherwise."""
    if not rows:
        return
    st.subheader("By person", anchor=False)
    st.dataframe(
        pd.DataFrame(rows)[["person", "requests", "cost_usd"]],
        hide_index=True,
        width="stretch",
        column_config={
            "person": st.column_config.TextColumn("Person", width="medium"),
            "requests": st.column_config.NumberColumn("Requests"),
            "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="%.6f"),
        },
    )


def costliest(rows: list[dict[str, Any]]) -> None:
    st.subheader("Most expensive conversations", anchor=False)
    if not rows:
        st.caption("No request in these filters belongs to a saved conversation or comparison.")
        return
    frame = pd.DataFrame(rows)[["title", "cost_usd", "requests", "open", "kind"]]
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        # only Open can be missing (a deleted one, another person's: the title says which); a grey "None" reads as a fault
        placeholder="",
        column_config={
            "title": st.column_config.TextColumn("Conversation", width="medium"),
            "kind": st.column_config.TextColumn("Kind"),
            "requests": st.column_config.NumberColumn("Requests"),
            "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="%.6f"),
            "open": st.column_config.LinkColumn("Open", display_text="Open"),
        },
    )


def csv_download(store: Store, where: UsageFilter, count: int) -> None:
    stamp = datetime.now().strftime("%Y-%m-%d")
    st.download_button(
        f"Download CSV ({count:,} requests)",
        # Built when clicked, not at every rerun: 100,000 rows take a moment.
        data=lambda: usage.to_csv(store, where),
        file_name=f"usage-{stamp}.csv",
        mime="text/csv",
        icon=":material/download:",
        disabled=count == 0,
        on_click="ignore",
    )
