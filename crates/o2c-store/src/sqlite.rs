//! SQLite engine: one file, WAL, synchronous=FULL. Durability stays full; throughput comes from
//! sharing one commit between many requests (see `executor`).

use crate::sql::{Conn, DbError, Dialect, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub struct SqliteConn {
    conn: Connection,
}

impl SqliteConn {
    pub fn open(path: &Path, read_only: bool) -> Result<SqliteConn, DbError> {
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        // Lessons from the anchors: WAL always, a large page cache and fewer checkpoints; keep
        // synchronous=FULL so a 2xx means the order is on disk.
        conn.execute_batch(
            "PRAGMA busy_timeout = 10000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA cache_size = -65536;
             PRAGMA wal_autocheckpoint = 10000;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(map_err)?;
        Ok(SqliteConn { conn })
    }
}

/// `$1` → `?1`: SQLite numbers `$name` parameters by first appearance, `?N` by N. Swapping one
/// ASCII byte for another keeps the text valid UTF-8, so this is a copy and a byte scan.
fn translate(sql: &str) -> String {
    let mut bytes = sql.as_bytes().to_vec();
    let mut in_string = false;
    for i in 0..bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'$' if !in_string && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                bytes[i] = b'?'
            }
            _ => {}
        }
    }
    String::from_utf8(bytes).expect("ASCII for ASCII keeps UTF-8 valid")
}

fn map_err(e: rusqlite::Error) -> DbError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                DbError::UniqueViolation(e.to_string())
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                DbError::Retryable(e.to_string())
            }
            _ => DbError::Other(e.to_string()),
        },
        _ => DbError::Other(e.to_string()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        Ok(n as u64)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        let mut row = Row(Vec::with_capacity(width));
        while let Some(r) = rows.next().map_err(map_err)? {
            row.0.clear();
            for i in 0..width {
                row.0.push(match r.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            f(&row)?;
        }
        Ok(())
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(map_err)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match r.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_are_numbered_explicitly_outside_strings() {
        assert_eq!(
            translate("SELECT $2, $1, '$3' FROM t WHERE a = $10"),
            "SELECT ?2, ?1, '$3' FROM t WHERE a = ?10"
        );
    }
}
