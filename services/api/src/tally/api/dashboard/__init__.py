"""The dashboard: server-drawn HTML pages of the figures, with inline SVG charts, a stylesheet
and one small script for live updates (static/). No build step, no JavaScript library."""
