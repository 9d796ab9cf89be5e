//! Search SQL: conditions, visibility, sorting and pages, built as text
//! with bound parameters.

use super::*;

pub(super) const CURRENT_COLUMNS: &str =
    "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source";

/// The current columns and the Patients whose data the row is (for the
/// audit), in the dialect's string aggregate.
pub(super) fn current_columns(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source, (SELECT group_concat(cc.patient_id, ' ') FROM compartments cc WHERE cc.rid = r.rid) AS patients",
        Dialect::Postgres => "r.rid, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.source, (SELECT string_agg(cc.patient_id, ' ') FROM compartments cc WHERE cc.rid = r.rid) AS patients",
    }
}

/// The largest code point: appended to a prefix it bounds every string
/// that starts with the prefix (byte order, as both databases compare here).
pub(super) const PREFIX_END: char = '\u{10FFFF}';

/// Builds the SQL of conditions, giving each nested level its own alias
/// (and, when the query has a [`Visibility`], its visibility condition:
/// a chain or `_has` reveals nothing of a resource the caller may not see).
pub(super) struct Conditions<'v> {
    depth: usize,
    visibility: Option<&'v Visibility>,
    /// How a top-level index condition is written.
    form: Form,
}

/// How [`Conditions`] writes an index condition on the resource row
/// itself (nested levels always use [`Form::In`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `r.rid IN (SELECT rid FROM idx_… WHERE …)`: the matches are read
    /// from the index first (the plan for a page of all matches).
    In,
    /// `EXISTS (SELECT 1 FROM idx_… WHERE rid = r.rid AND …)`: each
    /// candidate row is probed (the plan for a window, [`select_window`]).
    Exists,
    /// `SELECT DISTINCT rid FROM idx_… WHERE …`: the whole query is the
    /// index's matches, for [`select_count`] to count.
    CountIndex,
}

