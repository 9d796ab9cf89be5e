//! The subscription outbox on the SQL store: `subscriptions` (each
//! subscription's state, with a delivery lease so that two processes never
//! deliver one subscription at once) and `subscription_events` (raised in
//! the transaction of the change that raised them).

use super::*;
use crate::store::{EventRow, SubscriptionRow, SubscriptionStore};

const SUB_COLUMNS: &str = "id, topic, filters, status, owner, purposes, endpoint, headers, content, heartbeat, timeout, max_count, events, failures, next_attempt, last_sent, error, client_id";

fn int(row: &AnyRow, col: &str) -> Result<i64, StoreError> {
    row.try_get::<i64, _>(col)
        .or_else(|_| row.try_get::<i32, _>(col).map(i64::from))
        .map_err(StoreError::from)
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn subscription_from(row: &AnyRow) -> Result<SubscriptionRow, StoreError> {
    Ok(SubscriptionRow {
        id: row.try_get("id")?,
        topic: row.try_get("topic")?,
        filters: list(&row.try_get::<String, _>("filters")?),
        status: row.try_get("status")?,
        owner: row.try_get("owner")?,
        purposes: row
            .try_get::<String, _>("purposes")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        endpoint: row.try_get("endpoint")?,
        headers: list(&row.try_get::<String, _>("headers")?),
        content: row.try_get("content")?,
        heartbeat: row.try_get::<Option<i64>, _>("heartbeat").ok().flatten(),
        timeout: int(row, "timeout")?,
        max_count: int(row, "max_count")?,
        events: int(row, "events")?,
        failures: int(row, "failures")?,
        next_attempt: row.try_get("next_attempt")?,
        last_sent: row.try_get("last_sent")?,
        error: row.try_get("error")?,
        client_id: row.try_get("client_id")?,
    })
}

fn event_from(row: &AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        subscription: row.try_get("sub_id")?,
        number: int(row, "number")?,
        topic: row.try_get("topic")?,
        focus: (
            row.try_get("focus_type")?,
            row.try_get("focus_id")?,
            int(row, "focus_version")?,
        ),
        at: row.try_get("at")?,
        state: int(row, "state")?,
    })
}

/// The outbox writes of a transaction ([`Writer`]'s subscription methods).
impl SqlWriter {
    pub(super) async fn put_subscription_row(
        &mut self,
        r: &SubscriptionRow,
    ) -> Result<(), StoreError> {
        let d = self.dialect;
        let mut exists = Sql::new(d);
        exists
            .push("SELECT status FROM subscriptions WHERE id = ")
            .bind(&r.id);
        let found = exists.query().fetch_optional(&mut *self.tx).await?;
        let filters = serde_json::to_string(&r.filters).unwrap_or_default();
        let headers = serde_json::to_string(&r.headers).unwrap_or_default();
        let heartbeat = r.heartbeat.map(Param::Int).unwrap_or(Param::NullInt);
        let error = r
            .error
            .as_ref()
            .map(|e| Param::Text(e.clone()))
            .unwrap_or(Param::Null);
        let mut sql = Sql::new(d);
        if found.is_some() {
            // The configuration changes; the count and delivery state stay
            // (a new status starts delivery afresh).
            sql.push("UPDATE subscriptions SET topic = ").bind(&r.topic);
            sql.push(", filters = ").bind(&filters);
            sql.push(", status = ").bind(&r.status);
            sql.push(", owner = ").bind(Param::from(r.owner.as_ref()));
            sql.push(", purposes = ")
                .bind(r.purposes.join(" ").as_str());
            sql.push(", endpoint = ").bind(&r.endpoint);
            sql.push(", headers = ").bind(&headers);
            sql.push(", content = ").bind(&r.content);
            sql.push(", heartbeat = ").bind(heartbeat);
            sql.push(", timeout = ").bind(r.timeout);
            sql.push(", max_count = ").bind(r.max_count);
            sql.push(", error = ").bind(error);
            sql.push(", client_id = ")
                .bind(Param::from(r.client_id.as_ref()));
            sql.push(", failures = 0, next_attempt = ")
                .bind(&r.next_attempt);
            sql.push(" WHERE id = ").bind(&r.id);
        } else {
            sql.push("INSERT INTO subscriptions (")
                .push(SUB_COLUMNS)
                .push(") VALUES (");
            sql.bind(&r.id)
                .push(", ")
                .bind(&r.topic)
                .push(", ")
                .bind(&filters)
                .push(", ");
            sql.bind(&r.status)
                .push(", ")
                .bind(Param::from(r.owner.as_ref()))
                .push(", ");
            sql.bind(r.purposes.join(" ").as_str())
                .push(", ")
                .bind(&r.endpoint)
                .push(", ");
            sql.bind(&headers)
                .push(", ")
                .bind(&r.content)
                .push(", ")
                .bind(heartbeat)
                .push(", ");
            sql.bind(r.timeout)
                .push(", ")
                .bind(r.max_count)
                .push(", 0, 0, ");
            sql.bind(&r.next_attempt)
                .push(", NULL, ")
                .bind(error)
                .push(", ")
                .bind(Param::from(r.client_id.as_ref()))
                .push(")");
        }
        sql.query().execute(&mut *self.tx).await?;
        Ok(())
    }

