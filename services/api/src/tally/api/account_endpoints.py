"""The declarations of the session, user and key endpoints (handlers: `sessions`, `users`).

    POST   /v1/session                 log in (JSON or form fields): cookie + CSRF token
    GET    /v1/session                 who am I, and the CSRF token
    DELETE /v1/session                 log out
    GET    /v1/users                   the tenant's users              (admin)
    POST   /v1/users                   add one                         (admin)
    PATCH  /v1/users/{email}           name, role, disabled            (admin)
    PUT    /v1/users/{email}/password  set it; the user's sessions end (admin)
    GET    /v1/keys                    the tenant's API keys           (admin)
    POST   /v1/keys                    make one, shown once            (admin)
    DELETE /v1/keys/{key_id}           revoke it                       (admin)
    ... and the same under /v1/admin/tenants/{tenant}/users and /keys for platform administrators.

The tenant endpoints take a session (with X-CSRF-Token on changes) or an API key of the role
admin; a viewer gets 403.
"""

from __future__ import annotations

from tally.accounts import ApiKey, NewKey, User
from tally.api import sessions, users
from tally.api.admin import ApiDeps
from tally.api.callers import SESSION, TENANT
from tally.api.paths import TenantPath
from tally.api.sessions import Login, Whoami
from tally.api.users import (
    KeyPath,
    KeyRequest,
    Keys,
    NewPassword,
    NewUser,
    TenantKeyPath,
    TenantUserPath,
    UserChange,
    UserPath,
    Users,
)
from tally.sdk import FORM, PUBLIC, AdminToken, AnyEndpoint, Body, Endpoint, File

_ADMIN_ROLE = ("admin",)
JSON = "application/json"
_NO_STORE = {"Cache-Control": "no-store"}
_TENANT_ERRORS = {
    401: "No session or API key, or an expired, ended or revoked one.",
    403: "The caller's role is viewer (read only), or a change without X-CSRF-Token.",
}


def _max_body(deps: ApiDeps) -> int:
    return deps.max_body_bytes


def endpoints(admin: AdminToken[ApiDeps]) -> list[AnyEndpoint[ApiDeps]]:
    """Every endpoint of this module; `admin` is the service's administrators' scheme."""
    base = "/v1/admin/tenants/{tenant}"
    missing_tenant = {404: "The tenant in the path does not exist."}
    return [
        Endpoint(
            "POST", "/v1/session", sessions.login, auth=PUBLIC,
            body=Body(Login, media_types=(JSON, FORM)), response=File, produces=(JSON,),
            headers=_NO_STORE, body_limit=_max_body,
            summary="Log in: sets the session cookie; answers the user and the CSRF token",
            description="Answers a SessionView. A wrong tenant, email or password, or a "
            "disabled user, are one and the same 401.",
            errors={
                401: "Wrong tenant, email or password, or a disabled user.",
                429: "Too many failed logins for this user or from this address; see "
                "Retry-After.",
            },
        ),
        Endpoint(
            "GET", "/v1/session", sessions.whoami, auth=SESSION, response=Whoami,
            headers=_NO_STORE, summary="The session's user and its CSRF token",
        ),
        Endpoint(
            "DELETE", "/v1/session", sessions.logout, auth=SESSION, response=File, status=204,
            produces=(JSON,), summary="Log out: the session ends and its cookie is cleared",
        ),
        Endpoint(
            "GET", "/v1/users", users.list_users, auth=TENANT, roles=_ADMIN_ROLE,
            response=Users, summary="The tenant's users", errors=_TENANT_ERRORS,
        ),
        Endpoint(
            "POST", "/v1/users", users.add_user, auth=TENANT, roles=_ADMIN_ROLE,
            body=NewUser, response=User, status=201, summary="Add a user to the tenant",
            errors={**_TENANT_ERRORS, 409: "The tenant has a user with this email."},
            body_limit=_max_body,
        ),
        Endpoint(
            # `path`: an email may hold a slash (sent as %2F), as an article number may.
            "PATCH", "/v1/users/{email:path}", users.change_user, auth=TENANT, roles=_ADMIN_ROLE,
            params=UserPath, body=UserChange, response=User,
            summary="Change a user's name, role or whether it is disabled",
            errors={**_TENANT_ERRORS, 404: "The tenant has no such user."},
            body_limit=_max_body,
        ),
        Endpoint(
            "PUT", "/v1/users/{email:path}/password", users.set_password, auth=TENANT,
            roles=_ADMIN_ROLE, params=UserPath, body=NewPassword, response=User,
            summary="Set a user's password; its sessions end",
            errors={**_TENANT_ERRORS, 404: "The tenant has no such user."},
            body_limit=_max_body,
        ),
        Endpoint(
            "GET", "/v1/keys", users.list_keys, auth=TENANT, roles=_ADMIN_ROLE,
            response=Keys, summary="The tenant's API keys (never their secrets)",
            errors=_TENANT_ERRORS,
        ),
        Endpoint(
            "POST", "/v1/keys", users.create_key, auth=TENANT, roles=_ADMIN_ROLE,
            body=KeyRequest, response=NewKey, status=201, headers=_NO_STORE,
            summary="Make an API key; the key is in this answer only", errors=_TENANT_ERRORS,
            body_limit=_max_body,
        ),
        Endpoint(
            "DELETE", "/v1/keys/{key_id}", users.revoke_key, auth=TENANT, roles=_ADMIN_ROLE,
            params=KeyPath, response=ApiKey, summary="Revoke an API key, at once",
            errors={**_TENANT_ERRORS, 404: "The tenant has no such key."},
        ),
        Endpoint(
            "GET", f"{base}/users", users.admin_list_users, auth=admin, params=TenantPath,
            response=Users, summary="A tenant's users", errors=missing_tenant,
        ),
        Endpoint(
            "POST", f"{base}/users", users.admin_add_user, auth=admin, params=TenantPath,
            body=NewUser, response=User, status=201, summary="Add a user to a tenant",
            errors={**missing_tenant, 409: "The tenant has a user with this email."},
            body_limit=_max_body,
        ),
        Endpoint(
            "PATCH", f"{base}/users/{{email:path}}", users.admin_change_user, auth=admin,
            params=TenantUserPath, body=UserChange, response=User,
            summary="Change a user's name, role or whether it is disabled",
            errors={404: "No such tenant, or the tenant has no such user."},
            body_limit=_max_body,
        ),
        Endpoint(
            "PUT", f"{base}/users/{{email:path}}/password", users.admin_set_password, auth=admin,
            params=TenantUserPath, body=NewPassword, response=User,
            summary="Set a user's password; its sessions end",
            errors={404: "No such tenant, or the tenant has no such user."},
            body_limit=_max_body,
        ),
        Endpoint(
            "GET", f"{base}/keys", users.admin_list_keys, auth=admin, params=TenantPath,
            response=Keys, summary="A tenant's API keys (never their secrets)",
            errors=missing_tenant,
        ),
        Endpoint(
            "POST", f"{base}/keys", users.admin_create_key, auth=admin, params=TenantPath,
            body=KeyRequest, response=NewKey, status=201, headers=_NO_STORE,
            summary="Make an API key of a tenant; the key is in this answer only",
            errors=missing_tenant, body_limit=_max_body,
        ),
        Endpoint(
            "DELETE", f"{base}/keys/{{key_id}}", users.admin_revoke_key, auth=admin,
            params=TenantKeyPath, response=ApiKey, summary="Revoke an API key of a tenant",
            errors={404: "No such tenant, or the tenant has no such key."},
        ),
    ]  # fmt: skip
