//! A write transaction: resource, version, index and access rows
//! together.

use super::*;

/// A transaction on the SQL store.
pub struct SqlWriter {
    pub(super) tx: Transaction<'static, Any>,
    pub(super) dialect: Dialect,
    /// Holds SQLite's writer queue until commit or drop.
    pub(super) _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Index rows written by this transaction.
    pub(super) written: u64,
    pub(super) store_written: Arc<AtomicU64>,
    pub(super) store: SqlStore,
}

/// Rows per multi-row INSERT: well inside both databases' limits on bound
/// parameters (SQLite 32,766; PostgreSQL 65,535) at six columns a row.
pub(super) const ROWS_PER_INSERT: usize = 500;

impl SqlWriter {
    async fn write_index(
        &mut self,
        rid: i64,
        rtype: &str,
        index: &[IndexEntry],
    ) -> Result<(), StoreError> {
        let d = self.dialect;
        for (table, name) in INDEX_TABLES {
            let rows: Vec<&IndexEntry> =
                index.iter().filter(|e| e.value.table() == table).collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut sql = Sql::new(d);
                sql.push("INSERT INTO ").push(name).push(match table {
                    Table::Token => " (rid, pid, system, code, text) VALUES ",
                    Table::Str => " (rid, pid, norm, exact) VALUES ",
                    Table::Uri => " (rid, pid, uri) VALUES ",
                    Table::Number => " (rid, pid, lo, hi, system, code) VALUES ",
                    Table::Date => " (rid, pid, lo, hi) VALUES ",
                    Table::Reference => " (rid, pid, ref_type, ref_id) VALUES ",
                });
                for (n, e) in chunk.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").bind(rid).push(", ");
                    sql.bind(param_id(rtype, &e.param));
                    match &e.value {
                        IndexValue::Token { system, code, text } => {
                            sql.push(", ").bind(Param::from(system.as_ref()));
                            sql.push(", ").bind(Param::from(code.as_ref()));
                            sql.push(", ").bind(Param::from(text.as_ref()));
                        }
                        IndexValue::Str { normalised, exact } => {
                            sql.push(", ").bind(normalised).push(", ").bind(exact);
                        }
                        IndexValue::Uri(u) => {
                            sql.push(", ").bind(u);
                        }
                        IndexValue::Number {
                            lo,
                            hi,
                            system,
                            code,
                        } => {
                            sql.push(", ").bind(*lo).push(", ").bind(*hi);
                            sql.push(", ").bind(Param::from(system.as_ref()));
                            sql.push(", ").bind(Param::from(code.as_ref()));
                        }
                        IndexValue::Date { lo, hi } => {
                            sql.push(", ").bind(lo).push(", ").bind(hi);
                        }
                        IndexValue::Reference { target_type, id } => {
                            sql.push(", ").bind(target_type).push(", ").bind(id);
                        }
                    }
                    sql.push(")");
                }
                sql.query().execute(&mut *self.tx).await?;
            }
        }
        self.written += index.len() as u64;
        Ok(())
    }

    /// Replaces the compartment and consent-grant rows of a resource.
    async fn write_access(
        &mut self,
        rid: i64,
        compartments: &[String],
        grants: &[Grant],
    ) -> Result<(), StoreError> {
        for table in ["compartments", "consent_grants"] {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ")
                .push(table)
                .push(" WHERE rid = ")
                .bind(rid);
            sql.query().execute(&mut *self.tx).await?;
        }
        for chunk in compartments.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(self.dialect);
            sql.push("INSERT INTO compartments (rid, patient_id) VALUES ");
            for (n, p) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(rid).push(", ").bind(p).push(")");
            }
            sql.query().execute(&mut *self.tx).await?;
        }
        for chunk in grants.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(self.dialect);
            sql.push("INSERT INTO consent_grants (rid, patient_id, permit, actor, purpose, class, start_at, end_at) VALUES ");
            for (n, g) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(rid).push(", ").bind(&g.patient);
                sql.push(", ").bind(i64::from(g.permit));
                sql.push(", ").bind(Param::from(g.actor.as_ref()));
                sql.push(", ").bind(Param::from(g.purpose.as_ref()));
                sql.push(", ").bind(Param::from(g.class.as_ref()));
                sql.push(", ").bind(&g.start);
                sql.push(", ").bind(Param::from(g.end.as_ref())).push(")");
            }
            sql.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

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

    async fn current_row(
        &mut self,
        rtype: &str,
        id: &str,
    ) -> Result<Option<(i64, Stored, bool)>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(CURRENT_COLUMNS)
            .push(", r.deleted FROM resources r WHERE r.res_type = ")
            .bind(rtype);
        sql.push(" AND r.res_id = ").bind(id);
        let Some(row) = sql.query().fetch_optional(&mut *self.tx).await? else {
            return Ok(None);
        };
        let rid: i64 = row.try_get("rid")?;
        let deleted: i32 = row
            .try_get::<i32, _>("deleted")
            .or_else(|_| row.try_get::<i64, _>("deleted").map(|d| d as i32))?;
        Ok(Some((rid, stored_from(&row, false)?, deleted != 0)))
    }
}