    pub(super) async fn remove_subscription_row(&mut self, id: &str) -> Result<(), StoreError> {
        for table in [
            "subscription_events WHERE sub_id = ",
            "subscriptions WHERE id = ",
        ] {
            let mut sql = Sql::new(self.dialect);
            sql.push("DELETE FROM ").push(table).bind(id);
            sql.query().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    pub(super) async fn subscriptions_listening(
        &mut self,
        topics: &[String],
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(SUB_COLUMNS)
            .push(" FROM subscriptions WHERE status <> 'off' AND topic IN (");
        for (n, t) in topics.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            sql.bind(t);
        }
        sql.push(")");
        sql.query()
            .fetch_all(&mut *self.tx)
            .await?
            .iter()
            .map(subscription_from)
            .collect()
    }

    pub(super) async fn raise_event(
        &mut self,
        sub: &str,
        topic: &str,
        focus: (&str, &str, i64),
        at: &str,
    ) -> Result<i64, StoreError> {
        // The counter's row is locked by this update until commit, so
        // concurrent transactions number their events one after another.
        let mut bump = Sql::new(self.dialect);
        bump.push("UPDATE subscriptions SET events = events + 1 WHERE id = ")
            .bind(sub)
            .push(" RETURNING events");
        let row = bump.query().fetch_one(&mut *self.tx).await?;
        let number = int(&row, "events")?;
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO subscription_events (sub_id, number, topic, focus_type, focus_id, focus_version, at, state) VALUES (");
        sql.bind(sub)
            .push(", ")
            .bind(number)
            .push(", ")
            .bind(topic)
            .push(", ");
        sql.bind(focus.0)
            .push(", ")
            .bind(focus.1)
            .push(", ")
            .bind(focus.2)
            .push(", ");
        sql.bind(at).push(", 0)");
        sql.query().execute(&mut *self.tx).await?;
        Ok(number)
    }
}

#[async_trait::async_trait]
impl SubscriptionStore for SqlStore {
    async fn subscription(&self, id: &str) -> Result<Option<SubscriptionRow>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(SUB_COLUMNS)
            .push(" FROM subscriptions WHERE id = ")
            .bind(id);
        sql.query()
            .fetch_optional(&self.pool)
            .await?
            .map(|r| subscription_from(&r))
            .transpose()
    }

    async fn due_subscriptions(&self, now: &str) -> Result<Vec<SubscriptionRow>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(SUB_COLUMNS)
            .push(" FROM subscriptions s WHERE s.status <> 'off' AND s.next_attempt <= ")
            .bind(now);
        sql.push(" AND (s.lease_until IS NULL OR s.lease_until < ")
            .bind(now)
            .push(")");
        sql.push(" AND (s.status = 'requested' OR s.heartbeat IS NOT NULL OR EXISTS (SELECT 1 FROM subscription_events e WHERE e.sub_id = s.id AND e.state = 0))");
        sql.push(" ORDER BY s.next_attempt LIMIT 100");
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(subscription_from)
            .collect()
    }

    async fn lease(
        &self,
        id: &str,
        owner: &str,
        now: &str,
        until: &str,
    ) -> Result<bool, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE subscriptions SET lease_owner = ")
            .bind(owner);
        sql.push(", lease_until = ").bind(until);
        sql.push(" WHERE id = ").bind(id);
        sql.push(" AND (lease_until IS NULL OR lease_until < ")
            .bind(now)
            .push(")");
        Ok(sql.query().execute(&self.pool).await?.rows_affected() == 1)
    }

    async fn events(
        &self,
        id: &str,
        since: i64,
        until: Option<i64>,
        waiting: bool,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT sub_id, number, topic, focus_type, focus_id, focus_version, at, state FROM subscription_events WHERE sub_id = ")
            .bind(id);
        sql.push(" AND number >= ").bind(since);
        if let Some(u) = until {
            sql.push(" AND number <= ").bind(u);
        }
        if waiting {
            sql.push(" AND state = 0");
        }
        sql.push(" ORDER BY number LIMIT ").bind(limit.max(0));
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_from)
            .collect()
    }

    async fn finish_delivery(
        &self,
        r: &SubscriptionRow,
        delivered: &[i64],
        withheld: &[i64],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (state, numbers) in [(1i64, delivered), (2, withheld)] {
            for chunk in numbers.chunks(200) {
                let mut sql = Sql::new(self.dialect);
                sql.push("UPDATE subscription_events SET state = ")
                    .bind(state);
                sql.push(" WHERE sub_id = ")
                    .bind(&r.id)
                    .push(" AND number IN (");
                for (n, num) in chunk.iter().enumerate() {
                    if n > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*num);
                }
                sql.push(")");
                sql.query().execute(&mut *tx).await?;
            }
        }
        let mut sql = Sql::new(self.dialect);
        sql.push("UPDATE subscriptions SET status = ")
            .bind(&r.status);
        sql.push(", failures = ").bind(r.failures);
        sql.push(", next_attempt = ").bind(&r.next_attempt);
        sql.push(", last_sent = ")
            .bind(Param::from(r.last_sent.as_ref()));
        sql.push(", error = ").bind(Param::from(r.error.as_ref()));
        sql.push(", lease_owner = NULL, lease_until = NULL WHERE id = ")
            .bind(&r.id);
        sql.query().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
