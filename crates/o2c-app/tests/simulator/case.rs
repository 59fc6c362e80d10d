//! One case: a fresh store, the world, the ops with a check after each, a final settle.

use crate::coverage::{final_counts, op_name, tally, tally_n};
use crate::invariants::{fingerprint, settled_violations, violations};
use crate::ops::{Op, View, read_view};
use crate::setup::{World, setup};
use crate::steps::{Expect, Step, run_op};
use o2c_app::testing::{Engine, TestStore};
use o2c_app::{App, AppError};
use o2c_core::DomainError;
use proptest::test_runner::TestCaseError;

pub(crate) fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

fn db(e: AppError) -> TestCaseError {
    fail(format!("store error while checking: {e}"))
}

fn judge(
    n: usize,
    op: &Op,
    step: Step,
    before: &[(&str, String)],
    after: &[(&str, String)],
) -> Result<(), TestCaseError> {
    let at = format!("op #{n} {op:?} ({})", step.did);
    match (step.expect, step.result) {
        (Expect::Success, Ok(())) => Ok(()),
        (Expect::Refused(code), Err(AppError::Domain(e))) if e.code() == code => {
            let changed: Vec<String> = before
                .iter()
                .zip(after)
                .filter(|(b, a)| b.1 != a.1)
                .map(|(b, a)| format!("{}: {} -> {}", b.0, b.1, a.1))
                .collect();
            if changed.is_empty() {
                Ok(())
            } else {
                Err(fail(format!(
                    "{at} was refused ({e}) but changed state: {changed:?}"
                )))
            }
        }
        (Expect::Refused(code), Ok(())) => Err(fail(format!(
            "{at} succeeded, but must be refused with `{code}`"
        ))),
        (Expect::Refused(code), Err(e)) => Err(fail(format!(
            "{at} must be refused with `{code}`, got `{}`: {e}",
            code_of(&e)
        ))),
        (Expect::Success, Err(e)) => Err(fail(format!(
            "{at} must succeed, got `{}`: {e}",
            code_of(&e)
        ))),
    }
}

/// A racing op may lose to the other one (a rule refuses it), but the store must never fail.
fn judge_racing(n: usize, op: &Op, step: Step) -> Result<(), TestCaseError> {
    match step.result {
        Ok(()) | Err(AppError::Domain(_)) => Ok(()),
        Err(e) => Err(fail(format!(
            "op #{n} {op:?} ({}) raced and failed with `{}`: {e}",
            step.did,
            code_of(&e)
        ))),
    }
}

fn code_of(e: &AppError) -> &'static str {
    match e {
        AppError::Domain(d) => DomainError::code(d),
        AppError::Db(_) => "database error",
        AppError::Internal(_) => "internal error",
    }
}

fn report(at: &str, broken: Vec<String>) -> Result<(), TestCaseError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("after {at}:\n  - {}", broken.join("\n  - "))))
    }
}

/// Runs `op` (both halves of a `Together` at once); empty when there was nothing to act on.
async fn run_steps<'a>(
    app: &App,
    world: &World,
    view: &View,
    op: &'a Op,
    n: usize,
) -> Vec<(&'a Op, Step)> {
    match op {
        Op::Together(a, b) => {
            let (sa, sb) = tokio::join!(
                run_op(app, world, view, a, n),
                run_op(app, world, view, b, n)
            );
            [(&**a, sa), (&**b, sb)]
                .into_iter()
                .filter_map(|(o, s)| Some((o, s?)))
                .collect()
        }
        _ => run_op(app, world, view, op, n)
            .await
            .map(|s| vec![(op, s)])
            .unwrap_or_default(),
    }
}

pub(crate) async fn run_case(engine: Engine, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = TestStore::new(engine).expect("the engine is available");
    let app = store
        .app()
        .map_err(|e| fail(format!("open the store: {e}")))?;
    let world = setup(&app).await?;
    report("setup", app.read(violations).await.map_err(db)?)?;
    for (n, op) in ops.iter().enumerate() {
        let (view, before) = app
            .read(|conn| Ok((read_view(conn)?, fingerprint(conn)?)))
            .await
            .map_err(db)?;
        let steps = run_steps(&app, &world, &view, op, n).await;
        if steps.is_empty() {
            tally(format!("{} -> nothing to act on", op_name(op)));
            continue;
        }
        let did: Vec<&str> = steps.iter().map(|(_, s)| s.did.as_str()).collect();
        let did = did.join(" + ");
        // After a settle the engine has nothing left to do, so its work must be complete too.
        let check = if matches!(op, Op::Settle) {
            settled_violations
        } else {
            violations
        };
        let (after, broken) = app
            .read(move |conn| Ok((fingerprint(conn)?, check(conn)?)))
            .await
            .map_err(db)?;
        let events = |f: &[(&str, String)]| f[0].1.parse::<i64>().expect("a count");
        if events(&after) < events(&before) {
            return Err(fail(format!(
                "op #{n} {op:?} ({did}) removed events from the append-only log"
            )));
        }
        let racing = matches!(op, Op::Together(..));
        for (o, step) in steps {
            let outcome = step.result.as_ref().map_or_else(code_of, |()| "ok");
            tally(format!(
                "{}{} -> {outcome}",
                if racing { "together: " } else { "" },
                op_name(o)
            ));
            if racing {
                judge_racing(n, o, step)?;
            } else {
                judge(n, o, step, &before, &after)?;
            }
        }
        report(&format!("op #{n} {op:?} ({did})"), broken)?;
    }
    app.settle()
        .await
        .map_err(|e| fail(format!("final settle failed: {e}")))?;
    for (what, count) in app.read(final_counts).await.map_err(db)? {
        tally_n(what, count);
    }
    report(
        "the final settle",
        app.read(settled_violations).await.map_err(db)?,
    )
}
