//! UBL rendering throughput on one thread: every fixture in turn for about three seconds.
//!
//! `cargo run --release -p o2c-docs --example bench_ubl [seconds]`

use o2c_docs::{fixtures, ubl};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let docs = fixtures::all();
    let budget = Duration::from_secs_f64(seconds);

    // Warm up caches and the allocator before timing.
    for (_, doc) in &docs {
        black_box(ubl::render(doc).expect("fixtures render"));
    }

    let start = Instant::now();
    let (mut rendered, mut bytes) = (0u64, 0u64);
    while start.elapsed() < budget {
        for (_, doc) in &docs {
            let xml = ubl::render(black_box(doc)).expect("fixtures render");
            bytes += xml.len() as u64;
            rendered += 1;
            black_box(xml);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lines: usize = docs.iter().map(|(_, d)| d.lines.len()).sum();
    println!(
        "ubl render: {rendered} documents in {elapsed:.2} s = {:.0} documents/s on one thread \
         ({} fixtures, {:.1} lines each on average, {:.1} MB/s of XML)",
        rendered as f64 / elapsed,
        docs.len(),
        lines as f64 / docs.len() as f64,
        bytes as f64 / elapsed / 1e6,
    );
}
