-- Who may see a tenant's figures: its users (roles admin and viewer, argon2id password hashes),
-- their browser sessions, and the tenant's API keys for integrations. See tally.accounts.
--
-- Every table carries its tenant and the tenant policy, so the api (tally_app) reads and writes
-- them only in a transaction scoped to that tenant. Two questions come before the tenant is
-- known — whose session is this cookie, whose key is this key id — and each is answered by one
-- SECURITY DEFINER function keyed by what the caller sent, as tally_authenticate answers the
-- gateway. Login limits count failures across tenants (an address trying many tenants), so
-- their table has no tenant and no grants: only the three functions below touch it.

CREATE TABLE users (
    tenant text NOT NULL REFERENCES tenants ON DELETE CASCADE,
    -- Stored lower-cased: the address is the login name, and people do not agree on case.
    email text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'
                               AND length(email) <= 254),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('admin', 'viewer')),
    -- argon2id in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    PRIMARY KEY (tenant, email)
);
SELECT tally_tenant_policy('users');

CREATE TABLE user_sessions (
    -- SHA-256 of the cookie's random id: a leaked table opens no session.
    session_sha256 bytea PRIMARY KEY CHECK (length(session_sha256) = 32),
    tenant text NOT NULL,
    email text NOT NULL,
    -- Sent back by the pages in X-CSRF-Token; no credential on its own (the cookie is).
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    FOREIGN KEY (tenant, email) REFERENCES users ON DELETE CASCADE
);
CREATE INDEX user_sessions_user ON user_sessions (tenant, email);
SELECT tally_tenant_policy('user_sessions');

CREATE TABLE api_keys (
    -- The public half of tk_<key_id>_<secret>: finds the row; the secret is checked by hash.
    key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    tenant text NOT NULL REFERENCES tenants ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('admin', 'viewer')),
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant);
SELECT tally_tenant_policy('api_keys');

-- Failed logins per subject ('user:<sha256 of tenant/email>' or 'address:<ip>') in the current
-- window; a subject at its limit is locked until `locked_until`. One row per subject, changed
-- by single upserts, so concurrent workers count every failure.
CREATE TABLE login_failures (
    subject text PRIMARY KEY,
    failures integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
REVOKE ALL ON login_failures FROM PUBLIC;

-- The live session whose cookie hashes to `hash`, of an enabled user; NULL row when none. A
-- session is live until it ends (logout), expires, or stays unused for `idle_seconds`. Its
-- last use is written at most once a minute, so reading pages costs no write per request.
CREATE FUNCTION tally_session(hash bytea, idle_seconds integer)
RETURNS TABLE (tenant text, email text, role text, csrf_token text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    seen timestamptz;
BEGIN
    SELECT s.tenant, s.email, u.role, s.csrf_token, s.last_seen_at
    INTO tenant, email, role, csrf_token, seen
    FROM user_sessions s JOIN users u USING (tenant, email)
    WHERE s.session_sha256 = hash AND s.ended_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - make_interval(secs => idle_seconds)
      AND u.disabled_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF seen < now() - interval '1 minute' THEN
        UPDATE user_sessions SET last_seen_at = now() WHERE session_sha256 = hash;
    END IF;
    RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION tally_session(bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_session(bytea, integer) TO tally_app;

-- The unrevoked key with this id: whose it is and its secret's hash (checked by the caller in
-- constant time). Marks it used, at most once a minute.
CREATE FUNCTION tally_api_key(id text)
RETURNS TABLE (tenant text, name text, role text, secret_sha256 bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    used timestamptz;
BEGIN
    SELECT k.tenant, k.name, k.role, k.secret_sha256, k.last_used_at
    INTO tenant, name, role, secret_sha256, used
    FROM api_keys k WHERE k.key_id = id AND k.revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF used IS NULL OR used < now() - interval '1 minute' THEN
        UPDATE api_keys SET last_used_at = now() WHERE key_id = id;
    END IF;
    RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION tally_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_api_key(text) TO tally_app;

-- Seconds until the first of `subjects` may try to log in again; 0 when none is locked.
CREATE FUNCTION tally_login_wait(subjects text[])
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(ceil(extract(epoch FROM max(locked_until) - now()))::integer, 0)
    FROM login_failures WHERE subject = ANY(subjects) AND locked_until > now()
$$;
REVOKE ALL ON FUNCTION tally_login_wait(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_login_wait(text[]) TO tally_app;

-- Count one failed login against `subject`: `limit_count` failures within `window_seconds`
-- lock it for `lock_seconds`. Returns the seconds it is now locked for (0: not locked).
CREATE FUNCTION tally_login_failed(
    subject text, limit_count integer, window_seconds integer, lock_seconds integer
)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO login_failures AS f (subject, failures, window_start)
    VALUES (subject, 1, now())
    ON CONFLICT (subject) DO UPDATE SET
        failures = CASE WHEN f.window_start < now() - make_interval(secs => window_seconds)
                        THEN 1 ELSE f.failures + 1 END,
        window_start = CASE WHEN f.window_start < now() - make_interval(secs => window_seconds)
                            THEN now() ELSE f.window_start END;
    UPDATE login_failures SET locked_until = now() + make_interval(secs => lock_seconds),
                              failures = 0, window_start = now()
    WHERE login_failures.subject = tally_login_failed.subject AND failures >= limit_count;
    SELECT coalesce(ceil(extract(epoch FROM locked_until - now()))::integer, 0)
    FROM login_failures
    WHERE login_failures.subject = tally_login_failed.subject AND locked_until > now();
$$;
REVOKE ALL ON FUNCTION tally_login_failed(text, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_login_failed(text, integer, integer, integer) TO tally_app;

-- A successful login forgets the user's failures (not the address's: a guesser who also knows
-- one password keeps its count).
CREATE FUNCTION tally_login_succeeded(subject text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM login_failures
    WHERE login_failures.subject = tally_login_succeeded.subject
      AND (locked_until IS NULL OR locked_until <= now());
$$;
REVOKE ALL ON FUNCTION tally_login_succeeded(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_login_succeeded(text) TO tally_app;

-- The api manages users and keys of the tenant in its transaction; nothing is deleted (a user
-- is disabled, a key revoked), except sessions, which logout and upkeep remove.
REVOKE ALL ON users, user_sessions, api_keys FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON users, api_keys TO tally_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_sessions TO tally_app;
