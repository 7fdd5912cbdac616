"""The set-based SQL that builds the large tables (cases, assignments, shares, feedback).

Every row is computed in one INSERT … SELECT over generate_series; nothing is
looped over in Python.  Working days come from two arrays the generator builds
from the app's own calendar (shared.calendar): ``ords[day - first_day + 1]`` is
the number of working days up to and including that day, and ``wd_days[n]`` is
the n-th working day — so "the N-th working day after day D" is
``wd_days[ords[D] + N]`` and a deadline is 17:30 local on that day, exactly as
shared.calendar.rules.WorkingCalendar.add_working_days computes it.

An assignment's life is drawn first (dispatch, acceptance, an extension,
submission, review, a return or a cancellation, each a timestamp) and its state
is then whatever that life has reached at the benchmark's `now`, so the states,
the overdue items and the reminders due are consistent with the deadlines.

Each step of that computation is a ``CROSS JOIN LATERAL (SELECT … OFFSET 0)``:
the OFFSET keeps the planner from inlining the step into the next one, which
would copy its expression into every reference and grow the expression tree
exponentially along the chain.
"""

from __future__ import annotations

TZ = "'Asia/Shanghai'"


def _ord(day: str) -> str:
    return f"(%(ords)s::int[])[({day}) - %(first_day)s::date + 1]"


def _wd(n: str) -> str:
    return f"(%(wd_days)s::date[])[{n}]"


def _cob(day: str) -> str:
    return f"((({day}) + %(close_of_business)s::time) AT TIME ZONE {TZ})"


def _local(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE {TZ})::date"


def _pick(array: str, r: str, n: str) -> str:
    """array[1 + floor(r * n)] — a uniform choice."""
    return f"({array})[1 + floor({r} * {n})::int]"


def _exp(r: str) -> str:
    """An exponential variate with mean 1 from a uniform one."""
    return f"(-ln(1 - {r}))"


CASE_STAGE = f"""
CREATE UNLOGGED TABLE bench_c AS
WITH s AS (
    SELECT g,
           %(base)s::timestamptz + interval '1 hour' * (width_bucket(random(), %(slot_cdf)s::float8[]) + random()) AS t,
           random() AS r_lead, random() AS r_lead2, random() AS r_coord, random() AS r_src, random() AS r_cat,
           random() AS r_region, random() AS r_ent, random() AS r_ent2, random() AS r_prio, random() AS r_camp,
           random() AS r_n1, random() AS r_n2, random() AS r_phone, random() AS r_id, random() AS r_close,
           random() AS r_typ, random() AS r_desc
    FROM generate_series(1, %(cases)s) g
), o AS (
    SELECT row_number() OVER (ORDER BY t, g) AS id, s.* FROM s
)
SELECT o.id::int AS id,
       o.t AS created_at,
       'GZ-' || extract(year FROM o.t AT TIME ZONE {TZ})::int || '-' ||
           lpad((row_number() OVER (PARTITION BY extract(year FROM o.t AT TIME ZONE {TZ}) ORDER BY o.id))::text,
                6, '0') AS reference,
       extract(year FROM o.t AT TIME ZONE {TZ})::int AS year,
       l.dept AS lead_department_id,
       (%(coord_all)s::int[])[(%(coord_lo)s::int[])[l.dept]
                              + floor(o.r_coord * (%(coord_n)s::int[])[l.dept])::int] AS coordinator_id,
       (%(sources)s::text[])[1 + width_bucket(o.r_src, %(source_cdf)s::float8[])] AS source,
       1 + floor(o.r_cat * %(n_categories)s)::int AS category,
       1 + floor(o.r_region * %(n_regions)s)::int AS region,
       CASE WHEN o.r_ent < 0.75 THEN 1 + floor(o.r_ent2 * %(n_enterprises)s)::int END AS enterprise_id,
       (%(priorities)s::text[])[1 + width_bucket(o.r_prio, %(priority_cdf)s::float8[])] AS priority,
       CASE WHEN o.r_camp < 0.3 THEN cp.k END AS campaign_id,
       o.r_n1, o.r_n2, o.r_phone, o.r_id, o.r_close, o.r_typ, o.r_desc
FROM o
CROSS JOIN LATERAL (
    SELECT CASE WHEN o.r_lead < 0.4 THEN 1
                ELSE 1 + width_bucket(o.r_lead2, %(dept_cdf)s::float8[]) END AS dept
 OFFSET 0) l
CROSS JOIN LATERAL (
    SELECT NULLIF(width_bucket(o.t, %(campaign_starts)s::timestamptz[]), 0) AS k0
 OFFSET 0) c0
CROSS JOIN LATERAL (
    SELECT CASE WHEN c0.k0 IS NOT NULL AND o.t < (%(campaign_ends)s::timestamptz[])[c0.k0] THEN c0.k0 END AS k
 OFFSET 0) cp
"""

