"""Recomputing the ℮ lots (table `weighing_lots`, migration 0013) that a stored range touched,
set-based in SQL from the raw weighings — the hook the rollup calls inside its transaction, and
what a rebuild calls over a whole history.

A lot is one machine × article × local clock hour of the machine's site (by the line it stood
on at the pack's time), told apart by its UTC offset. Recomputing deletes every lot of the
machine that the range [start, end] reaches (both ends included: the rollup's stored ranges
are closed, and a range of one instant is that instant's lot) and inserts them again from all
of their weighings, so the
rows depend only on the raw rows and the registry: any order of stored ranges, any repetition,
and a rebuild give the same rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from tally.sdk import Tx, command, query

# A lot is at most one hour long: every weighing of a lot reaching into [start, end] lies in
# [start − 1 h, end + 1 h), and so does every stored lot reaching into it.
_HOUR = timedelta(hours=1)
# Histogram bins: half a gram for fixed-weight articles (T1 and T2 lie 2–15 g below Qn), two
# grams for catch-weight ones, whose packs spread over hundreds of grams.
FIXED_BIN_DG = 5
CATCH_WEIGHT_BIN_DG = 20


@command(
    """
    DELETE FROM weighing_lots
    WHERE tenant = $1 AND machine = $2
      AND hour_start >= $3::timestamptz - interval '1 hour' AND hour_start <= $4
      AND hour_end > $3
    """
)
def delete_lots(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


# Each weighing is placed in the local hour of its own timestamp, in the zone of the site of
# the line its machine stood on then (the machine's current line before its first membership),
# and counted with the article version valid at that timestamp. Net weights are stored as
# `real`; × 10 and rounded they are the exact decigrams the machine sent (a float4 keeps six
# significant digits, and a scale's 0.1 g up to 10 kg needs six).
@command(
    f"""
    WITH member AS (
        SELECT ml.valid_from AS since,
               coalesce(lead(ml.valid_from) OVER (ORDER BY ml.valid_from), 'infinity') AS until,
               s.timezone
        FROM machine_lines ml
        JOIN lines l ON l.tenant = ml.tenant AND l.line = ml.line
        JOIN sites s ON s.tenant = l.tenant AND s.site = l.site
        WHERE ml.tenant = $1 AND ml.machine = $2
    ),
    zones AS (
        SELECT '-infinity'::timestamptz AS since, coalesce(min(since), 'infinity') AS until,
               (SELECT s.timezone FROM machines m
                JOIN lines l ON l.tenant = m.tenant AND l.line = m.line
                JOIN sites s ON s.tenant = l.tenant AND s.site = l.site
                WHERE m.tenant = $1 AND m.machine = $2) AS timezone
        FROM member
        UNION ALL
        SELECT since, until, timezone FROM member
    ),
    -- The local hours holding the range's first and last instants bound what is read: a
    -- stored batch of a few seconds reads one hour of weighings, not three.
    bounds AS (
        SELECT min(h.start) AS low, max(h.start) + interval '1 hour' AS high
        FROM (VALUES ($3::timestamptz), ($4::timestamptz)) AS e(at)
        JOIN zones z ON e.at >= z.since AND e.at < z.until
        CROSS JOIN LATERAL (
            SELECT (date_trunc('hour', e.at AT TIME ZONE z.timezone)
                    - ((e.at AT TIME ZONE z.timezone) - (e.at AT TIME ZONE 'UTC')))
                   AT TIME ZONE 'UTC' AS start
        ) AS h
    ),
    terms AS (
        SELECT article, valid_from AS since,
               coalesce(lead(valid_from) OVER (PARTITION BY article ORDER BY valid_from),
                        'infinity') AS until,
               (nominal_g * 10)::integer AS qn, (t1_g * 10)::integer AS t1,
               (t2_g * 10)::integer AS t2, (price_per_kg * 100)::bigint AS cents
        FROM article_versions WHERE tenant = $1
    ),
    placed AS (
        SELECT w.ts, w.article, w.accepted,
               coalesce(w.reject_reason, 'unspecified') AS reason,
               round(w.net_g::float8 * 10)::integer AS net,
               t.qn, t.t1, t.t2, coalesce(t.cents, 0) AS cents, t.since IS NOT NULL AS known,
               date_trunc('hour', w.ts AT TIME ZONE z.timezone) AS local_hour,
               round(extract(epoch FROM (w.ts AT TIME ZONE z.timezone)
                                        - (w.ts AT TIME ZONE 'UTC')) / 60)::integer AS offset_min
        FROM weighings w
        JOIN zones z ON w.ts >= z.since AND w.ts < z.until
        CROSS JOIN bounds b
        LEFT JOIN terms t ON t.article = w.article AND w.ts >= t.since AND w.ts < t.until
        WHERE tally_machine_key(w.tenant, w.machine) = tally_machine_key($1, $2)
          AND w.tenant = $1 AND w.machine = $2
          AND w.ts >= $3::timestamptz - interval '1 hour'
          AND w.ts < $4::timestamptz + interval '1 hour'
          AND w.ts >= b.low AND w.ts < b.high
          AND z.timezone IS NOT NULL
    ),
    hours AS (
        SELECT p.*,
               (p.local_hour - make_interval(mins => p.offset_min)) AT TIME ZONE 'UTC'
                   AS hour_start
        FROM placed p
    ),
    touched AS (
        SELECT * FROM hours WHERE hour_start <= $4 AND hour_start + interval '1 hour' > $3
    ),
    lots AS (
        SELECT article, hour_start, local_hour, offset_min,
               bool_and(known AND qn IS NULL) AS catch_weight,
               (array_agg(qn ORDER BY ts DESC))[1] AS nominal_dg,
               (array_agg(t1 ORDER BY ts DESC))[1] AS t1_dg,
               (array_agg(t2 ORDER BY ts DESC))[1] AS t2_dg,
               count(*) AS packs,
               count(*) FILTER (WHERE accepted) AS accepted,
               count(*) FILTER (WHERE NOT accepted) AS rejected,
               coalesce(sum(net) FILTER (WHERE accepted), 0) AS net_dg,
               coalesce(sum(net::bigint * net) FILTER (WHERE accepted), 0) AS net_sq_dg,
               min(net) FILTER (WHERE accepted) AS min_dg,
               max(net) FILTER (WHERE accepted) AS max_dg,
               count(*) FILTER (WHERE accepted AND qn IS NOT NULL) AS fixed_accepted,
               count(*) FILTER (WHERE accepted AND net < t1) AS below_t1,
               count(*) FILTER (WHERE accepted AND net < t2) AS below_t2,
               coalesce(sum(qn) FILTER (WHERE accepted), 0) AS declared_dg,
               coalesce(sum(net - qn) FILTER (WHERE accepted), 0) AS giveaway_dg,
               coalesce(sum((net - qn)::bigint * cents) FILTER (WHERE accepted), 0)
                   AS giveaway_micros,
               CASE WHEN bool_or(qn IS NOT NULL) THEN {FIXED_BIN_DG}
                    ELSE {CATCH_WEIGHT_BIN_DG} END AS bin_dg
        FROM touched
        GROUP BY article, hour_start, local_hour, offset_min
    ),
    reasons AS (
        SELECT article, hour_start, jsonb_object_agg(reason, n) AS rejects_by_reason
        FROM (SELECT article, hour_start, reason, count(*) AS n
              FROM touched WHERE NOT accepted GROUP BY article, hour_start, reason) r
        GROUP BY article, hour_start
    ),
    bins AS (
        SELECT t.article, t.hour_start,
               t.net - mod(mod(t.net, l.bin_dg) + l.bin_dg, l.bin_dg) AS bin,
               count(*) FILTER (WHERE t.accepted) AS accepted,
               count(*) FILTER (WHERE NOT t.accepted) AS rejected
        FROM touched t JOIN lots l USING (article, hour_start)
        GROUP BY 1, 2, 3
    ),
    histograms AS (
        SELECT article, hour_start,
               array_agg(bin ORDER BY bin) AS bins,
               array_agg(accepted ORDER BY bin) AS accepted,
               array_agg(rejected ORDER BY bin) AS rejected
        FROM bins GROUP BY article, hour_start
    )
    INSERT INTO weighing_lots (
        tenant, machine, article, hour_start, hour_end, local_hour, utc_offset_minutes,
        catch_weight, nominal_dg, t1_dg, t2_dg, packs, accepted, rejected, rejects_by_reason,
        net_dg, net_sq_dg, min_dg, max_dg, fixed_accepted, below_t1, below_t2, declared_dg,
        giveaway_dg, giveaway_micros, hist_bin_dg, hist_bins, hist_accepted, hist_rejected
    )
    SELECT $1, $2, l.article, l.hour_start, l.hour_start + interval '1 hour', l.local_hour,
           l.offset_min, l.catch_weight, l.nominal_dg, l.t1_dg, l.t2_dg, l.packs, l.accepted,
           l.rejected, coalesce(r.rejects_by_reason, '{{}}'::jsonb), l.net_dg, l.net_sq_dg,
           l.min_dg, l.max_dg, l.fixed_accepted, l.below_t1, l.below_t2, l.declared_dg,
           l.giveaway_dg, l.giveaway_micros, l.bin_dg, h.bins, h.accepted, h.rejected
    FROM lots l
    JOIN histograms h USING (article, hour_start)
    LEFT JOIN reasons r USING (article, hour_start)
    """
)
def insert_lots(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class LockedRow(msgspec.Struct, frozen=True):
    locked: bool


# Until the transaction ends: a second recompute of the machine waits, then sees these rows.
@query(
    LockedRow,
    "SELECT true AS locked FROM (SELECT pg_advisory_xact_lock(tally_machine_key($1, $2))) AS l",
)
def lock_machine(tenant: str, machine: str) -> None: ...


class MissingRow(msgspec.Struct, frozen=True):
    missing: int


@query(
    MissingRow,
    """
    SELECT count(*) FILTER (WHERE to_regclass('weighing_lots_' || to_char(d, 'YYYYMMDD')) IS NULL)
        AS missing
    FROM generate_series($1::date, $2::date, interval '1 day') AS d
    """,
)
def missing_partitions(first: date, last: date) -> None: ...


class CreatedRow(msgspec.Struct, frozen=True):
    created: int


@query(CreatedRow, "SELECT tally_ensure_partitions($1, $2) AS created")
def ensure_partitions(first: date, last: date) -> None: ...


async def recompute_weighings(
    tx: Tx, tenant: str, machine: str, start: datetime, end: datetime
) -> None:
    """Recompute every ℮ lot of `machine` that [start, end] reaches (both ends included)
    from the raw weighings.

    Deletes those lots and inserts them again from all of their weighings (a lot reaching
    outside the range is recomputed whole), each pack with the article version valid at its
    time. Idempotent and order-independent; scopes `tx` to `tenant`. Concurrent calls for one
    machine are serialised on a transaction-level advisory lock, so run in READ COMMITTED (a
    REPEATABLE READ snapshot taken before the wait would miss the other's rows).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    if end < start:
        return
    await tx.set_tenant(tenant)
    await tx.fetch_one(lock_machine(tenant, machine))
    first = (start - _HOUR).astimezone(UTC).date()
    last = (end + _HOUR).astimezone(UTC).date()
    if (await tx.fetch_one(missing_partitions(first, last))).missing:
        # Only when a day is missing: the function takes the partitions' lock.
        await tx.fetch_one(ensure_partitions(first, last))
    await tx.execute(delete_lots(tenant, machine, start, end))
    await tx.execute(insert_lots(tenant, machine, start, end))