impl Conditions<'_> {
    /// `alias.rid IN (SELECT rid FROM table WHERE pid = ? AND …)`.
    fn index_in(
        &mut self,
        sql: &mut Sql,
        alias: &str,
        negate: bool,
        table: Table,
        pid: i64,
        f: &mut dyn FnMut(&mut Sql, &mut Self),
    ) {
        match (self.depth, self.form) {
            (0, Form::CountIndex) if !negate => {
                sql.push("SELECT DISTINCT rid FROM ")
                    .push(table_name(table))
                    .push(" WHERE pid = ")
                    .bind(pid);
                f(sql, self);
                return;
            }
            (0, Form::Exists) => {
                sql.push(if negate { "NOT EXISTS (" } else { "EXISTS (" });
                sql.push("SELECT 1 FROM ")
                    .push(table_name(table))
                    .push(" WHERE rid = ")
                    .push(alias)
                    .push(".rid AND pid = ")
                    .bind(pid);
                f(sql, self);
                sql.push(")");
                return;
            }
            _ => {}
        }
        sql.push(alias)
            .push(if negate { ".rid NOT IN (" } else { ".rid IN (" });
        sql.push("SELECT rid FROM ")
            .push(table_name(table))
            .push(" WHERE pid = ")
            .bind(pid);
        f(sql, self);
        sql.push(")");
    }

    /// `list`'s conditions joined by `op` in parentheses; `empty` (the
    /// operator's identity) when there are none.
    fn join(
        &mut self,
        sql: &mut Sql,
        list: &[Condition],
        op: &str,
        empty: &str,
        rtype: &str,
        alias: &str,
    ) {
        sql.push("(");
        for (n, c) in list.iter().enumerate() {
            if n > 0 {
                sql.push(op);
            }
            self.condition(sql, c, rtype, alias);
        }
        if list.is_empty() {
            sql.push(empty);
        }
        sql.push(")");
    }

    /// The SQL condition on the resource row `alias` (of type `rtype`).
    fn condition(&mut self, sql: &mut Sql, c: &Condition, rtype: &str, alias: &str) {
        let pid = |param: &str| param_id(rtype, param);
        match c {
            Condition::Any(list) => self.join(sql, list, " OR ", "1 = 0", rtype, alias),
            Condition::All(list) => self.join(sql, list, " AND ", "1 = 1", rtype, alias),
            Condition::Id(ids) => {
                sql.push(alias).push(".res_id IN (");
                for (n, id) in ids.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.bind(id);
                }
                if ids.is_empty() {
                    sql.push("NULL");
                }
                sql.push(")");
            }
            Condition::LastUpdated(prefix, lo, hi) => {
                let col = format!("{alias}.last_updated");
                range_sql(
                    sql,
                    &col,
                    &col,
                    *prefix,
                    Param::Text(lo.clone()),
                    Param::Text(hi.clone()),
                );
            }
            Condition::Token {
                param,
                system,
                code,
                not,
            } => self.index_in(sql, alias, *not, Table::Token, pid(param), &mut |sql, _| {
                if let Some(code) = code {
                    sql.push(" AND code = ").bind(code);
                }
                match system.as_deref() {
                    None => {}
                    Some("") => {
                        sql.push(" AND system IS NULL");
                    }
                    Some(s) => {
                        sql.push(" AND system = ").bind(s);
                    }
                }
            }),
            Condition::TokenText { param, text } => self.index_in(
                sql,
                alias,
                false,
                Table::Token,
                pid(param),
                &mut |sql, _| {
                    prefix_sql(sql, "text", text);
                },
            ),
            Condition::Str { param, value, mode } => self.index_in(
                sql,
                alias,
                false,
                Table::Str,
                pid(param),
                &mut |sql, _| match mode {
                    StrMode::Exact => {
                        sql.push(" AND exact = ").bind(value);
                    }
                    StrMode::Prefix => prefix_sql(sql, "norm", value),
                    StrMode::Contains => {
                        sql.push(" AND norm LIKE ")
                            .bind(format!("%{}%", like_escape(value)).as_str())
                            .push(" ESCAPE '\\'");
                    }
                },
            ),
            Condition::Uri {
                param,
                value,
                below,
            } => self.index_in(sql, alias, false, Table::Uri, pid(param), &mut |sql, _| {
                if *below {
                    prefix_sql(sql, "uri", value);
                } else {
                    sql.push(" AND uri = ").bind(value);
                }
            }),
            Condition::Num {
                param,
                prefix,
                lo,
                hi,
                system,
                code,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Number,
                pid(param),
                &mut |sql, _| {
                    sql.push(" AND ");
                    range_sql(sql, "lo", "hi", *prefix, Param::Real(*lo), Param::Real(*hi));
                    if let Some(s) = system {
                        sql.push(" AND system = ").bind(s);
                    }
                    if let Some(c) = code {
                        sql.push(" AND code = ").bind(c);
                    }
                },
            ),
            Condition::Date {
                param,
                prefix,
                lo,
                hi,
            } => self.index_in(sql, alias, false, Table::Date, pid(param), &mut |sql, _| {
                sql.push(" AND ");
                range_sql(
                    sql,
                    "lo",
                    "hi",
                    *prefix,
                    Param::Text(lo.clone()),
                    Param::Text(hi.clone()),
                );
            }),
            Condition::Reference {
                param,
                target_type,
                id,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Reference,
                pid(param),
                &mut |sql, _| {
                    sql.push(" AND ref_id = ").bind(id);
                    if let Some(t) = target_type {
                        sql.push(" AND ref_type = ").bind(t);
                    }
                },
            ),
            Condition::Chain {
                param,
                target_type,
                inner,
            } => self.index_in(
                sql,
                alias,
                false,
                Table::Reference,
                pid(param),
                &mut |sql, me| {
                    me.depth += 1;
                    let inner_alias = format!("r{}", me.depth);
                    sql.push(" AND ref_type = ").bind(target_type);
                    sql.push(" AND ref_id IN (SELECT ")
                        .push(&inner_alias)
                        .push(".res_id FROM resources ")
                        .push(&inner_alias)
                        .push(" WHERE ")
                        .push(&inner_alias)
                        .push(".deleted = 0 AND ")
                        .push(&inner_alias)
                        .push(".res_type = ")
                        .bind(target_type);
                    sql.push(" AND ");
                    me.condition(sql, inner, target_type, &inner_alias);
                    if let Some(v) = me.visibility {
                        sql.push(" AND ");
                        visible_sql(sql, &inner_alias, v);
                    }
                    sql.push(")");
                },
            ),
            Condition::Has {
                source_type,
                param,
                inner,
            } => {
                self.depth += 1;
                let inner_alias = format!("r{}", self.depth);
                sql.push(alias)
                    .push(".res_id IN (SELECT h.ref_id FROM idx_ref h JOIN resources ");
                sql.push(&inner_alias).push(" ON ").push(&inner_alias);
                sql.push(".rid = h.rid WHERE h.pid = ")
                    .bind(param_id(source_type, param));
                sql.push(" AND h.ref_type = ").bind(rtype);
                sql.push(" AND ")
                    .push(&inner_alias)
                    .push(".deleted = 0 AND ");
                self.condition(sql, inner, source_type, &inner_alias);
                if let Some(v) = self.visibility {
                    sql.push(" AND ");
                    visible_sql(sql, &inner_alias, v);
                }
                sql.push(")");
            }
            Condition::Compartment(patient) => {
                sql.push(alias)
                    .push(".rid IN (SELECT rid FROM compartments WHERE patient_id = ")
                    .bind(patient)
                    .push(")");
            }
            Condition::Missing {
                param,
                tables,
                missing,
            } => {
                sql.push(if *missing { "NOT (" } else { "(" });
                for (n, t) in tables.iter().enumerate() {
                    if n > 0 {
                        sql.push(" OR ");
                    }
                    self.index_in(sql, alias, false, *t, pid(param), &mut |_, _| {});
                }
                if tables.is_empty() {
                    sql.push("1 = 0");
                }
                sql.push(")");
            }
        }
    }
}

