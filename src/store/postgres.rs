//! The PostgreSQL connection behind [`super::db::Db`]: tokio-postgres with a
//! deadpool pool per database URL, driven by one runtime thread of its own, so the
//! store's synchronous calls work alike from the CLI, from blocking threads and
//! from the engine's tokio workers (which hand their other tasks off first).

use super::db::{Cell, Param, Row};
use super::migrate::{no_live_older_workers, Upgrade, WORKERS_SINCE};
use super::{schema, Result, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::executor::block_on;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::NoTls;

/// Connections each process keeps per database at most: a server's engine,
/// dispatcher and HTTP requests share them.
const POOL_SIZE: usize = 16;

/// The advisory lock of exclusive transactions (migrations, breaker changes):
/// a constant every wfc agrees on ("wfc" in ASCII, then 1).
const EXCLUSIVE_LOCK: i64 = 0x0077_6663_0001;

/// A pooled connection, held for the life of one `Store` (a server's engine,
/// dispatcher and heartbeat hold theirs for the life of the process). One that
/// broke (a database restart, a killed backend) is replaced from the pool before
/// the next statement, unless a transaction was open on it: that transaction is
/// lost, and its next statement fails rather than run outside it.
pub struct Conn {
    url: String,
    read_only: bool,
    client: Mutex<Arc<deadpool_postgres::Object>>,
    in_transaction: AtomicBool,
}

/// The runtime that runs every connection's I/O, started on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wfc-postgres")
            .enable_all()
            .build()
            .expect("a thread for PostgreSQL's connections")
    })
}

