//! PDF rendering throughput on one thread: every fixture in turn (with the test logo, so the
//! PNG decoding counts too) for about three seconds.
//!
//! `cargo run --release -p o2c-docs --example bench_pdf [seconds]`

use o2c_docs::{fixtures, pdf};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let logo = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logo.png");
    let docs: Vec<_> = fixtures::all()
        .into_iter()
        .map(|(name, mut doc)| {
            doc.seller.logo_path = Some(logo.to_string());
            (name, doc)
        })
        .collect();
    let budget = Duration::from_secs_f64(seconds);

    // Warm up caches and the allocator before timing.
    for (_, doc) in &docs {
        black_box(pdf::render(doc).expect("fixtures render"));
    }

    let start = Instant::now();
    let (mut rendered, mut bytes) = (0u64, 0u64);
    while start.elapsed() < budget {
        for (_, doc) in &docs {
            let pdf = pdf::render(black_box(doc)).expect("fixtures render");
            bytes += pdf.len() as u64;
            rendered += 1;
            black_box(pdf);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lines: usize = docs.iter().map(|(_, d)| d.lines.len()).sum();
    println!(
        "pdf render: {rendered} PDFs in {elapsed:.2} s = {:.0} PDFs/s on one thread \
         ({} fixtures, {:.1} lines each on average, {:.1} KB per PDF on average)",
        rendered as f64 / elapsed,
        docs.len(),
        lines as f64 / docs.len() as f64,
        bytes as f64 / rendered as f64 / 1e3,
    );
}