/// `AND column >= prefix AND column < prefix || U+10FFFF`: a prefix match
/// that the column's index answers (LIKE would not, under PostgreSQL's
/// collations or SQLite's case-insensitive LIKE).
pub(super) fn prefix_sql(sql: &mut Sql, column: &str, prefix: &str) {
    let mut end = prefix.to_string();
    end.push(PREFIX_END);
    sql.push(" AND ").push(column).push(" >= ").bind(prefix);
    sql.push(" AND ").push(column).push(" < ").bind(&end);
}

pub(super) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A range comparison of a stored range [lo_col, hi_col] with the
/// parameter's range [lo, hi], per the FHIR search rules for prefixes.
pub(super) fn range_sql(
    sql: &mut Sql,
    lo_col: &str,
    hi_col: &str,
    prefix: Prefix,
    lo: Param,
    hi: Param,
) {
    let cmp = |sql: &mut Sql, col: &str, op: &str, p: &Param| {
        sql.push(col).push(" ").push(op).push(" ");
        sql.bind(p.clone());
    };
    sql.push("(");
    match prefix {
        Prefix::Eq | Prefix::Ap => {
            cmp(sql, lo_col, ">=", &lo);
            sql.push(" AND ");
            cmp(sql, hi_col, "<=", &hi);
        }
        Prefix::Ne => {
            cmp(sql, lo_col, "<", &lo);
            sql.push(" OR ");
            cmp(sql, hi_col, ">", &hi);
        }
        Prefix::Gt => cmp(sql, hi_col, ">", &hi),
        Prefix::Lt => cmp(sql, lo_col, "<", &lo),
        Prefix::Ge => cmp(sql, hi_col, ">=", &lo),
        Prefix::Le => cmp(sql, lo_col, "<=", &hi),
        Prefix::Sa => cmp(sql, lo_col, ">", &hi),
        Prefix::Eb => cmp(sql, hi_col, "<", &lo),
    }
    sql.push(")");
}

/// The `FROM … WHERE …` of a query on current resources, alias `r`.
pub(super) fn from_where(sql: &mut Sql, query: &Query, form: Form) {
    sql.push(" FROM resources r WHERE r.deleted = 0");
    let mut conds = Conditions {
        depth: 0,
        visibility: query.visibility.as_ref(),
        form,
    };
    match (&query.resource_type, query.types.as_slice()) {
        (Some(t), _) => {
            sql.push(" AND r.res_type = ").bind(t);
            for c in &query.conditions {
                sql.push(" AND ");
                conds.condition(sql, c, t, "r");
            }
        }
        (None, []) => {
            for c in &query.conditions {
                sql.push(" AND ");
                conds.condition(sql, c, "Resource", "r");
            }
        }
        // `_type`: each type with the conditions as that type's index
        // holds them (a parameter's index rows are keyed by its type).
        (None, types) => {
            sql.push(" AND (");
            for (n, t) in types.iter().enumerate() {
                sql.push(if n > 0 { " OR (" } else { "(" });
                sql.push("r.res_type = ").bind(t);
                for c in &query.conditions {
                    sql.push(" AND ");
                    conds.condition(sql, c, t, "r");
                }
                sql.push(")");
            }
            sql.push(")");
        }
    }
    if let Some(v) = &query.visibility {
        sql.push(" AND ");
        visible_sql(sql, "r", v);
    }
}