# Stage 1: each assignment's life, unordered.  Stage 2 numbers them by dispatch time.
ASSIGNMENT_STAGE = f"""
CREATE UNLOGGED TABLE bench_a1 AS
SELECT s.sid, s.case_id, k.department_id, c.coordinator_id, t.t_disp, t.wd, dd.t_acc_due, dd.t_orig_due,
       CASE WHEN x.ext_state = 'approved' THEN dd.t_ext_due ELSE dd.t_orig_due END AS t_due,
       st.state,
       CASE WHEN st.state IN ('accepted', 'submitted', 'done') THEN a.t_acc END AS accepted_at,
       CASE WHEN st.state IN ('submitted', 'done') THEN u.t_sub END AS first_submitted_at,
       CASE WHEN st.state = 'done' THEN r.t_rev END AS done_at,
       -- Half the returned-then-cancelled ones had come back once before (审定 after the second return).
       CASE WHEN a.path = 'R' AND r.t_ret <= %(now)s
            THEN CASE WHEN st.state = 'cancelled' AND s.r_sp3 < 0.25 THEN 2 ELSE 1 END
            ELSE 0 END AS return_count,
       CASE WHEN a.path = 'R' AND r.t_ret <= %(now)s
            THEN {_pick("%(return_reasons)s::text[]", "s.r_sp3", "%(n_return_reasons)s")} END AS return_reason,
       CASE WHEN st.state = 'cancelled'
            THEN CASE WHEN a.path = 'R' THEN '退回后经审定撤销' ELSE '案件已由牵头部门直接办结，撤销本任务' END
       END AS cancel_reason,
       CASE st.state
           WHEN 'done' THEN r.t_rev
           WHEN 'submitted' THEN u.t_sub
           WHEN 'accepted' THEN CASE WHEN x.ext_state IN ('approved', 'denied') THEN greatest(a.t_acc, e1.t_dec)
                                     WHEN x.ext_state = 'pending' THEN greatest(a.t_acc, e0.t_req)
                                     ELSE a.t_acc END
           WHEN 'returned' THEN r.t_ret
           WHEN 'cancelled' THEN CASE WHEN a.path = 'R' THEN r.t_ret + interval '1 day' ELSE r.t_can END
           ELSE t.t_disp
       END AS updated_at,
       1 + (st.state IN ('accepted', 'submitted', 'done'))::int + (st.state IN ('submitted', 'done'))::int
         + (st.state = 'done')::int + coalesce(x.ext_state IN ('approved', 'denied'), false)::int
         + (st.state IN ('returned', 'cancelled'))::int AS version,
       CASE WHEN st.state IN ('accepted', 'submitted', 'done')
            THEN (%(liaison_all)s::int[])[(%(liaison_lo)s::int[])[k.department_id]
                                          + floor(s.r_who * (%(liaison_n)s::int[])[k.department_id])::int]
       END AS assignee_id,
       {_pick("%(instructions)s::text[]", "s.r_txt", "%(n_instructions)s")} AS instructions,
       x.ext_state, e0.ext_days, e0.t_req, e1.t_dec, dd.t_ext_due
FROM (
    SELECT g AS sid, 1 + floor(random() * %(cases)s)::int AS case_id,
           random() AS r_dept, random() AS r_dept2, random() AS r_delay, random() AS r_follow, random() AS r_wd,
           random() AS r_acc, random() AS r_acc2, random() AS r_sp, random() AS r_sp2, random() AS r_sp3,
           random() AS r_ext, random() AS r_ext2, random() AS r_ext3, random() AS r_ext4, random() AS r_late,
           random() AS r_f, random() AS r_rev, random() AS r_rev2, random() AS r_who, random() AS r_txt
    FROM generate_series(1, %(assignments)s) g
) s
JOIN bench_c c ON c.id = s.case_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.r_dept < 0.35 THEN c.lead_department_id
                ELSE 1 + width_bucket(s.r_dept2, %(dept_cdf)s::float8[]) END AS department_id,
           -- most are dispatched within a day or two of the case; follow-ups come later
           c.created_at + interval '1 day' * CASE WHEN s.r_follow < 0.2 THEN 8 ELSE 1 END
                        * {_exp("s.r_delay")} AS t0
 OFFSET 0) k
CROSS JOIN LATERAL (
    SELECT CASE WHEN k.t0 <= %(now)s THEN k.t0
                ELSE c.created_at + (%(now)s - c.created_at) * s.r_delay END AS t_disp,
           (%(wd_choices)s::int[])[1 + width_bucket(s.r_wd, %(wd_cdf)s::float8[])] AS wd,
           CASE WHEN s.r_ext3 < 0.5 THEN 5 ELSE 10 END AS ext_days
 OFFSET 0) t
CROSS JOIN LATERAL (SELECT {_ord(_local("t.t_disp"))} AS o0 OFFSET 0) o
CROSS JOIN LATERAL (SELECT {_wd("o.o0 + 1")} AS acc_day, {_wd("o.o0 + t.wd")} AS orig_day OFFSET 0) d0
CROSS JOIN LATERAL (
    SELECT {_cob("d0.acc_day")} AS t_acc_due,
           {_cob("d0.orig_day")} AS t_orig_due,
           {_cob(_wd(_ord("d0.orig_day") + " + t.ext_days"))} AS t_ext_due
 OFFSET 0) dd
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.r_acc < %(late_accept)s THEN dd.t_acc_due + interval '1 day' * {_exp("s.r_acc2")}
                ELSE t.t_disp + (dd.t_acc_due - t.t_disp) * 0.9 * s.r_acc2 END AS t_acc,
           CASE WHEN s.r_sp < 0.03 THEN 'R' WHEN s.r_sp < 0.04 THEN 'C' ELSE 'N' END AS path
 OFFSET 0) a
CROSS JOIN LATERAL (
    SELECT a.path = 'N' AND s.r_ext < 0.04 AS ext,
           s.r_ext4 < 0.8 AS ext_ok,
           t.ext_days,
           a.t_acc + greatest(dd.t_orig_due - a.t_acc, interval '0') * 0.5 AS t_req
 OFFSET 0) e0
CROSS JOIN LATERAL (SELECT e0.t_req + interval '1 day' * 0.8 * {_exp("s.r_ext2")} AS t_dec OFFSET 0) e1
CROSS JOIN LATERAL (
    SELECT a.t_acc + greatest(CASE WHEN e0.ext AND e0.ext_ok THEN dd.t_ext_due ELSE dd.t_orig_due END - a.t_acc,
                              interval '4 hours')
           * CASE WHEN s.r_late < %(late_submit)s THEN 1 + 0.25 * {_exp("s.r_f")}
                  ELSE 0.1 + 0.8 * s.r_f END AS t_sub0
 OFFSET 0) u0
CROSS JOIN LATERAL (
    SELECT CASE WHEN e0.ext THEN greatest(u0.t_sub0, e1.t_dec + interval '2 hours') ELSE u0.t_sub0 END AS t_sub
 OFFSET 0) u
CROSS JOIN LATERAL (
    SELECT u.t_sub + interval '1 day' * CASE WHEN s.r_rev < 0.03 THEN 5 ELSE 0.7 END * {_exp("s.r_rev2")} AS t_rev,
           t.t_disp + interval '20 hours' * s.r_sp2 AS t_ret,
           t.t_disp + (u.t_sub - t.t_disp) * s.r_sp2 AS t_can
 OFFSET 0) r
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN a.path = 'R' AND r.t_ret > %(now)s THEN 'dispatched'
        WHEN a.path = 'R' AND %(now)s - r.t_ret < interval '2 days' THEN 'returned'
        WHEN a.path = 'R' AND s.r_sp3 < 0.5 THEN 'cancelled'
        WHEN a.path = 'C' AND r.t_can <= %(now)s THEN 'cancelled'
        WHEN r.t_rev <= %(now)s THEN 'done'
        WHEN u.t_sub <= %(now)s THEN 'submitted'
        WHEN a.t_acc <= %(now)s THEN 'accepted'
        ELSE 'dispatched' END AS state
 OFFSET 0) st
CROSS JOIN LATERAL (
    SELECT CASE WHEN NOT e0.ext OR e0.t_req > %(now)s THEN NULL
                WHEN e1.t_dec > %(now)s THEN 'pending'
                WHEN e0.ext_ok THEN 'approved'
                ELSE 'denied' END AS ext_state
 OFFSET 0) x
"""