/// Runs `wait`, which blocks on the database: on a tokio worker thread, after
/// handing that worker's other tasks to another thread.
fn blocking<T>(wait: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

fn pool(url: &str, read_only: bool) -> Result<Pool> {
    static POOLS: OnceLock<Mutex<HashMap<(String, bool), Pool>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&(url.to_string(), read_only)) {
        return Ok(pool.clone());
    }
    let mut config: tokio_postgres::Config = url.parse().map_err(|error| StoreError::Connect {
        location: super::Location::redacted(url),
        reason: format!("{error}"),
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("wfc");
    }
    if read_only {
        // Commands that only look cannot write, whatever they run.
        let options = config.get_options().unwrap_or_default().to_string();
        config.options(format!("{options} -c default_transaction_read_only=on").trim());
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .map_err(|error| StoreError::Connect {
            location: super::Location::redacted(url),
            reason: error.to_string(),
        })?;
    pools.insert((url.to_string(), read_only), pool.clone());
    Ok(pool)
}

impl Conn {
    /// A connection to the database at `url` from this process's pool.
    pub fn connect(url: &str, read_only: bool) -> Result<Conn> {
        Ok(Conn {
            url: url.to_string(),
            read_only,
            client: Mutex::new(Arc::new(pooled(url, read_only)?)),
            in_transaction: AtomicBool::new(false),
        })
    }

    /// The connection to use now: the one held, or a new one if it broke.
    fn client(&self) -> Result<Arc<deadpool_postgres::Object>> {
        let mut held = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_closed() {
            if self.in_transaction.load(Ordering::Relaxed) {
                return Err(StoreError::Postgres(
                    "the connection was lost inside a transaction, which is rolled back".into(),
                ));
            }
            *held = Arc::new(pooled(&self.url, self.read_only)?);
        }
        Ok(held.clone())
    }
}

/// A connection from the pool of the database at `url`.
fn pooled(url: &str, read_only: bool) -> Result<deadpool_postgres::Object> {
    let pool = pool(url, read_only)?;
    let got = blocking(|| block_on(runtime().spawn(async move { pool.get().await })));
    got.map_err(|error| StoreError::Connect {
        location: super::Location::redacted(url),
        reason: error.to_string(),
    })?
    .map_err(|error| StoreError::Connect {
        location: super::Location::redacted(url),
        reason: match error {
            deadpool_postgres::PoolError::Backend(error) => describe(&error),
            other => other.to_string(),
        },
    })
}

impl Conn {
    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize> {
        let sql = placeholders(sql);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let client = self.client()?;
        blocking(|| {
            block_on(async {
                let statement = client.prepare_cached(&sql).await?;
                client.execute(&statement, &refs).await
            })
        })
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .map_err(StoreError::from)
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        let ends = matches!(sql, "COMMIT" | "ROLLBACK");
        // A transaction ends here whether or not the statement reaches the server.
        let client = self.client().inspect_err(|_| {
            if ends {
                self.in_transaction.store(false, Ordering::Relaxed);
            }
        })?;
        let done = blocking(|| block_on(client.batch_execute(sql))).map_err(StoreError::from);
        if ends {
            self.in_transaction.store(false, Ordering::Relaxed);
        } else if sql == "BEGIN" {
            self.in_transaction.store(done.is_ok(), Ordering::Relaxed);
        }
        done
    }

    pub fn each(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut visit: impl FnMut(Row) -> Result<bool>,
    ) -> Result<()> {
        let sql = placeholders(sql);
        let client = self.client()?;
        blocking(|| {
            let statement = block_on(client.prepare_cached(&sql))?;
            let rows = block_on(client.query_raw(&statement, params.iter()))?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = block_on(rows.next()) {
                if !visit(Row(cells(&row?)?))? {
                    break;
                }
            }
            Ok(())
        })
    }

    pub fn begin(&self, exclusive: bool) -> Result<()> {
        self.batch("BEGIN")?;
        if exclusive {
            self.execute(
                "SELECT pg_advisory_xact_lock(?1)",
                &[Param::Int(EXCLUSIVE_LOCK)],
            )?;
        }
        Ok(())
    }
}

/// The channel on which a new event or metric sample is announced, so idle
/// workers look at once instead of at their next tick.
pub const WORK_CHANNEL: &str = "wfc_work";

/// Calls `wake` whenever anyone announces work on the database at `url`, for the
/// life of the process: one listening connection, opened again a second after
/// it is lost.
pub fn listen(url: &str, wake: impl Fn() + Send + Sync + 'static) -> Result<()> {
    let config: tokio_postgres::Config = url.parse().map_err(|error| StoreError::Connect {
        location: super::Location::redacted(url),
        reason: format!("{error}"),
    })?;
    let wake = std::sync::Arc::new(wake);
    runtime().spawn(async move {
        loop {
            if let Ok((client, mut connection)) = config.connect(NoTls).await {
                let woken = wake.clone();
                let pump = tokio::spawn(async move {
                    let mut messages =
                        futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(Ok(message)) = messages.next().await {
                        if let tokio_postgres::AsyncMessage::Notification(_) = message {
                            woken();
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {WORK_CHANNEL}"))
                    .await
                    .is_ok()
                {
                    // Notifications sent while no one listened were missed:
                    // look once now.
                    wake();
                    let _ = pump.await;
                } else {
                    pump.abort();
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(())
}

/// `?N` → `$N`: the store writes SQLite's placeholders. (No statement of the
/// store has a `?` inside a string literal.)
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn cells(row: &tokio_postgres::Row) -> Result<Vec<Cell>> {
    let cell = |index: usize, ty: &Type| -> std::result::Result<Cell, StoreError> {
        let cell = match *ty {
            Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Cell::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)?
                .map(|n| Cell::Int(n.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)?
                .map(|n| Cell::Int(n.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)?
                .map(|b| Cell::Int(b.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(Cell::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(index)?
                .map(|x| Cell::Real(x.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                row.try_get::<_, Option<String>>(index)?.map(Cell::Text)
            }
            _ => {
                return Err(StoreError::Decode {
                    column: index,
                    expected: "a column type wfc reads",
                    found: ty.name().to_string(),
                })
            }
        };
        Ok(cell.unwrap_or(Cell::Null))
    };
    row.columns()
        .iter()
        .enumerate()
        .map(|(index, column)| cell(index, column.type_()))
        .collect()
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => n.to_string().as_str().to_sql(ty, out),
            },
            Param::Real(x) => match *ty {
                Type::FLOAT8 => x.to_sql(ty, out),
                Type::FLOAT4 => (*x as f32).to_sql(ty, out),
                _ => x.to_string().as_str().to_sql(ty, out),
            },
            Param::Text(text) => text.as_ref().to_sql(ty, out),
        }
    }

    /// The server infers each parameter's type from the statement; every value
    /// converts to what it asks for (or fails with the reason).
    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A PostgreSQL error with the server's own words when it sent some.
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                let cause = cause.to_string();
                if !text.contains(&cause) {
                    text = format!("{text}: {cause}");
                }
                source = cause_of(source);
            }
            text
        }
    }
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> StoreError {
        StoreError::Postgres(describe(&error))
    }
}

/// SQLite's migrations as PostgreSQL runs them: the same statements, with
/// SQLite's type names spelled as PostgreSQL's (text stays text: JSON and
/// timestamps are stored as the same strings in both).
fn ddl(migration: &str) -> String {
    migration
        .replace(
            "INTEGER PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace("INTEGER", "BIGINT")
        .replace(" REAL", " DOUBLE PRECISION")
        .replace(" JSON", " TEXT")
        .replace(" DATETIME", " TEXT")
        .replace(") WITHOUT ROWID", ")")
}

/// The schema version recorded in `wfc_schema`; 0 for a database wfc has not
/// touched. Refuses a database with wfc's tables but no version (not wfc's).
pub fn schema_version(conn: &Conn, location: &super::Location) -> Result<i64> {
    let mut found = (false, false);
    conn.each(
        // pg_tables, not to_regclass: a catalog cache not refreshed since
        // another process's migration committed (an advisory lock does not
        // refresh it) would not see its tables, and migrate again.
        "SELECT COUNT(CASE WHEN tablename = 'wfc_schema' THEN 1 END) > 0,
                COUNT(CASE WHEN tablename = 'executions' THEN 1 END) > 0
         FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
        &[],
        |row| {
            found = (row.get(0)?, row.get(1)?);
            Ok(false)
        },
    )?;
    match found {
        (true, _) => {
            let mut version = 0;
            conn.each("SELECT MAX(version) FROM wfc_schema", &[], |row| {
                version = row.get::<Option<i64>>(0)?.unwrap_or(0);
                Ok(false)
            })?;
            Ok(version)
        }
        (false, true) => Err(StoreError::Foreign(location.clone())),
        (false, false) => Ok(0),
    }
}

/// Brings the database to the latest schema under the exclusive lock, so workers
/// starting together migrate once between them; says from which it came.
pub fn to_latest(conn: &Conn, location: &super::Location) -> Result<Upgrade> {
    let latest = schema::MIGRATIONS.len() as i64;
    let at_latest = Upgrade {
        from: latest,
        to: latest,
    };
    // Versions only grow: a database already at the latest needs no lock (every
    // command and HTTP request opens the store; they must not queue on it).
    if schema_version(conn, location)? == latest {
        return Ok(at_latest);
    }
    conn.begin(true)?;
    let migrated = (|| {
        let current = schema_version(conn, location)?;
        if current > latest {
            return Err(StoreError::TooNew {
                path: location.clone(),
                found: current,
                known: latest,
            });
        }
        if current == latest {
            return Ok(at_latest);
        }
        if current >= WORKERS_SINCE {
            let mut workers = Vec::new();
            conn.each("SELECT host, pid, lease_until FROM workers", &[], |row| {
                workers.push((row.get(0)?, row.get(1)?, row.get(2)?));
                Ok(true)
            })?;
            no_live_older_workers(location, current, &workers)?;
        }
        conn.batch("CREATE TABLE IF NOT EXISTS wfc_schema (version BIGINT NOT NULL)")?;
        for migration in &schema::MIGRATIONS[current as usize..] {
            conn.batch(&ddl(migration.sql))?;
        }
        conn.execute("DELETE FROM wfc_schema", &[])?;
        conn.execute(
            "INSERT INTO wfc_schema (version) VALUES (?1)",
            &[Param::Int(latest)],
        )?;
        Ok(Upgrade {
            from: current,
            to: latest,
        })
    })();
    conn.batch(if migrated.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    })?;
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars() {
        assert_eq!(
            placeholders("SELECT ?1, ?12 FROM t WHERE a = ?2 AND b LIKE '?'"),
            "SELECT $1, $12 FROM t WHERE a = $2 AND b LIKE '?'"
        );
    }

    #[test]
    fn migrations_translate_to_postgres_types() {
        let table = ddl(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, j JSON) WITHOUT ROWID;",
        );
        assert_eq!(
            table,
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, j TEXT);"
        );
    }
}
