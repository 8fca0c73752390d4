//! One connection, SQLite or PostgreSQL, behind the few calls the store makes.
//! Every statement is written once, in SQL both dialects run, with SQLite's `?N`
//! placeholders (PostgreSQL's connection turns them into `$N`); parameters and
//! columns pass as a handful of plain values, so the queries above this file do
//! not know which database answers.

use super::postgres;
use super::{Result, StoreError};
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::borrow::Cow;

pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Conn),
}

/// Which SQL a statement that cannot be written once is spelled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement's parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
}

/// What can be bound to a statement.
pub trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Borrowed(self))
    }
}

impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Text(Cow::Borrowed(self))
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        self.as_ref().map_or(Param::Null, ToParam::to_param)
    }
}

macro_rules! int_params {
    ($($ty:ty),*) => {$(
        impl ToParam for $ty {
            fn to_param(&self) -> Param<'_> {
                // Both databases hold signed 64-bit integers; a larger count is
                // stored as the largest one, never wrapped negative.
                Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_params!(i64, i32, u32, u64, usize);

impl ToParam for bool {
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}

/// A statement's parameters: `params![a, b]` binds `a` to `?1` and `b` to `?2`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::db::ToParam::to_param(&$value)),*][..]
    };
}
pub(crate) use params;

/// No parameters.
pub const NONE: &[Param<'static>] = &[];

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::from(rusqlite::types::Null),
            Param::Int(n) => ToSqlOutput::from(*n),
            Param::Real(x) => ToSqlOutput::from(*x),
            Param::Text(text) => ToSqlOutput::from(text.as_ref()),
        })
    }
}

/// One column's value as either database returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub(super) Vec<Cell>);

impl Row {
    /// Column `index` as a `T`; a column of another type is an error naming both.
    pub fn get<T: FromCell>(&self, index: usize) -> Result<T> {
        let cell = self.0.get(index).unwrap_or(&Cell::Null);
        T::from_cell(cell).ok_or_else(|| StoreError::Decode {
            column: index,
            expected: T::WHAT,
            found: format!("{cell:?}"),
        })
    }
}