ASSIGNMENT_ORDER = """
CREATE UNLOGGED TABLE bench_a AS
SELECT (row_number() OVER (ORDER BY t_disp, sid))::int AS id, * FROM bench_a1
"""

INSERT_ASSIGNMENTS = f"""
INSERT INTO assignment (
    id, case_id, inspection_id, department_id, assignee_id, instructions, state, dispatched_by, dispatched_at,
    acceptance_due_at, feedback_due_at, original_feedback_due_at, working_days, due_provisional, accepted_at,
    first_submitted_at, done_at, return_count, return_reason, return_note, needs_decision, cancel_reason,
    updated_at, version, role)
SELECT id, case_id, NULL, department_id, assignee_id, instructions, state, coordinator_id, t_disp,
       t_acc_due, t_due, t_orig_due, wd, {_local("t_due")} > %(official_until)s::date, accepted_at,
       first_submitted_at, done_at, return_count, return_reason,
       CASE WHEN return_reason = 'other' THEN '该事项属于区级管辖，请转区级部门办理' END,
       false, cancel_reason, updated_at, version,
       'lead'  -- each dispatch names one department, as the dispatch endpoint does by default
FROM bench_a
ORDER BY id
"""

INSERT_CASES = f"""
WITH agg AS (
    SELECT case_id, count(*) AS n,
           count(*) FILTER (WHERE state IN ('dispatched', 'accepted', 'submitted', 'returned')) AS n_open,
           max(updated_at) AS last_change
    FROM bench_a GROUP BY case_id
), closing AS (
    SELECT c.*, agg.n,
           CASE WHEN agg.n > 0 AND agg.n_open = 0 THEN agg.last_change + interval '1 day' * {_exp("c.r_close")}
                WHEN agg.n IS NULL AND c.created_at < %(now)s - interval '20 days'
                     THEN c.created_at + interval '5 days' * c.r_close
           END AS t_close
    FROM bench_c c LEFT JOIN agg ON agg.case_id = c.id
)
INSERT INTO "case" (
    id, reference, title, description, source, category, region, enterprise_name, enterprise_credit_code,
    complainant_name, complainant_phone, complainant_id_number, complainant_address, priority, status,
    lead_department_id, coordinator_id, campaign_id, is_typical, created_at, updated_at, closed_at, version)
SELECT x.id, x.reference,
       left('关于' || coalesce(e.short_name, (%(regions)s::text[])[x.region] || '某经营者') || '的'
            || (%(category_titles)s::text[])[x.category], 200),
       (%(regions)s::text[])[x.region] || '消费者反映：' || (%(category_titles)s::text[])[x.category]
           || '。' || {_pick("%(descriptions)s::text[]", "x.r_desc", "%(n_descriptions)s")},
       x.source, (%(categories)s::text[])[x.category], (%(regions)s::text[])[x.region], e.name, e.credit_code,
       CASE WHEN x.source IN ('hotline_12315', 'online_platform', 'other') THEN
           {_pick("%(surnames)s::text[]", "x.r_n1", "%(n_surnames)s")}
           || {_pick("%(given_names)s::text[]", "x.r_n2", "%(n_given_names)s")} END,
       CASE WHEN x.source IN ('hotline_12315', 'online_platform', 'other') THEN
           '1' || {_pick("%(phone_prefixes)s::text[]", "x.r_n2", "%(n_phone_prefixes)s")}
               || lpad(floor(x.r_phone * 100000000)::bigint::text, 8, '0') END,
       CASE WHEN x.source = 'hotline_12315' THEN
           '3301' || lpad((1 + x.region)::text, 2, '0')
               || to_char(date '1955-01-01' + floor(x.r_id * 18000)::int, 'YYYYMMDD')
               || lpad(floor(x.r_phone * 1000)::int::text, 3, '0')
               || {_pick("ARRAY['0','1','2','3','4','5','6','7','8','9','X']", "x.r_n1", "11")} END,
       CASE WHEN x.source = 'hotline_12315' THEN
           (%(regions)s::text[])[x.region] || {_pick("%(streets)s::text[]", "x.r_id", "%(n_streets)s")}
               || (1 + floor(x.r_phone * 300)::int) || '号' END,
       x.priority,
       CASE WHEN x.t_close <= %(now)s THEN 'closed' ELSE 'open' END,
       x.lead_department_id, x.coordinator_id, x.campaign_id,
       coalesce(x.t_close <= %(now)s AND x.r_typ < 0.003, false),
       x.created_at,
       CASE WHEN x.t_close <= %(now)s THEN x.t_close ELSE x.created_at END,
       CASE WHEN x.t_close <= %(now)s THEN x.t_close END,
       CASE WHEN x.t_close <= %(now)s THEN 2 ELSE 1 END
FROM closing x LEFT JOIN bench_enterprise e ON e.id = x.enterprise_id
ORDER BY x.id
"""

