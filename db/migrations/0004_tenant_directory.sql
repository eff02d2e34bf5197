-- Platform administrators list every tenant, but row-level security shows the services' role
-- only the tenant of its transaction. This function (running with its owner's rights) answers
-- exactly that question — the tenants and their settings, nothing below them.
CREATE FUNCTION tally_tenants()
RETURNS TABLE (tenant text, name text, rate_per_second integer, retention_days integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.tenant, t.name, t.rate_per_second, t.retention_days FROM tenants t ORDER BY t.tenant
$$;
REVOKE ALL ON FUNCTION tally_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_tenants() TO tally_app;