/// Whether the resource row `a` is visible under `v` (see [`Visibility`]):
/// its source is the caller's organisation, or each person whose data it
/// is permits it; AuditEvents only for admins and the person's
/// organisation of record (the source of their Patient record).
pub(super) fn visible_sql(sql: &mut Sql, a: &str, v: &Visibility) {
    visibility_sql(sql, a, Owned::Current, v);
}

/// Whose data a row is read from: the current row's `compartments`, or
/// the `version_compartments` of the version row aliased so (history and
/// vread judge each version by its own owners).
#[derive(Clone, Copy)]
pub(super) enum Owned<'a> {
    /// The current version (`compartments`).
    Current,
    /// The version row with this alias.
    Version(&'a str),
}

/// `FROM` the owners of row `a` as `alias`, `WHERE` they are its.
fn owners_from(sql: &mut Sql, alias: &str, a: &str, owned: Owned) {
    match owned {
        Owned::Current => {
            sql.push("compartments ").push(alias).push(" WHERE ");
            sql.push(alias).push(".rid = ").push(a).push(".rid");
        }
        Owned::Version(version) => {
            sql.push("version_compartments ")
                .push(alias)
                .push(" WHERE ");
            sql.push(alias).push(".rid = ").push(a).push(".rid AND ");
            sql.push(alias)
                .push(".version = ")
                .push(version)
                .push(".version");
        }
    }
}

/// The visibility condition on resource row `a` (its source, type and
/// id), its owners read as `owned` says.
pub(super) fn visibility_sql(sql: &mut Sql, a: &str, owned: Owned, v: &Visibility) {
    // Default deny (`interaction::access::compartment`): a row is visible
    // to its source; a definition to all; a person's data when it is some
    // person's data and every one of them permits it; a Consent to the
    // holder of the person's record; an AuditEvent to admins and the
    // holder of the person's record. Nothing else is.
    sql.push("((")
        .push(a)
        .push(".res_type <> 'AuditEvent' AND (");
    sql.push(a).push(".source = ").bind(&v.organisation);
    sql.push(" OR ").push(a).push(".res_type IN (");
    for (n, t) in v.readable_by_all.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        // Type names are letters only (checked), so they are written as
        // literals: the planner sees a constant list.
        if t.chars().all(|c| c.is_ascii_alphabetic()) {
            sql.push("'").push(t).push("'");
        } else {
            sql.push("NULL");
        }
    }
    if v.readable_by_all.is_empty() {
        sql.push("NULL");
    }
    sql.push(")");
    sql.push(" OR (EXISTS (SELECT 1 FROM ");
    owners_from(sql, "vo", a, owned);
    sql.push(") AND NOT EXISTS (SELECT 1 FROM ");
    owners_from(sql, "vc", a, owned);
    sql.push(" AND NOT (");
    grant_sql(sql, a, "vc.patient_id", true, v);
    sql.push(" AND NOT ");
    grant_sql(sql, a, "vc.patient_id", false, v);
    sql.push(")))");
    sql.push(" OR (").push(a).push(".res_type = 'Consent' AND ");
    holder_sql(sql, a, owned, v);
    sql.push("))) OR (")
        .push(a)
        .push(".res_type = 'AuditEvent' AND (");
    sql.push(if v.admin { "1 = 1" } else { "1 = 0" });
    sql.push(" OR (");
    holder_sql(sql, a, owned, v);
    sql.push("))))");
}

