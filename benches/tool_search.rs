//! Tool search on 1,000 tools (`benches/tool_catalog.rs`): how long an
//! index takes to build and a query to answer, and how good the answers
//! are, beside a baseline measured in the same run: a scan that scores
//! each tool by how many of the query's words its text contains (what a
//! search written in ten lines does).
//!
//! Quality is printed before the timings, for the 30 queries of the fixed
//! set, each with one right tool: hits at 5 (the right tool in the top 5),
//! precision at 5 (hits / 5 per query, averaged: at most 0.2 with one right
//! tool) and mean reciprocal rank.
//!
//! Run: `cargo bench --bench tool_search`.

use corral::search::{ToolIndex, document};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "tool_catalog.rs"]
mod tool_catalog;

/// The baseline: tools ranked by how many distinct query words (lower
/// case, at least three letters) their text contains.
struct WordScan {
    texts: Vec<String>,
}

impl WordScan {
    fn new(tools: &[(String, String)]) -> WordScan {
        WordScan { texts: tools.iter().map(|(n, d)| document(n, d).to_lowercase()).collect() }
    }

    fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        let query = query.to_lowercase();
        let words: Vec<&str> = query.split_whitespace().filter(|w| w.len() >= 3).collect();
        let mut scored: Vec<(usize, usize)> = self
            .texts
            .iter()
            .enumerate()
            .map(|(i, text)| (words.iter().filter(|w| text.contains(**w)).count(), i))
            .filter(|(score, _)| *score > 0)
            .map(|(score, i)| (i, score))
            .collect();
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.into_iter().take(limit).map(|(i, _)| i).collect()
    }
}

/// Hits at 5, precision at 5 and mean reciprocal rank of `search`.
fn quality(tools: &[(String, String)], search: impl Fn(&str) -> Vec<usize>) -> (usize, f64, f64) {
    let (mut hits, mut reciprocal) = (0, 0.0);
    for (query, expected) in tool_catalog::QUERIES {
        let ranked = search(query);
        if let Some(rank) = ranked.iter().take(5).position(|&i| tools[i].0 == expected) {
            hits += 1;
            reciprocal += 1.0 / (rank + 1) as f64;
        }
    }
    let n = tool_catalog::QUERIES.len() as f64;
    (hits, hits as f64 / 5.0 / n, reciprocal / n)
}

fn tool_search(c: &mut Criterion) {
    let tools: Vec<(String, String)> =
        tool_catalog::tools().into_iter().map(|(n, d)| (n, d.to_string())).collect();
    let pairs = || tools.iter().map(|(n, d)| (n.as_str(), d.as_str()));
    let index = ToolIndex::new(pairs());
    let scan = WordScan::new(&tools);
    let n = tool_catalog::QUERIES.len();
    for (label, (hits, precision, mrr)) in [
        ("bm25", quality(&tools, |q| index.search(q, 5))),
        ("word_scan", quality(&tools, |q| scan.search(q, 5))),
    ] {
        println!(
            "tool_search quality ({label}, {} tools, {n} queries): hits at 5 {hits}/{n}, precision at 5 {precision:.3}, MRR {mrr:.3}",
            tools.len()
        );
    }

    let mut group = c.benchmark_group("tool_search");
    group.bench_function("build_index_1000", |b| b.iter(|| ToolIndex::new(pairs())));
    group.bench_function("bm25_30_queries", |b| {
        b.iter(|| {
            tool_catalog::QUERIES.iter().map(|(q, _)| index.search(q, 5).len()).sum::<usize>()
        })
    });
    group.bench_function("word_scan_30_queries", |b| {
        b.iter(|| tool_catalog::QUERIES.iter().map(|(q, _)| scan.search(q, 5).len()).sum::<usize>())
    });
    group.finish();
}

criterion_group!(benches, tool_search);
criterion_main!(benches);
