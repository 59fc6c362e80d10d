//! The SQL port both engines implement: positional `$1` parameters, three value types
//! (integer, text, null), rows decoded by position. Keeping the type set this small is what lets
//! one schema and one set of queries run on SQLite and PostgreSQL alike.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).expect("fits in i64"))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter slice: `params![id, 3_i64, name]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::Value] };
    ($($v:expr),+ $(,)?) => { &[$($crate::Value::from($v)),+] as &[$crate::Value] };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Value::Int(v) => *v,
            Value::Text(t) => t
                .parse()
                .unwrap_or_else(|_| panic!("column {i}: expected an integer, got {t:?}")),
            Value::Null => panic!("column {i}: expected an integer, got NULL"),
        }
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match &self.0[i] {
            Value::Null => None,
            _ => Some(self.int(i)),
        }
    }
    pub fn text(&self, i: usize) -> String {
        match &self.0[i] {
            Value::Text(t) => t.clone(),
            Value::Int(v) => v.to_string(),
            Value::Null => panic!("column {i}: expected text, got NULL"),
        }
    }
    /// A text column borrowed, for scans that only look at it (None for NULL or a number).
    pub fn str(&self, i: usize) -> Option<&str> {
        match &self.0[i] {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match &self.0[i] {
            Value::Null => None,
            _ => Some(self.text(i)),
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// A unique or primary-key constraint refused the write (a concurrent duplicate).
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Deadlock, serialization failure or a busy database: running the work again may succeed.
    #[error("transient conflict: {0}")]
    Retryable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    /// Worth re-running the job from its savepoint: a concurrent writer got there first.
    pub fn is_conflict(&self) -> bool {
        matches!(self, DbError::UniqueViolation(_) | DbError::Retryable(_))
    }
}

/// One connection of either engine. Work in o2c is written against this trait only.
pub trait Conn {
    fn dialect(&self) -> Dialect;
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Several statements without parameters (DDL, BEGIN/COMMIT).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;

    /// Calls `f` with each row as it is read, without holding the whole result: for scans of
    /// large tables. Engines that cannot stream read the result first.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        for r in self.query(sql, params)? {
            f(&r)?;
        }
        Ok(())
    }
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::Other(format!("expected one row from: {sql}")))
    }
    /// ` FOR UPDATE` on PostgreSQL, nothing on SQLite (whose single writer already serializes).
    fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
    /// Inserts many rows with multi-row VALUES, in chunks: one round trip per chunk, not per row.
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let per_chunk = (30_000 / columns.len()).clamp(1, 500);
        for chunk in rows.chunks(per_chunk) {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let mut params = Vec::with_capacity(chunk.len() * columns.len());
            for (r, row) in chunk.iter().enumerate() {
                assert_eq!(
                    row.len(),
                    columns.len(),
                    "row width must match the columns of {table}"
                );
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for (c, v) in row.iter().enumerate() {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    params.push(v.clone());
                    sql.push_str(&format!("${}", params.len()));
                }
                sql.push(')');
            }
            self.execute(&sql, &params)?;
        }
        Ok(())
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        })
    }
}