/// Row `a` is some person's data, and the caller's organisation holds
/// (is the source of) the Patient record of every person it is about.
fn holder_sql(sql: &mut Sql, a: &str, owned: Owned, v: &Visibility) {
    sql.push("EXISTS (SELECT 1 FROM ");
    owners_from(sql, "ao", a, owned);
    sql.push(") AND NOT EXISTS (SELECT 1 FROM ");
    owners_from(sql, "ac", a, owned);
    sql.push(" AND NOT EXISTS (SELECT 1 FROM resources ap WHERE ap.res_type = 'Patient' AND ap.res_id = ac.patient_id AND ap.deleted = 0 AND ap.source = ")
        .bind(&v.organisation);
    sql.push("))");
}

/// A column `vis` (1 or 0) telling whether row `a` is visible (always 1
/// without a visibility).
pub(super) fn visible_column(sql: &mut Sql, a: &str, visibility: Option<&Visibility>) {
    visible_column_of(sql, a, Owned::Current, visibility);
}

/// [`visible_column`], the owners read as `owned` says.
pub(super) fn visible_column_of(
    sql: &mut Sql,
    a: &str,
    owned: Owned,
    visibility: Option<&Visibility>,
) {
    match visibility {
        None => {
            sql.push(", 1 AS vis");
        }
        Some(v) => {
            sql.push(", CASE WHEN ");
            visibility_sql(sql, a, owned, v);
            sql.push(" THEN 1 ELSE 0 END AS vis");
        }
    }
}

pub(super) fn is_visible(row: &AnyRow) -> Result<bool, StoreError> {
    let v = row
        .try_get::<i64, _>("vis")
        .or_else(|_| row.try_get::<i32, _>("vis").map(i64::from))?;
    Ok(v != 0)
}

/// `EXISTS` a consent grant (a permit, or a refusal) of `patient` that
/// matches the caller, the row's type and the instant.
pub(super) fn grant_sql(sql: &mut Sql, a: &str, patient: &str, permit: bool, v: &Visibility) {
    sql.push("EXISTS (SELECT 1 FROM consent_grants g WHERE g.patient_id = ")
        .push(patient);
    sql.push(if permit {
        " AND g.permit = 1"
    } else {
        " AND g.permit = 0"
    });
    sql.push(" AND (g.actor IS NULL OR g.actor = ")
        .bind(&v.organisation)
        .push(")");
    sql.push(" AND (g.purpose IS NULL OR g.purpose IN (");
    for (n, p) in v.purposes.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.bind(p);
    }
    if v.purposes.is_empty() {
        sql.push("NULL");
    }
    sql.push("))");
    sql.push(" AND (g.class IS NULL OR g.class = ")
        .push(a)
        .push(".res_type)");
    sql.push(" AND g.start_at <= ").bind(&v.now);
    sql.push(" AND (g.end_at IS NULL OR g.end_at >= ")
        .bind(&v.now)
        .push("))");
}

/// The column a parameter's values sort by in its table.
pub(super) fn sort_column(t: Table) -> &'static str {
    match t {
        Table::Token => "code",
        Table::Str => "norm",
        Table::Uri => "uri",
        Table::Number => "lo",
        Table::Date => "lo",
        Table::Reference => "ref_id",
    }
}

pub(super) fn select_page(d: Dialect, query: &Query) -> Sql {
    let mut sql = Sql::new(d);
    sql.push("SELECT ").push(current_columns(d));
    from_where(&mut sql, query, Form::In);
    sql.push(" ORDER BY ");
    let rtype = query.resource_type.as_deref().unwrap_or("Resource");
    for (key, desc) in &query.sort {
        let dir = if *desc { " DESC" } else { " ASC" };
        match key {
            SortKey::Id => {
                sql.push("r.res_id").push(dir).push(", ");
            }
            SortKey::LastUpdated => {
                sql.push("r.last_updated").push(dir).push(", ");
            }
            SortKey::Param { param, table } => {
                let agg = if *desc { "MAX" } else { "MIN" };
                sql.push("(SELECT ")
                    .push(agg)
                    .push("(s.")
                    .push(sort_column(*table))
                    .push(") FROM ")
                    .push(table_name(*table))
                    .push(" s WHERE s.rid = r.rid AND s.pid = ")
                    .bind(param_id(rtype, param));
                // Resources without the parameter come last either way,
                // the same on both databases.
                sql.push(")").push(dir).push(" NULLS LAST, ");
            }
        }
    }
    sql.push("r.rid DESC LIMIT ").bind(query.count.max(0));
    sql.push(" OFFSET ").bind(query.offset.max(0));
    sql
}

