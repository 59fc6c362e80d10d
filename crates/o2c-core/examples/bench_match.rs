//! Cash-application benchmark: simulated open items and noisy bank lines with known truth,
//! matched one by one as a run would (`cargo run --release --example bench_match -- 1000000
//! 100000 42`: invoices, payments, seed).

use o2c_core::matching::sim::{SimConfig, describe, generate, replay};
use o2c_core::matching::{MatchIndex, Policy};
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: invoices payments seed"))
        .collect();
    let config = SimConfig {
        invoices: args.first().copied().unwrap_or(1_000_000) as usize,
        payments: args.get(1).copied().unwrap_or(100_000) as usize,
        seed: args.get(2).copied().unwrap_or(42),
    };
    let t = Instant::now();
    let sim = generate(&config);
    println!(
        "generated {} invoices, {} customers, {} lines in {:.2} s",
        sim.items.len(),
        sim.payers.len(),
        sim.lines.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut index = MatchIndex::build(&sim.items, &sim.payers).expect("unique item keys");
    println!("index built in {:.2} s", t.elapsed().as_secs_f64());
    let policy = Policy::default();
    let t = Instant::now();
    let tally = replay(&mut index, &sim.lines, &policy);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "matched {} lines in {:.2} s: {:.0} lines/s",
        tally.lines,
        secs,
        tally.lines as f64 / secs
    );
    print!("{tally}");
    // BENCH_DETAIL=<reference style or "all">: the wrong applications and some exceptions.
    if let Ok(filter) = std::env::var("BENCH_DETAIL") {
        println!("\nwrong by noise:");
        let mut wrong: Vec<_> = tally.wrong_by_noise.iter().collect();
        wrong.sort_by(|a, b| b.1.cmp(a.1));
        for (noise, n) in wrong.iter().take(30) {
            println!("  {n:6}  {noise:?}");
        }
        println!("\nexceptions by noise (lines that pay invoices):");
        let mut exc: Vec<_> = tally.exceptions_by_noise.iter().collect();
        exc.sort_by(|a, b| b.1.cmp(a.1));
        for (noise, n) in exc.iter().take(40) {
            println!("  {n:6}  {noise:?}");
        }
        let shown = |i: &usize| filter == "all" || sim.lines[*i].noise.reference == filter;
        for (i, p) in tally.wrong_examples.iter().filter(|(i, _)| shown(i)).take(15) {
            println!("\nWRONG {}", describe(&sim.lines[*i], p));
        }
        for (i, p) in tally.exception_examples.iter().filter(|(i, _)| shown(i)).take(15) {
            println!("\nEXCEPTION {}", describe(&sim.lines[*i], p));
        }
    }
}
