-- Every change to a machine token is announced on channel `tally_machine_tokens`, with the
-- token's SHA-256 in hex as the payload, so that every gateway drops its cached answer for
-- that token at once instead of trusting it until the cache entry expires.
--
-- Revocation (UPDATE of revoked_at), a new token (INSERT: an "unknown token" answer cached
-- before it was issued is dropped too), deletion, and deletion by cascade when the machine, its
-- line, site or tenant is removed all fire the row trigger; TRUNCATE announces '*' (drop every
-- entry). NOTIFY is delivered at commit and only to sessions listening then: a gateway that
-- was not listening re-checks its whole cache when it listens again (tally.sdk's listener).
--
-- The payload is a hash, not a credential (a token is 256 random bits; the gateway hashes what
-- it is sent), and pg_notify needs no privilege: any service role (tally_app, or a gateway's
-- own login role) may revoke and any may listen.

CREATE FUNCTION tally_announce_token_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('tally_machine_tokens', '*');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('tally_machine_tokens', encode(OLD.token_sha256, 'hex'));
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.token_sha256 <> OLD.token_sha256) THEN
        PERFORM pg_notify('tally_machine_tokens', encode(NEW.token_sha256, 'hex'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER machine_tokens_announce
AFTER INSERT OR UPDATE OR DELETE ON machine_tokens
FOR EACH ROW EXECUTE FUNCTION tally_announce_token_change();

CREATE TRIGGER machine_tokens_announce_truncate
AFTER TRUNCATE ON machine_tokens
FOR EACH STATEMENT EXECUTE FUNCTION tally_announce_token_change();

-- A tenant's ingest budget travels with its tokens' cached answers: a changed budget is
-- announced per token of the tenant, so the gateways apply it at once too. (The comparison is
-- in the body, not in the trigger's WHEN or column list, so that the trigger does not pin the
-- column's type against later migrations.)
CREATE FUNCTION tally_announce_tenant_rate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.rate_per_second IS DISTINCT FROM OLD.rate_per_second THEN
        PERFORM pg_notify('tally_machine_tokens', encode(t.token_sha256, 'hex'))
        FROM machine_tokens t
        WHERE t.tenant = NEW.tenant AND t.revoked_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tally_announce_tenant_rate() FROM PUBLIC;

CREATE TRIGGER tenants_announce_rate
AFTER UPDATE ON tenants
FOR EACH ROW EXECUTE FUNCTION tally_announce_tenant_rate();