# Every department with an assignment on a case it does not lead sees the case
# through a share; the consumer association is also told of a tenth of the
# complaints it has no assignment on.
INSERT_SHARES = """
INSERT INTO case_share (case_id, department_id, shared_at, case_created_at)
SELECT s.case_id, s.department_id, min(s.shared_at), min(cc.created_at) FROM (
    SELECT a.case_id, a.department_id, a.t_disp AS shared_at
    FROM bench_a a JOIN bench_c c ON c.id = a.case_id
    WHERE a.department_id <> c.lead_department_id
    UNION ALL
    SELECT c.id, %(association)s, c.created_at + interval '2 hours'
    FROM bench_c c
    WHERE c.source = 'hotline_12315' AND c.lead_department_id <> %(association)s AND c.r_typ < 0.1
) s JOIN bench_c cc ON cc.id = s.case_id
GROUP BY s.case_id, s.department_id
ORDER BY s.case_id, s.department_id
"""

INSERT_FEEDBACK = """
INSERT INTO feedback (
    assignment_id, author_id, submitted_at, narrative, enterprises_inspected, problems_found,
    rectification_orders, cases_filed, fines_yuan, complaints_mediated, losses_recovered_yuan,
    review_decision, reviewed_by, reviewed_at, review_comment)
SELECT a.id, a.assignee_id, a.first_submitted_at,
       (%(narratives)s::text[])[1 + floor(r.r1 * %(n_narratives)s)::int],
       floor(r.r2 * 4)::int,
       floor(r.r3 * r.r3 * 4)::int,
       CASE WHEN r.r4 < 0.3 THEN 1 + floor(r.r5 * 2)::int ELSE 0 END,
       CASE WHEN r.r4 < 0.08 THEN 1 ELSE 0 END,
       CASE WHEN r.r4 < 0.08 THEN round((1000 + r.r5 * 199000)::numeric, -2) ELSE 0 END,
       CASE WHEN c.source IN ('hotline_12315', 'online_platform') THEN floor(r.r6 * 3)::int ELSE 0 END,
       CASE WHEN r.r6 < 0.15 THEN round((100 + r.r1 * 49900)::numeric, 2) ELSE 0 END,
       CASE WHEN a.state = 'done' THEN 'approved' END,
       CASE WHEN a.state = 'done' THEN a.coordinator_id END,
       a.done_at,
       CASE WHEN a.state = 'done' THEN '同意办结' END
FROM bench_a a
JOIN bench_c c ON c.id = a.case_id
CROSS JOIN LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                           random() AS r6 WHERE a.id IS NOT NULL OFFSET 0) r
WHERE a.state IN ('submitted', 'done')
ORDER BY a.id
"""

