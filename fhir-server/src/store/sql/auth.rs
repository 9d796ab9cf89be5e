//! The [`AuthStore`] of the SQL store: tables `auth_clients`, `auth_jti`
//! and `auth_keys` in the same database as the resources.

use sqlx::Row;

use super::*;
use crate::store::{AuthStore, ClientRecord};

fn record(row: &sqlx::any::AnyRow) -> Result<ClientRecord, StoreError> {
    Ok(ClientRecord {
        id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        organisation: row.try_get("ods")?,
        role: row.try_get("role")?,
        scopes: row.try_get("scopes")?,
        purposes: row.try_get("purposes")?,
        jwks: row.try_get("jwks")?,
    })
}

const COLUMNS: &str = "client_id, name, ods, role, scopes, purposes, jwks";

#[async_trait::async_trait]
impl AuthStore for SqlStore {
    async fn put_client(&self, c: &ClientRecord) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let mut del = Sql::new(self.dialect);
        del.push("DELETE FROM auth_clients WHERE client_id = ")
            .bind(&c.id);
        del.query().execute(&mut *tx).await?;
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO auth_clients (")
            .push(COLUMNS)
            .push(") VALUES (");
        for (n, v) in [
            &c.id,
            &c.name,
            &c.organisation,
            &c.role,
            &c.scopes,
            &c.purposes,
            &c.jwks,
        ]
        .into_iter()
        .enumerate()
        {
            if n > 0 {
                sql.push(", ");
            }
            sql.bind(v);
        }
        sql.push(")");
        sql.query().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(COLUMNS)
            .push(" FROM auth_clients WHERE client_id = ")
            .bind(id);
        sql.query()
            .fetch_optional(&self.pool)
            .await?
            .map(|r| record(&r))
            .transpose()
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("SELECT ")
            .push(COLUMNS)
            .push(" FROM auth_clients ORDER BY client_id");
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let mut sql = Sql::new(self.dialect);
        sql.push("DELETE FROM auth_clients WHERE client_id = ")
            .bind(id);
        Ok(sql.query().execute(&self.pool).await?.rows_affected() > 0)
    }

    async fn use_jti(&self, client: &str, jti: &str, expires: i64) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().timestamp();
        let mut tx = self.write_tx().await?;
        let mut old = Sql::new(self.dialect);
        old.push("DELETE FROM auth_jti WHERE expires_at < ")
            .bind(now);
        old.query().execute(&mut *tx).await?;
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO auth_jti (client_id, jti, expires_at) VALUES (")
            .bind(client)
            .push(", ")
            .bind(jti)
            .push(", ")
            .bind(expires)
            .push(")");
        match sql.query().execute(&mut *tx).await {
            Ok(_) => {
                tx.commit().await?;
                Ok(true)
            }
            // The primary key says it was used: a replay.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn signing_key(
        &self,
        make: &(dyn Fn() -> (String, String) + Send + Sync),
    ) -> Result<(String, String), StoreError> {
        let read = || async {
            let row =
                sqlx::query("SELECT private_pem, public_jwk FROM auth_keys WHERE name = 'server'")
                    .fetch_optional(&self.pool)
                    .await?;
            Ok::<_, StoreError>(match row {
                Some(r) => Some((r.try_get("private_pem")?, r.try_get("public_jwk")?)),
                None => None,
            })
        };
        if let Some(k) = read().await? {
            return Ok(k);
        }
        let (pem, jwk) = make();
        let mut sql = Sql::new(self.dialect);
        sql.push("INSERT INTO auth_keys (name, private_pem, public_jwk) VALUES ('server', ")
            .bind(&pem)
            .push(", ")
            .bind(&jwk)
            .push(")");
        match sql.query().execute(&self.pool).await {
            Ok(_) => Ok((pem, jwk)),
            // Another process made it first: use theirs.
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => read()
                .await?
                .ok_or_else(|| StoreError::Database("the signing key vanished".into())),
            Err(e) => Err(e.into()),
        }
    }
}
