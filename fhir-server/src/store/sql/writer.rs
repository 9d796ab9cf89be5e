//! A write transaction: resource, version, index and access rows
//! together.

use std::collections::HashMap;

use super::pending::{Pending, PendingVersion, ROWS_PER_INSERT};
use super::*;

/// A resource's current row as a writer sees it: row id, version,
/// whether it is deleted.
pub(super) type CurrentRow = (i64, Stored, bool);

/// A transaction on the SQL store.
pub struct SqlWriter {
    /// The transaction (and, on SQLite, the writers' turn).
    pub(super) tx: super::txn::WriteTx,
    pub(super) dialect: Dialect,
    /// Index rows written by this transaction.
    pub(super) written: u64,
    pub(super) store_written: Arc<AtomicU64>,
    pub(super) store: SqlStore,
    /// Versions written but not yet sent (see [`super::pending`]).
    pub(super) pending: Pending,
    /// Current rows read ahead by [`Writer::prefetch`] (None: no such
    /// resource), dropped as each is written.
    pub(super) known: HashMap<(String, String), Option<CurrentRow>>,
    /// The AuditEvents this transaction appends (see [`super::audit_log`]).
    pub(super) audit: super::audit_log::Appending,
}

impl SqlWriter {
    async fn clear_index(&mut self, rid: i64) -> Result<(), StoreError> {
        for (_, name) in INDEX_TABLES {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ")
                .push(name)
                .push(" WHERE rid = ")
                .bind(rid);
            sql.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // one row's columns, named at each call
    async fn write_version(
        &mut self,
        rid: i64,
        rtype: &str,
        id: &str,
        version: i64,
        content: Option<&str>,
        method: &str,
        source: Option<&str>,
        when: &str,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO versions (rid, version, res_type, res_id, last_updated, method, content, source) VALUES (");
        sql.bind(rid).push(", ").bind(version).push(", ");
        sql.bind(rtype).push(", ").bind(id).push(", ");
        sql.bind(when).push(", ").bind(method).push(", ");
        sql.bind(content.map(Param::from).unwrap_or(Param::Null))
            .push(", ");
        sql.bind(source.map(Param::from).unwrap_or(Param::Null))
            .push(")");
        sql.query().execute(&mut *self.tx).await?;
        Ok(())
    }

    /// The current row of `rtype/id` as this transaction sees it: its
    /// pending versions flushed first, a row read ahead used as it is.
    async fn current_row(
        &mut self,
        rtype: &str,
        id: &str,
    ) -> Result<Option<CurrentRow>, StoreError> {
        if self.pending.holds(rtype, id) {
            self.flush().await?;
        } else if let Some(known) = self.known.get(&(rtype.to_string(), id.to_string())) {
            return Ok(known.clone());
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(CURRENT_COLUMNS)
            .push(", r.deleted FROM resources r WHERE r.res_type = ")
            .bind(rtype);
        sql.push(" AND r.res_id = ").bind(id);
        lock_rows(&mut sql);
        let Some(row) = sql.query().fetch_optional(&mut *self.tx).await? else {
            return Ok(None);
        };
        current_from(&row).map(Some)
    }

    /// Writes a new resource's first version (`method` POST, or PUT for an
    /// update as create).
    async fn insert_new(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
        method: &'static str,
    ) -> Result<Stored, StoreError> {
        let when = now();
        let resource = stamp(new.resource, id, 1, &when);
        let content: Arc<str> = Arc::from(resource.to_string());
        self.hold(PendingVersion {
            rid: None,
            rtype: resource_type.into(),
            id: id.into(),
            version: 1,
            when: when.clone(),
            method,
            content: content.clone(),
            source: new.source.clone(),
            replaces: false,
            index: new.index,
            compartments: new.compartments.clone(),
            grants: new.grants,
        })
        .await?;
        Ok(Stored {
            resource_type: resource_type.into(),
            id: id.into(),
            version: 1,
            last_updated: when,
            content: Some(content),
            method: method.into(),
            source: new.source,
            compartments: new.compartments,
        })
    }
}

/// PostgreSQL: the current rows a writer reads are locked until it
/// commits. A concurrent writer of the same resource then waits at its
/// read and sees the version the first wrote, rather than both reading
/// one version and the second failing at its update: plain updates that
/// race are applied one after the other, as SQLite's one writer applies
/// them. (SQLite needs nothing: its writers take turns.)
fn lock_rows(sql: &mut Sql) {
    if sql.dialect == Dialect::Postgres {
        sql.push(" FOR UPDATE");
    }
}

/// A `current_row` answer from a row of [`CURRENT_COLUMNS`] and `deleted`.
fn current_from(row: &AnyRow) -> Result<CurrentRow, StoreError> {
    let rid: i64 = row.try_get("rid")?;
    let deleted: i32 = row
        .try_get::<i32, _>("deleted")
        .or_else(|_| row.try_get::<i64, _>("deleted").map(|d| d as i32))?;
    Ok((rid, stored_from(row, false)?, deleted != 0))
}

#[async_trait::async_trait]
impl Writer for SqlWriter {
    async fn audit(&mut self, event: NewVersion) -> Result<(), StoreError> {
        self.append_audit(event).await.map(|_| ())
    }

    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
    ) -> Result<Stored, StoreError> {
        // The row is inserted at the next flush; a clash with this
        // transaction's own writes or rows read ahead is known now, and one
        // with another transaction's is found by the database then.
        let taken = self.pending.holds(resource_type, id)
            || matches!(
                self.known.get(&(resource_type.to_string(), id.to_string())),
                Some(Some(_))
            );
        if taken {
            return Err(StoreError::Conflict(format!("{resource_type}/{id}")));
        }
        if resource_type == super::audit_log::AUDIT_EVENT {
            // AuditEvents go to the audit log, numbered there.
            return self.append_audit(new).await;
        }
        self.insert_new(resource_type, id, new, "POST").await
    }

    async fn update(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
        if_match: Option<i64>,
    ) -> Result<(Stored, bool), StoreError> {
        let name = format!("{resource_type}/{id}");
        let Some((rid, current, deleted)) = self.current_row(resource_type, id).await? else {
            if let Some(expected) = if_match {
                return Err(StoreError::VersionConflict {
                    resource: name,
                    current: 0,
                    expected,
                });
            }
            let s = self.insert_new(resource_type, id, new, "PUT").await?;
            return Ok((s, true));
        };
        if let Some(expected) = if_match {
            if expected != current.version {
                return Err(StoreError::VersionConflict {
                    resource: name,
                    current: current.version,
                    expected,
                });
            }
        }
        let version = current.version + 1;
        let when = now();
        let resource = stamp(new.resource, id, version, &when);
        let content: Arc<str> = Arc::from(resource.to_string());
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ").bind(version);
        sql.push(", last_updated = ").bind(&when);
        sql.push(", deleted = 0, content = ").bind(&*content);
        // The organisation that created a resource stays its source; each
        // version row records who wrote that version.
        if deleted {
            sql.push(", source = ")
                .bind(Param::from(new.source.as_ref()));
        }
        sql.push(" WHERE rid = ").bind(rid);
        sql.push(" AND version = ").bind(current.version);
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(name));
        }
        self.hold(PendingVersion {
            rid: Some(rid),
            rtype: resource_type.into(),
            id: id.into(),
            version,
            when: when.clone(),
            method: "PUT",
            content: content.clone(),
            source: new.source.clone(),
            replaces: true,
            index: new.index,
            compartments: new.compartments.clone(),
            grants: new.grants,
        })
        .await?;
        Ok((
            Stored {
                resource_type: resource_type.into(),
                id: id.into(),
                version,
                last_updated: when,
                content: Some(content),
                method: "PUT".into(),
                source: if deleted { new.source } else { current.source },
                compartments: new.compartments,
            },
            deleted,
        ))
    }

    async fn delete(
        &mut self,
        resource_type: &str,
        id: &str,
        source: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let Some((rid, current, deleted)) = self.current_row(resource_type, id).await? else {
            return Ok(None);
        };
        if deleted {
            return Ok(None);
        }
        let version = current.version + 1;
        let when = now();
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ").bind(version);
        sql.push(", last_updated = ").bind(&when);
        sql.push(", deleted = 1, content = NULL WHERE rid = ")
            .bind(rid);
        sql.push(" AND version = ").bind(current.version);
        let done = sql.query().execute(&mut *self.tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("{resource_type}/{id}")));
        }
        self.write_version(
            rid,
            resource_type,
            id,
            version,
            None,
            "DELETE",
            source,
            &when,
        )
        .await?;
        self.clear_index(rid).await?;
        // The deletion is the data of whoever the deleted version's was.
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO version_compartments (rid, version, patient_id) SELECT rid, ")
            .bind(version)
            .push(", patient_id FROM compartments WHERE rid = ")
            .bind(rid);
        sql.query().execute(&mut *self.tx).await?;
        self.known
            .remove(&(resource_type.to_string(), id.to_string()));
        // A deleted consent permits nothing; whose data it was stays known.
        let mut sql = Sql::new(self.dialect);
        sql.push("DELETE FROM consent_grants WHERE rid = ")
            .bind(rid);
        sql.query().execute(&mut *self.tx).await?;
        Ok(Some(version))
    }

    async fn current(
        &mut self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<Stored>, StoreError> {
        Ok(self
            .current_row(resource_type, id)
            .await?
            .map(|(_, mut s, deleted)| {
                if deleted {
                    s.content = None;
                }
                s
            }))
    }

    async fn matching(&mut self, query: &Query) -> Result<Vec<Stored>, StoreError> {
        self.flush().await?;
        let sql = select_page(self.dialect, query);
        if self.dialect == Dialect::Postgres {
            // Conditional operations on the same criteria, from any
            // process, wait for each other here until commit: the second
            // then sees what the first wrote.
            let mut key = sql.text.clone();
            for p in &sql.params {
                let _ = write!(key, "|{p:?}");
            }
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(param_id("conditional", &key))
                .execute(&mut *self.tx)
                .await?;
        }
        let rows = sql.query().fetch_all(&mut *self.tx).await?;
        rows.iter().map(|r| stored_from(r, false)).collect()
    }

    async fn put_subscription(&mut self, row: &SubscriptionRow) -> Result<(), StoreError> {
        self.put_subscription_row(row).await
    }

    async fn remove_subscription(&mut self, id: &str) -> Result<(), StoreError> {
        self.remove_subscription_row(id).await
    }

    async fn subscriptions_for(
        &mut self,
        topics: &[String],
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        self.subscriptions_listening(topics).await
    }

    async fn add_event(
        &mut self,
        subscription: &str,
        topic: &str,
        focus: (&str, &str, i64),
        at: &str,
    ) -> Result<i64, StoreError> {
        self.raise_event(subscription, topic, focus, at).await
    }

    async fn prefetch(&mut self, keys: &[(String, String)]) -> Result<(), StoreError> {
        // In a fixed order (types, then ids): on PostgreSQL the rows are
        // locked as read, and two transactions locking in one order do not
        // deadlock.
        let mut by_type: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (t, id) in keys {
            let key = (t.clone(), id.clone());
            if !self.pending.holds(t, id) && !self.known.contains_key(&key) {
                self.known.insert(key, None);
                by_type.entry(t).or_default().push(id);
            }
        }
        for (t, mut ids) in by_type {
            ids.sort_unstable();
            for chunk in ids.chunks(ROWS_PER_INSERT) {
                let mut sql = Sql::new(self.dialect);
                sql.push("SELECT ")
                    .push(CURRENT_COLUMNS)
                    .push(", r.deleted FROM resources r WHERE r.res_type = ")
                    .bind(t);
                sql.push(" AND r.res_id IN (");
                for (n, id) in chunk.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*id);
                }
                sql.push(") ORDER BY r.res_id");
                lock_rows(&mut sql);
                for row in sql.query().fetch_all(&mut *self.tx).await? {
                    let current = current_from(&row)?;
                    let key = (current.1.resource_type.clone(), current.1.id.clone());
                    self.known.insert(key, Some(current));
                }
            }
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.flush().await?;
        self.flush_audit().await?;
        let written = self.written;
        let store = self.store.clone();
        let counter = self.store_written.clone();
        let terms = self.audit.take_terms();
        let tail = self.audit.tail_rows();
        self.tx.commit().await?;
        store.terms.learn(terms);
        store.tail_written(tail);
        // Statistics follow the data: after enough new index rows, SQLite's
        // planner is told again what the tables hold.
        let before = counter.fetch_add(written, Ordering::Relaxed);
        if before / OPTIMIZE_EVERY != (before + written) / OPTIMIZE_EVERY {
            store.optimize().await;
        }
        Ok(())
    }
}