# 回访: the coordinator calls the complainant back on most complaint cases 1–3 days
# after the lead department's work was approved; the mix is the hotlines' usual one.
INSERT_CALLBACKS = """
INSERT INTO callback (
    case_id, assignment_id, department_id, made_by, made_at, reached, attempts, satisfaction, resolved,
    note, updated_at, version)
SELECT a.case_id, a.id, a.department_id, a.coordinator_id, m.made_at, r.r1 < 0.9,
       CASE WHEN r.r1 < 0.9 THEN 1 + floor(r.r2 * 2)::int ELSE 3 END,
       CASE WHEN r.r1 >= 0.9 THEN NULL WHEN r.r3 < 0.72 THEN 'satisfied'
            WHEN r.r3 < 0.92 THEN 'basically_satisfied' ELSE 'unsatisfied' END,
       CASE WHEN r.r1 >= 0.9 THEN NULL ELSE r.r4 < 0.86 END,
       CASE WHEN r.r1 < 0.9 THEN '已电话回访' ELSE '三次拨打未接通' END,
       m.made_at, 1
FROM bench_a a
JOIN bench_c c ON c.id = a.case_id AND c.lead_department_id = a.department_id
CROSS JOIN LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
                    WHERE a.id IS NOT NULL OFFSET 0) r
CROSS JOIN LATERAL (SELECT a.done_at + interval '1 hour' * (20 + r.r5 * 50) AS made_at) m
WHERE a.state = 'done' AND c.source IN ('hotline_12315', 'online_platform') AND r.r5 < 0.8
  AND m.made_at < %(now)s
ORDER BY a.id
"""

