"""The login page: tenant, email and password, sent by login.js to POST /v1/session."""

from __future__ import annotations

from tally.api.dashboard.layout import ASSETS, page


def login_page() -> str:
    form = (
        '<form id="login" class="login" method="post" action="/v1/session" novalidate>'
        '<label for="tenant">Tenant</label>'
        '<input id="tenant" name="tenant" autocomplete="organization" required autofocus>'
        '<label for="email">Email</label>'
        '<input id="email" name="email" type="email" autocomplete="username" required>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<p id="login-error" class="error" role="alert"></p>'
        '<button type="submit">Log in</button></form>'
        f'<script src="{ASSETS}/login.js" defer></script>'
    )
    return page("Log in", form)
