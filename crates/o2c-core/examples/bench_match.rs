//! Cash-application benchmark: simulated open items and noisy bank lines with known truth,
//! matched one by one as a run would (`cargo run --release --example bench_match -- 1000000
//! 100000 42`: invoices, payments, seed).

use o2c_core::matching::sim::{SimConfig, describe, generate, replay};
use o2c_core::matching::{MatchIndex, Policy, propose};
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
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let mut index = MatchIndex::build(&sim.items, &sim.payers).expect("unique item keys");
    println!(
        "index built in {:.2} s ({:.2} s of CPU)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );
    let policy = Policy::default();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let tally = replay(&mut index, &sim.lines, &policy);
    let (secs, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "matched {} lines in {:.2} s: {:.0} lines/s ({:.2} s of CPU: {:.0} lines per CPU second)",
        tally.lines,
        secs,
        tally.lines as f64 / secs,
        cpu,
        tally.lines as f64 / cpu
    );
    print!("{tally}");
    // The matcher alone: every line proposed against a fresh book, nothing booked or judged.
    let fresh = MatchIndex::build(&sim.items, &sim.payers).expect("unique item keys");
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let applied = sim
        .lines
        .iter()
        .filter(|l| propose(&fresh, &l.payment, &policy).applied().is_some())
        .count();
    println!(
        "propose alone on a fresh book: {:.0} lines/s ({:.0} per CPU second; {applied} would apply)",
        sim.lines.len() as f64 / t.elapsed().as_secs_f64(),
        sim.lines.len() as f64 / (cpu_seconds() - cpu)
    );
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
        let mut by_kind: std::collections::BTreeMap<(&str, &str), (usize, usize)> =
            Default::default();
        for line in &sim.lines {
            by_kind
                .entry((line.noise.reference, line.noise.amount))
                .or_default()
                .0 += 1;
        }
        for (noise, n) in &tally.exceptions_by_noise {
            by_kind
                .entry((noise.reference, noise.amount))
                .or_default()
                .1 += n;
        }
        println!("\nexceptions by reference and amount style (lines, exceptions):");
        for ((r, a), (lines, exc)) in &by_kind {
            println!("  {r:12} {a:14} {lines:6} {exc:6}");
        }
        let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
        for (i, p) in &tally.exception_examples {
            let n = &sim.lines[*i].noise;
            if filter == "all" || filter.split('/').next() == Some(n.reference) {
                let r = format!("{:?}", p.decision);
                let r = r
                    .split([' ', '(', '{'])
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                *reasons
                    .entry(format!("{} {} {}", n.amount, n.payer, r))
                    .or_default() += 1;
            }
        }
        let mut reasons: Vec<_> = reasons.into_iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        println!("\nreasons among the first exceptions:");
        for (r, n) in reasons.iter().take(25) {
            println!("  {n:5} {r}");
        }
        // "none", or "none/exact/typo": reference style, amount style, payer style.
        let shown = |i: &usize| {
            let n = &sim.lines[*i].noise;
            filter == "all"
                || filter
                    .split('/')
                    .zip([n.reference, n.amount, n.payer])
                    .all(|(want, is)| want == is)
        };
        for (i, p) in tally
            .wrong_examples
            .iter()
            .filter(|(i, _)| shown(i))
            .take(15)
        {
            println!("\nWRONG {}", describe(&sim.lines[*i], p));
        }
        for (i, p) in tally
            .exception_examples
            .iter()
            .filter(|(i, _)| shown(i))
            .take(15)
        {
            println!("\nEXCEPTION {}", describe(&sim.lines[*i], p));
        }
    }
}

/// User and system time of this thread, from /proc on Linux (the machine may be shared, so
/// wall time alone says little); NaN elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
