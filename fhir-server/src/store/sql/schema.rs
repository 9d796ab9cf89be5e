//! The tables and their indexes.

use super::*;

pub(super) const INDEX_TABLES: [(Table, &str); 6] = [
    (Table::Token, "idx_token"),
    (Table::Str, "idx_string"),
    (Table::Uri, "idx_uri"),
    (Table::Number, "idx_number"),
    (Table::Date, "idx_date"),
    (Table::Reference, "idx_ref"),
];

pub(super) fn table_name(t: Table) -> &'static str {
    INDEX_TABLES
        .iter()
        .find(|(k, _)| *k == t)
        .map(|(_, n)| *n)
        .unwrap_or("idx_token")
}

pub(super) fn schema(d: Dialect) -> Vec<String> {
    let (real, text, row_id) = (d.real(), d.text(), d.row_id());
    let mut s = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS resources (
            rid {row_id}, res_type {text} NOT NULL, res_id {text} NOT NULL, version BIGINT NOT NULL,
            last_updated {text} NOT NULL, deleted INTEGER NOT NULL, content TEXT, source TEXT,
            UNIQUE (res_type, res_id))"
        ),
        "CREATE INDEX IF NOT EXISTS resources_by_type ON resources (res_type, rid)".into(),
        "CREATE INDEX IF NOT EXISTS resources_by_time ON resources (res_type, last_updated)"
            .into(),
        format!(
            "CREATE TABLE IF NOT EXISTS versions (
            rid BIGINT NOT NULL, version BIGINT NOT NULL, res_type {text} NOT NULL, res_id {text} NOT NULL,
            last_updated {text} NOT NULL, method TEXT NOT NULL, content TEXT, source TEXT,
            PRIMARY KEY (rid, version))"
        ),
        "CREATE INDEX IF NOT EXISTS versions_by_time ON versions (last_updated)".into(),
        "CREATE INDEX IF NOT EXISTS versions_by_type ON versions (res_type, last_updated)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_token (rid BIGINT NOT NULL, pid BIGINT NOT NULL, system {text}, code {text}, text {text})"),
        "CREATE INDEX IF NOT EXISTS idx_token_code ON idx_token (pid, code, system, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_token_text ON idx_token (pid, text)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_string (rid BIGINT NOT NULL, pid BIGINT NOT NULL, norm {text} NOT NULL, exact {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_string_norm ON idx_string (pid, norm, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_string_exact ON idx_string (pid, exact)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_uri (rid BIGINT NOT NULL, pid BIGINT NOT NULL, uri {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_uri_value ON idx_uri (pid, uri, rid)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_number (rid BIGINT NOT NULL, pid BIGINT NOT NULL, lo {real} NOT NULL, hi {real} NOT NULL, system {text}, code {text})"),
        "CREATE INDEX IF NOT EXISTS idx_number_value ON idx_number (pid, lo, hi)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_date (rid BIGINT NOT NULL, pid BIGINT NOT NULL, lo {text} NOT NULL, hi {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_date_lo ON idx_date (pid, lo, hi, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_date_hi ON idx_date (pid, hi, lo, rid)".into(),
        format!("CREATE TABLE IF NOT EXISTS idx_ref (rid BIGINT NOT NULL, pid BIGINT NOT NULL, ref_type {text} NOT NULL, ref_id {text} NOT NULL)"),
        "CREATE INDEX IF NOT EXISTS idx_ref_target ON idx_ref (pid, ref_id, ref_type, rid)".into(),
        "CREATE INDEX IF NOT EXISTS idx_ref_any ON idx_ref (ref_id, ref_type, rid)".into(),
    ];
    // The authorisation server's registrations, used assertion ids, keys.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS auth_clients (client_id {text} PRIMARY KEY, name TEXT NOT NULL, ods TEXT NOT NULL,
            role TEXT NOT NULL, scopes TEXT NOT NULL, purposes TEXT NOT NULL, jwks TEXT NOT NULL)"
    ));
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS auth_jti (client_id {text} NOT NULL, jti {text} NOT NULL, expires_at BIGINT NOT NULL,
            PRIMARY KEY (client_id, jti))"
    ));
    s.push("CREATE TABLE IF NOT EXISTS auth_keys (name TEXT PRIMARY KEY, private_pem TEXT NOT NULL, public_jwk TEXT NOT NULL)".into());
    // The subscription outbox: each subscription's state, and the events
    // raised for it in the transactions of the changes that raised them.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS subscriptions (id {text} PRIMARY KEY, topic TEXT NOT NULL, filters TEXT NOT NULL,
            status TEXT NOT NULL, owner TEXT, purposes TEXT NOT NULL, endpoint TEXT NOT NULL, headers TEXT NOT NULL,
            content TEXT NOT NULL, heartbeat BIGINT, timeout BIGINT NOT NULL, max_count BIGINT NOT NULL,
            events BIGINT NOT NULL, failures BIGINT NOT NULL, next_attempt {text} NOT NULL, last_sent TEXT,
            error TEXT, lease_owner TEXT, lease_until {text}, client_id TEXT)"
    ));
    s.push("CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic)".into());
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS subscription_events (sub_id {text} NOT NULL, number BIGINT NOT NULL, topic TEXT NOT NULL,
            focus_type TEXT NOT NULL, focus_id TEXT NOT NULL, focus_version BIGINT NOT NULL, at TEXT NOT NULL,
            state INTEGER NOT NULL, PRIMARY KEY (sub_id, number))"
    ));
    s.push("CREATE INDEX IF NOT EXISTS subscription_events_waiting ON subscription_events (state, sub_id, number)".into());
    // Whose data each resource is, and what each consent allows: the rows
    // the visibility condition reads.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS compartments (rid BIGINT NOT NULL, patient_id {text} NOT NULL)"
    ));
    s.push(
        "CREATE INDEX IF NOT EXISTS compartments_by_resource ON compartments (rid, patient_id)"
            .into(),
    );
    s.push(
        "CREATE INDEX IF NOT EXISTS compartments_by_patient ON compartments (patient_id, rid)"
            .into(),
    );
    // Whose data each version was: history and vread judge each version by
    // its own owners, so a record that changes hands keeps its earlier
    // owners' view of the earlier versions, and no more.
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS version_compartments (rid BIGINT NOT NULL, version BIGINT NOT NULL, patient_id {text} NOT NULL)"
    ));
    s.push(
        "CREATE INDEX IF NOT EXISTS version_compartments_by_version ON version_compartments (rid, version, patient_id)"
            .into(),
    );
    // A database from before version_compartments: each version takes its
    // resource's current owners (once; afterwards the table is not empty).
    s.push("INSERT INTO version_compartments (rid, version, patient_id) SELECT c.rid, v.version, c.patient_id FROM compartments c JOIN versions v ON v.rid = c.rid WHERE NOT EXISTS (SELECT 1 FROM version_compartments)".into());
    s.push(format!(
        "CREATE TABLE IF NOT EXISTS consent_grants (rid BIGINT NOT NULL, patient_id {text} NOT NULL, permit INTEGER NOT NULL,
            actor {text}, purpose {text}, class {text}, start_at {text} NOT NULL, end_at {text})"
    ));
    s.push("CREATE INDEX IF NOT EXISTS consent_grants_by_patient ON consent_grants (patient_id, permit)".into());
    s.push("CREATE INDEX IF NOT EXISTS consent_grants_by_resource ON consent_grants (rid)".into());
    // The audit log (see `audit_log`).
    s.extend(super::audit_log::schema(d));
    // Every index table is also cleared by resource on each write.
    for (_, t) in INDEX_TABLES {
        s.push(format!(
            "CREATE INDEX IF NOT EXISTS {t}_by_resource ON {t} (rid)"
        ));
    }
    s
}