/// The number of matches of `query` as `n`; with a `bound`, at most
/// `bound + 1` (more than the bound: the caller gives no total).
///
/// A query of one type, with no visibility and one positive condition on
/// one index table, is counted from that index alone: its rows belong only
/// to current resources (a deletion removes them) of the type its `pid`
/// names, so the distinct `rid`s are the matches. That spares a probe of
/// every matching resource row (at a million resources, a date search's
/// count went from about 109 ms to 16–18 ms of SQL, the rest being the
/// `DISTINCT`). Any other query counts the rows of its page's
/// `FROM … WHERE`. A bound stops either after `bound + 1` matches.
pub(super) fn select_count(d: Dialect, query: &Query, bound: Option<i64>) -> Sql {
    let mut sql = Sql::new(d);
    sql.push("SELECT COUNT(*) AS n FROM (");
    match (
        query.conditions.as_slice(),
        query.resource_type.as_deref(),
        &query.visibility,
    ) {
        ([c], Some(rtype), None) if counts_from_index(c) => {
            let mut conds = Conditions {
                depth: 0,
                visibility: None,
                form: Form::CountIndex,
            };
            conds.condition(&mut sql, c, rtype, "r");
        }
        _ => {
            sql.push("SELECT r.rid");
            from_where(&mut sql, query, Form::In);
        }
    }
    if let Some(b) = bound {
        sql.push(" LIMIT ").bind(b.saturating_add(1));
    }
    sql.push(") counted");
    sql
}

/// How many of a type's newest rows [`select_window`] looks at, per match
/// the page needs.
pub(super) const WINDOW_PER_MATCH: i64 = 8;
/// The largest `_offset + _count` a window is tried for.
pub(super) const WINDOW_MAX_NEEDED: i64 = 1000;

/// The page of `query` looked for among the newest rows of its type only,
/// each probed with [`Form::Exists`]; `None` when the query does not suit
/// a window (no type, no condition, its own sort, or a deep page).
///
/// `select_page` reads every match from the index before taking the page:
/// a broad condition (a date range matching a tenth of a million
/// Encounters) costs as much as its matches. The window reads
/// `WINDOW_PER_MATCH` rows per match needed instead. When it holds at least
/// `_offset + _count` matches, they are the page exactly: every match
/// outside the window is older than every row in it. When it holds fewer,
/// the caller runs `select_page`, having spent a few hundred index probes.
pub(super) fn select_window(d: Dialect, query: &Query) -> Option<Sql> {
    let needed = query.offset.max(0) + query.count;
    let rtype = query.resource_type.as_deref()?;
    if query.conditions.is_empty()
        || !query.sort.is_empty()
        || query.count <= 0
        || needed > WINDOW_MAX_NEEDED
    {
        return None;
    }
    let mut sql = Sql::new(d);
    sql.push("SELECT ").push(current_columns(d));
    from_where(&mut sql, query, Form::Exists);
    sql.push(" AND r.rid IN (SELECT w.rid FROM resources w WHERE w.res_type = ")
        .bind(rtype);
    sql.push(" ORDER BY w.rid DESC LIMIT ")
        .bind(needed * WINDOW_PER_MATCH)
        .push(")");
    sql.push(" ORDER BY r.rid DESC LIMIT ").bind(query.count);
    sql.push(" OFFSET ").bind(query.offset.max(0));
    Some(sql)
}

/// Whether `c` is one positive condition on one index table, which
/// [`select_count`] may count from the index alone.
fn counts_from_index(c: &Condition) -> bool {
    match c {
        Condition::Token { not, .. } => !not,
        Condition::TokenText { .. }
        | Condition::Str { .. }
        | Condition::Uri { .. }
        | Condition::Num { .. }
        | Condition::Date { .. }
        | Condition::Reference { .. } => true,
        Condition::Any(_)
        | Condition::All(_)
        | Condition::Id(_)
        | Condition::LastUpdated(..)
        | Condition::Chain { .. }
        | Condition::Has { .. }
        | Condition::Compartment(_)
        | Condition::Missing { .. } => false,
    }
}