#[async_trait::async_trait]
impl Writer for SqlWriter {
    async fn create(
        &mut self,
        resource_type: &str,
        id: &str,
        new: NewVersion,
    ) -> Result<Stored, StoreError> {
        let when = now();
        let resource = stamp(new.resource, id, 1, &when);
        let content = resource.to_string();
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO resources (res_type, res_id, version, last_updated, deleted, content, source) VALUES (");
        sql.bind(resource_type).push(", ").bind(id).push(", 1, ");
        sql.bind(&when).push(", 0, ").bind(&content).push(", ");
        sql.bind(Param::from(new.source.as_ref()))
            .push(") RETURNING rid");
        let row = sql
            .query()
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("{resource_type}/{id}"))
                }
                other => other.into(),
            })?;
        let rid: i64 = row.try_get("rid")?;
        self.write_version(
            rid,
            resource_type,
            id,
            1,
            Some(&content),
            "POST",
            new.source.as_deref(),
            &when,
        )
        .await?;
        self.write_index(rid, resource_type, &new.index).await?;
        self.write_access(rid, &new.compartments, &new.grants)
            .await?;
        Ok(Stored {
            resource_type: resource_type.into(),
            id: id.into(),
            version: 1,
            last_updated: when,
            content: Some(Arc::from(content)),
            method: "POST".into(),
            source: new.source,
            compartments: new.compartments,
        })
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
            let mut s = self.create(resource_type, id, new).await?;
            s.method = "PUT".into();
            // The version row says how it was made.
            let mut sql = Sql::new(self.dialect);
            sql.push("UPDATE versions SET method = 'PUT' WHERE res_type = ")
                .bind(resource_type)
                .push(" AND res_id = ")
                .bind(id)
                .push(" AND version = 1");
            sql.query().execute(&mut *self.tx).await?;
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
        let content = resource.to_string();
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE resources SET version = ").bind(version);
        sql.push(", last_updated = ").bind(&when);
        sql.push(", deleted = 0, content = ").bind(&content);
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
        self.write_version(
            rid,
            resource_type,
            id,
            version,
            Some(&content),
            "PUT",
            new.source.as_deref(),
            &when,
        )
        .await?;
        self.clear_index(rid).await?;
        self.write_index(rid, resource_type, &new.index).await?;
        self.write_access(rid, &new.compartments, &new.grants)
            .await?;
        Ok((
            Stored {
                resource_type: resource_type.into(),
                id: id.into(),
                version,
                last_updated: when,
                content: Some(Arc::from(content)),
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

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let written = self.written;
        let store = self.store.clone();
        let counter = self.store_written.clone();
        self.tx.commit().await?;
        // Statistics follow the data: after enough new index rows, SQLite's
        // planner is told again what the tables hold.
        let before = counter.fetch_add(written, Ordering::Relaxed);
        if before / OPTIMIZE_EVERY != (before + written) / OPTIMIZE_EVERY {
            store.optimize().await;
        }
        Ok(())
    }
}