/// What a column can be read as.
pub trait FromCell: Sized {
    const WHAT: &'static str;
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl FromCell for String {
    const WHAT: &'static str = "text";
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl FromCell for i64 {
    const WHAT: &'static str = "an integer";
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl FromCell for f64 {
    const WHAT: &'static str = "a number";
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Real(x) => Some(*x),
            Cell::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}

macro_rules! unsigned_cells {
    ($($ty:ty),*) => {$(
        impl FromCell for $ty {
            const WHAT: &'static str = concat!("a whole number that fits ", stringify!($ty));
            fn from_cell(cell: &Cell) -> Option<Self> {
                i64::from_cell(cell).and_then(|n| <$ty>::try_from(n).ok())
            }
        }
    )*};
}
unsigned_cells!(u32, u64);

impl FromCell for bool {
    const WHAT: &'static str = "0 or 1";
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).map(|n| n != 0)
    }
}

/// A JSON column. Its declared type, `JSON`, gives it SQLite's numeric
/// affinity: a bare number's text is stored as that number, and read back so.
impl FromCell for serde_json::Value {
    const WHAT: &'static str = "JSON";
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Text(text) => serde_json::from_str(text).ok(),
            Cell::Int(n) => Some(serde_json::Value::from(*n)),
            Cell::Real(x) => serde_json::Number::from_f64(*x).map(serde_json::Value::Number),
            Cell::Null => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    const WHAT: &'static str = T::WHAT;
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            cell => T::from_cell(cell).map(Some),
        }
    }
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize> {
        match self {
            Db::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params))?),
            Db::Postgres(conn) => conn.execute(sql, params),
        }
    }

    /// Tells workers listening on this database that there is new work (an
    /// event, a metric sample). SQLite has no one to tell: its workers poll.
    pub fn announce_work(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(conn) => conn.batch(&format!("NOTIFY {}", postgres::WORK_CHANNEL)),
        }
    }

    /// Runs statements without parameters, one after another.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres(conn) => conn.batch(sql),
        }
    }

    /// Hands each row `sql` selects to `visit` until it answers false; rows are
    /// read as they are visited, never all held at once.
    pub fn each(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut visit: impl FnMut(Row) -> Result<bool>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let width = statement.column_count();
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                while let Some(row) = rows.next()? {
                    let cells = (0..width)
                        .map(|i| row.get_ref(i).map(sqlite_cell))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    if !visit(Row(cells))? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(conn) => conn.each(sql, params, visit),
        }
    }

    /// Every row `sql` selects, each mapped by `map`, collected.
    pub fn rows<T, C: FromIterator<T>>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut map: impl FnMut(&Row) -> Result<T>,
    ) -> Result<C> {
        let mut mapped = Vec::new();
        self.each(sql, params, |row| {
            mapped.push(map(&row)?);
            Ok(true)
        })?;
        Ok(mapped.into_iter().collect())
    }

    /// The first row `sql` selects, mapped by `map`; `None` when it selects none.
    pub fn row<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        map: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut first = None;
        self.each(sql, params, |row| {
            first = Some(row);
            Ok(false)
        })?;
        first.as_ref().map(map).transpose()
    }

    /// Begins a transaction that reads the database as it is at its first read
    /// (PostgreSQL: repeatable read), for reads across tables that must agree.
    pub fn snapshot(&self) -> Result<Tx<'_>> {
        if let Some(nested) = self.nested()? {
            return Ok(nested);
        }
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        })?;
        Ok(Tx {
            db: self,
            open: true,
            nested: false,
        })
    }

    /// Begins the transaction that the writes of several executions share
    /// (group commit), when this database commits them together: SQLite, where
    /// each commit takes the file's write lock. PostgreSQL (`false`) already
    /// groups the commits of its many connections, and a longer transaction
    /// would hold row locks other workers wait on. It holds the write lock from
    /// the start (`BEGIN IMMEDIATE`), so a write's own exclusive transaction
    /// inside it is a savepoint and still agrees with other processes.
    pub fn begin_shared(&self) -> Result<bool> {
        match self {
            Db::Sqlite(conn) => {
                super::when_not_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?;
                Ok(true)
            }
            Db::Postgres(_) => Ok(false),
        }
    }

    /// Whether the shared transaction of [`Db::begin_shared`] is open (only
    /// SQLite opens one; other transactions never outlive their `Tx`).
    pub fn in_shared(&self) -> bool {
        match self {
            Db::Sqlite(conn) => !conn.is_autocommit(),
            Db::Postgres(_) => false,
        }
    }

    /// Inside the shared transaction, a transaction is a savepoint: undone
    /// alone, committed with the rest.
    fn nested(&self) -> Result<Option<Tx<'_>>> {
        if !self.in_shared() {
            return Ok(None);
        }
        self.batch("SAVEPOINT wfc_nested")?;
        Ok(Some(Tx {
            db: self,
            open: true,
            nested: true,
        }))
    }

    /// Begins a transaction, rolled back unless committed. An `exclusive` one
    /// waits until no other exclusive transaction on the database is open
    /// (SQLite: `BEGIN IMMEDIATE`, the database's write lock; PostgreSQL: one
    /// transaction-scoped advisory lock), for read-then-write changes that
    /// processes sharing the store must agree on.
    pub fn begin(&self, exclusive: bool) -> Result<Tx<'_>> {
        if let Some(nested) = self.nested()? {
            return Ok(nested);
        }
        match (self, exclusive) {
            (Db::Sqlite(conn), true) => {
                super::when_not_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?
            }
            (Db::Sqlite(conn), false) => conn.execute_batch("BEGIN")?,
            (Db::Postgres(conn), exclusive) => conn.begin(exclusive)?,
        }
        Ok(Tx {
            db: self,
            open: true,
            nested: false,
        })
    }
}

fn sqlite_cell(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(x) => Cell::Real(x),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Cell::Text(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
pub struct Tx<'a> {
    db: &'a Db,
    open: bool,
    /// A savepoint inside an open transaction.
    nested: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.db.batch(if self.nested {
            "RELEASE wfc_nested"
        } else {
            "COMMIT"
        })
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves nothing to do: the connection's next
            // BEGIN reports the state, and PostgreSQL drops it with the session.
            let _ = self.db.batch(if self.nested {
                "ROLLBACK TO wfc_nested; RELEASE wfc_nested"
            } else {
                "ROLLBACK"
            });
        }
    }
}
