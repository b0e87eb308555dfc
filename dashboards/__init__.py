"""Streamlit dashboard: live offload, drill-down, post-match view and data quality."""
