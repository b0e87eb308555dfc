"""Entry point of `cdn-offload dashboard`: page set-up and navigation only."""

import streamlit as st

st.set_page_config(page_title="cdn-offload", page_icon=":material/speed:", layout="wide")
page = st.navigation(
    [
        st.Page("app_pages/live.py", title="Live", icon=":material/monitoring:", default=True),
        st.Page("app_pages/explore.py", title="Explore", icon=":material/travel_explore:"),
        st.Page("app_pages/post_match.py", title="Post-match", icon=":material/summarize:"),
        st.Page("app_pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
    ],
    position="top",
)
page.run()