INSERT_EXTENSIONS = """
INSERT INTO extension_request (
    assignment_id, requested_by, requested_at, extra_working_days, reason, state, decided_by, decided_at,
    decision_comment, new_due_at)
SELECT a.id, a.assignee_id, a.t_req, a.ext_days, '需协调多部门联合核查，申请延期',
       a.ext_state,
       CASE WHEN a.ext_state <> 'pending' THEN a.coordinator_id END,
       CASE WHEN a.ext_state <> 'pending' THEN a.t_dec END,
       CASE WHEN a.ext_state = 'denied' THEN '请按原期限办理' END,
       CASE WHEN a.ext_state = 'approved' THEN a.t_ext_due END
FROM bench_a a
WHERE a.ext_state IS NOT NULL AND a.assignee_id IS NOT NULL
ORDER BY a.id
"""

INSERT_CASE_SEQUENCES = """
INSERT INTO case_sequence (year, last_value)
SELECT year, count(*) FROM bench_c GROUP BY year
"""

# The fact tables behind the weekly figures (派发 and 退单, as the use cases write them).
# An assignment still in `returned` or cancelled after a return was returned at
# `updated_at` (returned) or a day before it (cancelled), from its dispatch at
# `dispatched_at`.  An assignment whose work went on after a return, or that was
# returned twice, was redispatched to the same department at `dispatched_at`
# (so its deadlines run from there, as `redispatch` sets them); its first
# dispatch and the earlier return lie between the case's creation and then.
_AFTER_RETURN = "a.return_count >= 1 AND a.state IN ('returned', 'cancelled')"
_REDISPATCHED = f"(a.return_count >= 1 AND NOT ({_AFTER_RETURN})) OR a.return_count >= 2"

INSERT_DISPATCHES = f"""
INSERT INTO assignment_dispatch (assignment_id, case_id, department_id, dispatched_at, redispatch)
SELECT a.id, a.case_id, a.department_id, d.at, d.redispatch
FROM bench_a a
JOIN bench_c c ON c.id = a.case_id
CROSS JOIN LATERAL (
    SELECT a.t_disp AS at, ({_REDISPATCHED}) AS redispatch
    UNION ALL
    SELECT c.created_at + (a.t_disp - c.created_at) * 0.2, false WHERE {_REDISPATCHED}
) d
ORDER BY d.at, a.id
"""

INSERT_RETURNS = f"""
INSERT INTO assignment_return (assignment_id, case_id, department_id, returned_at, reason, return_number)
SELECT a.id, a.case_id, a.department_id, r.at, a.return_reason, r.number
FROM bench_a a
JOIN bench_c c ON c.id = a.case_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN a.state = 'returned' THEN a.updated_at ELSE a.updated_at - interval '1 day' END AS at,
           a.return_count AS number
    WHERE {_AFTER_RETURN}
    UNION ALL
    SELECT c.created_at + (a.t_disp - c.created_at) * 0.5, 1 WHERE {_REDISPATCHED}
) r
WHERE a.return_count >= 1
ORDER BY r.at, a.id
"""
