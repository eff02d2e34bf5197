"""Platform administrators: ``Authorization: Bearer <TALLY_API_ADMIN_TOKEN>``.

One shared token for the operators of the platform, compared in constant time. Per-tenant
users (who may see only their own tenant) come later, with their own scheme.
"""

from __future__ import annotations

import hmac

from tally.sdk import bearer_token, unauthorized


def check_admin(admin_token: bytes, authorization: str | None) -> None:
    """Return when the header carries the admin token; raise `Rejected` (401) otherwise."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send the administrators' token as 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(token.encode(), admin_token):
        raise unauthorized("wrong administrators' token; send the API's TALLY_API_ADMIN_TOKEN")
