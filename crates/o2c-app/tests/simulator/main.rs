//! A seeded simulator, TigerBeetle's VOPR in miniature: proptest throws random sequences of
//! order-to-cash operations at a fresh store (orders, engine steps, dispatches, stock receipts,
//! payments, manual cash application, cancellations, credit reviews) and, after every one,
//! checks the invariants of DESIGN.md in one consistent snapshot. Operations that must fail
//! (quantity 0, an unknown SKU, an over-application, a cancellation after dispatch…) must fail
//! with the rule's own error code and change nothing.
//!
//! A failure prints the shrunk operation sequence. `O2C_SIM_SEED=<n>` replays a run (the seed
//! is printed at the start), `O2C_SIM_CASES=<n>` runs more or fewer cases.

mod case;
mod coverage;
mod invariants;
mod ops;
mod setup;
mod steps;

use case::run_case;
use coverage::print_tally;
use o2c_app::testing::Engine;
use ops::op;
use proptest::prelude::ProptestConfig;
use proptest::test_runner::{RngAlgorithm, TestError, TestRng, TestRunner};

// ---------------------------------------------------------------------------------------------
// The runner: seeded, shrinking, and printing the minimal failing sequence.

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn simulate(engine: Engine, default_cases: u32) {
    let seed = env_number("O2C_SIM_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
    });
    let cases = env_number("O2C_SIM_CASES").map_or(default_cases, |c| c as u32);
    println!(
        "simulator on {engine:?}: {cases} cases, seed {seed} (O2C_SIM_SEED={seed} replays it)"
    );
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        // Each case opens a store and runs dozens of transactions: bound the shrinking.
        max_shrink_iters: 512,
        max_shrink_time: 300_000,
        ..ProptestConfig::default()
    };
    let mut seed_bytes = [0u8; 32];
    for chunk in seed_bytes.chunks_mut(8) {
        chunk.copy_from_slice(&seed.to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runner.run(&proptest::collection::vec(op(), 1..=40), |ops| {
        rt.block_on(run_case(engine, &ops))
    });
    print_tally();
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, ops)) => {
            let listing: Vec<String> = ops
                .iter()
                .enumerate()
                .map(|(i, op)| format!("  #{i}: {op:?}"))
                .collect();
            panic!(
                "the simulator broke an invariant (seed {seed}).\n{reason}\nminimal sequence of {} ops:\n{}",
                ops.len(),
                listing.join("\n")
            );
        }
        Err(TestError::Abort(reason)) => panic!("the simulator aborted (seed {seed}): {reason}"),
    }
}

#[test]
fn random_operations_keep_the_books_balanced_on_sqlite() {
    simulate(Engine::Sqlite, 256);
}

#[test]
fn random_operations_keep_the_books_balanced_on_postgres() {
    if o2c_app::testing::postgres_url().is_none() {
        println!("skipped: O2C_TEST_DATABASE_URL not set");
        return;
    }
    simulate(Engine::Postgres, 24);
}
