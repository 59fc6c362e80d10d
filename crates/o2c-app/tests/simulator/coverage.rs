//! Coverage: what the cases reached, printed at the end so that a change of the op mix that
//! stops reaching (say) paid invoices shows.

use crate::ops::Op;
use o2c_app::Conn;
use o2c_store::params;
use std::collections::BTreeMap;
use std::sync::Mutex;

static TALLY: Mutex<BTreeMap<String, i64>> = Mutex::new(BTreeMap::new());

pub(crate) fn tally_n(what: String, n: i64) {
    *TALLY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(what)
        .or_default() += n;
}

pub(crate) fn tally(what: String) {
    tally_n(what, 1);
}

pub(crate) fn op_name(op: &Op) -> &'static str {
    match op {
        Op::PlaceOrder { .. } => "place order",
        Op::Settle => "settle",
        Op::Dispatch { .. } => "dispatch",
        Op::DispatchAgain { .. } => "dispatch again",
        Op::ReceiveStock { .. } => "receive stock",
        Op::RecordPayment { .. } => "record payment",
        Op::ApplyCash { .. } => "apply cash",
        Op::Cancel { .. } => "cancel",
        Op::Review { .. } => "credit review",
        Op::Amend { .. } => "amend",
        Op::Reopen { .. } => "reopen",
        Op::Copy { .. } => "copy",
        Op::Together(..) => "together",
    }
}

pub(crate) fn final_counts(conn: &mut dyn Conn) -> o2c_app::Result<Vec<(String, i64)>> {
    let mut out: Vec<(String, i64)> = conn
        .query(
            "SELECT status, COUNT(*) FROM orders GROUP BY status",
            params![],
        )?
        .iter()
        .map(|r| (format!("~ orders {} at the end", r.text(0)), r.int(1)))
        .collect();
    for r in conn.query(
        "SELECT payment_status, COUNT(*) FROM invoices GROUP BY payment_status",
        params![],
    )? {
        out.push((format!("~ invoices {} at the end", r.text(0)), r.int(1)));
    }
    let auto = conn.query_one(
        "SELECT COUNT(*) FROM payment_applications WHERE actor_kind = 'rule'",
        params![],
    )?;
    out.push(("~ applications by rule".into(), auto.int(0)));
    Ok(out)
}

pub(crate) fn print_tally() {
    let tally = std::mem::take(&mut *TALLY.lock().unwrap_or_else(|e| e.into_inner()));
    println!("coverage (all cases, shrinking included):");
    for (what, n) in tally {
        println!("  {what:<55} {n:>6}");
    }
}
