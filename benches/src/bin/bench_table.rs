//! Prints a Markdown summary of the criterion results of the `dot` benchmark.
//!
//! Usage: `cargo run -p pop3-proto-benches --bin bench_table [CRITERION_DIR]`. Without an
//! argument it reads `$CARGO_TARGET_DIR/criterion` (or `target/criterion`). It reads
//! every `benchmark.json` (ids, throughput) with its `estimates.json` (mean time per
//! iteration) and prints GB/s (10^9 octets per second) and the ratios to the baselines.
//!
//! Every saved result counts: `new/`, `base/` and any baseline saved with
//! `cargo bench ... -- --save-baseline NAME`. When a benchmark has several, the best one
//! is shown, so on a shared, noisy machine several runs give a best-of-N table (every
//! benchmark, baselines included, is treated the same way).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// (group, function, parameter) -> GB/s.
type Results = BTreeMap<(String, String, String), f64>;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.file_name().is_some_and(|n| n == "benchmark.json")
            && path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n != "change" && n != "report")
        {
            out.push(path);
        }
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

fn load(root: &Path) -> Results {
    let mut files = Vec::new();
    collect(root, &mut files);
    let mut results = Results::new();
    for file in files {
        let Some(bench) = read_json(&file) else {
            continue;
        };
        let Some(est) = file
            .parent()
            .and_then(|d| read_json(&d.join("estimates.json")))
        else {
            continue;
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let group = text(&bench["group_id"]);
        let function = text(&bench["function_id"]);
        let value = text(&bench["value_str"]);
        let bytes = bench["throughput"]["Bytes"]
            .as_u64()
            .or_else(|| bench["throughput"]["BytesDecimal"].as_u64());
        let ns = est["mean"]["point_estimate"].as_f64();
        if let (Some(bytes), Some(ns)) = (bytes, ns) {
            if ns > 0.0 {
                let gbs = bytes as f64 / ns;
                let best = results.entry((group, function, value)).or_insert(gbs);
                *best = best.max(gbs);
            }
        }
    }
    results
}

fn get(r: &Results, group: &str, function: &str, value: &str) -> Option<f64> {
    r.get(&(group.to_string(), function.to_string(), value.to_string()))
        .copied()
}

fn gbs(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// `wire_len` without conversion needs no scan (stuffing dots are not counted), so its
/// "throughput" is meaningless: show it as constant time.
fn wire_len_cell(v: Option<f64>) -> String {
    match v {
        Some(v) if v > 1000.0 => "O(1), no scan".into(),
        other => gbs(other),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            if r >= 10.0 {
                format!("{r:.0}x")
            } else {
                format!("{r:.2}x")
            }
        }
        _ => "-".into(),
    }
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            Path::new(&target).join("criterion")
        });
    let r = load(&root);
    if r.is_empty() {
        eprintln!("no criterion results under {}", root.display());
        std::process::exit(1);
    }
    let kinds = ["typical", "dot-dense", "bare-lf", "huge-line"];

    println!("### Decoding (client side, un-stuffing), GB/s and ratios\n");
    println!("Baselines, same input, same run:\n");
    println!("| input | memmem `\\n.` (limit) | copy | naive byte loop | pop3-codec | rfc1939 |");
    println!("|---|---|---|---|---|---|");
    for kind in kinds {
        let g = format!("decode/{kind}");
        println!(
            "| {kind} | {} | {} | {} | {} | {} |",
            gbs(get(&r, &g, "memmem", "")),
            gbs(get(&r, &g, "copy", "")),
            gbs(get(&r, &g, "naive", "")),
            gbs(get(&r, &g, "peer-pop3-codec", "")),
            gbs(get(&r, &g, "peer-rfc1939", "")),
        );
    }
    println!();
    println!(
        "| input | chunk | pop3-proto GB/s | vs memmem limit | vs naive | vs pop3-codec | vs rfc1939 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for kind in kinds {
        let g = format!("decode/{kind}");
        let memmem = get(&r, &g, "memmem", "");
        let naive = get(&r, &g, "naive", "");
        let codec = get(&r, &g, "peer-pop3-codec", "");
        let rfc = get(&r, &g, "peer-rfc1939", "");
        for (function, chunk, label) in [
            ("pop3-proto", "1B", "1 B"),
            ("pop3-proto", "1KiB", "1 KiB"),
            ("pop3-proto", "64KiB", "64 KiB"),
            ("pop3-proto", "whole", "whole"),
            ("pop3-proto-bytesmut", "64KiB", "64 KiB, BytesMut"),
            ("pop3-proto-slices", "64KiB", "64 KiB, borrowed slices"),
            ("pop3-proto-slices", "whole", "whole, borrowed slices"),
        ] {
            let ours = get(&r, &g, function, chunk);
            if ours.is_none() {
                continue;
            }
            println!(
                "| {kind} | {label} | {} | {} | {} | {} | {} |",
                gbs(ours),
                ratio(ours, memmem),
                ratio(ours, naive),
                ratio(ours, codec),
                ratio(ours, rfc),
            );
        }
    }

    println!("\n### Streamed as a socket delivers it (4 MiB body, 64 KiB reads), GB/s\n");
    println!(
        "The peers cannot resume a parse, so after every read they parse the whole \
         response received so far again (quadratic: the ratios grow with the body).\n"
    );
    println!(
        "| input | pop3-proto | borrowed slices | naive | rfc1939 re-parsed | pop3-codec re-parsed | vs naive | vs rfc1939 | vs pop3-codec |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for kind in ["typical", "dot-dense"] {
        let g = format!("decode-streamed/{kind}");
        let ours = get(&r, &g, "pop3-proto", "64KiB");
        let slices = get(&r, &g, "pop3-proto-slices", "64KiB");
        let naive = get(&r, &g, "naive", "");
        let rfc = get(&r, &g, "peer-rfc1939", "64KiB");
        let codec = get(&r, &g, "peer-pop3-codec", "64KiB");
        if ours.is_none() {
            continue;
        }
        let both = |base: Option<f64>| format!("{} / {}", ratio(ours, base), ratio(slices, base));
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} | {} | {} |",
            gbs(ours),
            gbs(slices),
            gbs(naive),
            gbs(rfc),
            gbs(codec),
            both(naive),
            both(rfc),
            both(codec),
        );
    }

    println!("\n### Scaling (typical mail), GB/s\n");
    println!("| size | memmem | pop3-proto 64 KiB chunks | vs memmem | pop3-proto 1 B chunks |");
    println!("|---|---|---|---|---|");
    let mut sizes: Vec<String> = r
        .keys()
        .filter(|(g, f, _)| g == "scaling/typical" && f == "memmem")
        .map(|(_, _, v)| v.clone())
        .collect();
    sizes.sort_by_key(|s| size_bytes(s));
    for size in sizes {
        let g = "scaling/typical";
        let memmem = get(&r, g, "memmem", &size);
        let ours = get(&r, g, "pop3-proto-64KiB", &size);
        println!(
            "| {size} | {} | {} | {} | {} |",
            gbs(memmem),
            gbs(ours),
            ratio(ours, memmem),
            gbs(get(&r, g, "pop3-proto-1B", &size)),
        );
    }

    println!("\n### Stuffing (server side), GB/s of message octets\n");
    println!(
        "Stuffer: zero-copy segments for vectored writes; copying: `Stuffer::push_copy` into one \
         reused `BytesMut`. Both fed 64 KiB chunks; \"+ wire_len\" adds the exact LIST size.\n"
    );
    println!(
        "| input | copy | wire_len | Stuffer | Stuffer + wire_len | copying + wire_len | stuff() whole | Stuffer + wire_len vs copy | copying + wire_len vs copy |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (prefix, kind) in [
        ("stuff", "typical"),
        ("stuff", "dot-dense"),
        ("stuff", "bare-lf"),
        ("stuff-default", "typical"),
        ("stuff-default", "dot-dense"),
    ] {
        let g = format!("{prefix}/{kind}");
        let copy = get(&r, &g, "copy", "");
        let both = get(&r, &g, "stuffer+wire_len", "64KiB");
        let copying = get(&r, &g, "stuffer-copy+wire_len", "64KiB");
        let label = match (prefix, kind) {
            ("stuff", "bare-lf") => "bare-lf (default: LF to CRLF)".to_string(),
            ("stuff", _) => format!("{kind} (raw mode)"),
            _ => format!("{kind} (default: LF to CRLF)"),
        };
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            gbs(copy),
            wire_len_cell(get(&r, &g, "wire_len", "")),
            gbs(get(&r, &g, "stuffer", "64KiB")),
            gbs(both),
            gbs(copying),
            gbs(get(&r, &g, "stuff-whole", "")),
            ratio(both, copy),
            ratio(copying, copy),
        );
    }
}

fn size_bytes(s: &str) -> u64 {
    let (digits, mult) = if let Some(d) = s.strip_suffix("MiB") {
        (d, 1 << 20)
    } else if let Some(d) = s.strip_suffix("KiB") {
        (d, 1 << 10)
    } else {
        (s.strip_suffix('B').unwrap_or(s), 1)
    };
    digits.parse::<u64>().unwrap_or(0) * mult
}
