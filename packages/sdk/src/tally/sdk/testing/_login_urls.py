"""The type of the pytest plugin's `login_url` fixture (apart from the plugin: no pytest here)."""

from __future__ import annotations

from collections.abc import Callable

# login_url(database_url, role): the URL with which `role` logs in to that database.
LoginUrl = Callable[[str, str], str]
