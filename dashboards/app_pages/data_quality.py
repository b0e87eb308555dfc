"""Data quality: rows ingested and quarantined per source and reason, validation, ingest lag."""

from __future__ import annotations

from datetime import UTC, timedelta

import streamlit as st

from dashboards import results, ui
from dashboards.data_reports import ingest_lag, quality_view

SOURCE_COLUMNS = [
    "source",
    "cdn",
    "source_format",
    "rows",
    "viewer_rows",
    "quarantined",
    "first_event_time",
    "newest_event_time",
]
CHECK_COLUMNS = [
    "name",
    "success",
    "unexpected_count",
    "unexpected_percent",
    "element_count",
    "description",
]

st.title("Data quality")
context = ui.context()
if context is None:
    st.stop()
settings, status = context
first, last = results.extent(status)
span = st.slider(
    "Event time (UTC)",
    min_value=first,
    max_value=max(last, first + timedelta(minutes=1)),
    value=(first, last),
    step=timedelta(minutes=1),
    format="MM-DD HH:mm",
    key="dq_span",
)
window = results.window(span[0].replace(tzinfo=UTC), span[1].replace(tzinfo=UTC))
view = quality_view(settings.data, status.version, window)

st.subheader("Rows ingested and quarantined per source")
st.caption(
    "Quarantined lines carry no trustworthy event time: they are counted by ingest time, "
    "from the start of the range on."
)
cols = st.columns(3)
cols[0].metric("Rows ingested", f"{view.rows:,}", border=True)
cols[1].metric("Lines quarantined", f"{view.quarantined:,}", border=True)
cols[2].metric("Sources", f"{view.by_source.height:,}", border=True)
ui.table(view.by_source, SOURCE_COLUMNS, key="dq_sources")

st.subheader("Quarantine per source and reason")
if view.quarantine.is_empty():
    st.success("Nothing was quarantined.", icon=":material/check:")
else:
    ui.table(view.quarantine, key="dq_quarantine")

st.subheader("Validation")
result = view.validation
if result is None:
    st.info(
        "No validation has run on this data yet. Run the expectation suite:", icon=":material/info:"
    )
    st.code(f"cdn-offload validate --data {settings.data}", language="bash")
else:
    if result.get("success"):
        st.success("The latest validation passed every check.", icon=":material/verified:")
    else:
        failed = len(result.get("failed_checks") or [])
        st.error(f"The latest validation failed {failed} check(s).", icon=":material/error:")
    st.caption("Run, window and counts of the latest validation:")
    ui.table(
        [
            {
                "run_id": result.get("run_id"),
                "validated_at": result.get("validated_at"),
                "window_start": (result.get("window") or {}).get("start"),
                "window_end": (result.get("window") or {}).get("end"),
                "rows": result.get("rows"),
                "partitions": result.get("partitions"),
                "gx_version": result.get("gx_version"),
            }
        ],
        key="dq_run",
    )
    checks = [c for c in result.get("checks") or [] if isinstance(c, dict)]
    ui.table(checks, CHECK_COLUMNS, key="dq_checks")
    if st.toggle("Show unexpected values and the rows they came from", key="dq_samples"):
        st.json(
            {
                c.get("name"): {"values": c.get("sample_unexpected"), "rows": c.get("sample_rows")}
                for c in checks
                if not c.get("success")
            },
            expanded=True,
        )

st.subheader("Ingest lag")
lag = ingest_lag(settings.data)
if lag.is_empty():
    st.info("No recent partitions to measure lag on.", icon=":material/info:")
else:
    st.caption("Newest event time per CDN and how far it lies behind the clock.")
    ui.table(lag, key="dq_lag")
