//! Turns benchmark measurements into records, a JSON file and markdown
//! tables; shared by the `fused_vs_multipass` bench and the test that
//! checks its output is well formed.
#![allow(dead_code, unreachable_pub)]

use std::fmt::Write;

/// One measurement: a workload at a size on an engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub workload: String,
    pub dtype: String,
    pub n: usize,
    pub engine: String,
    pub threads: usize,
    pub median_s: f64,
    pub min_s: f64,
    /// (max - min) / median over the samples.
    pub spread: f64,
    pub samples: usize,
    pub bytes_per_elem: f64,
    /// Bytes moved per second at the median, in GB/s (0 when n is 0).
    pub gbps: f64,
    /// `gbps` over the best bandwidth kernel at the same thread count.
    pub fraction_of_bandwidth: Option<f64>,
}

impl Record {
    /// Samples spreading by more than 25% around the median are flagged.
    pub fn noisy(&self) -> bool {
        self.spread > 0.25
    }

    pub fn ns_per_elem(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.median_s * 1e9 / self.n as f64
        }
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:e}")
    } else {
        "null".to_string()
    }
}

/// The records as a JSON document: `{"machine": {...}, "records": [...]}`.
pub fn to_json(machine: &[(String, String)], records: &[Record]) -> String {
    let mut s = String::from("{\n  \"machine\": {");
    for (i, (k, v)) in machine.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {}: {}",
            if i > 0 { "," } else { "" },
            json_str(k),
            json_str(v)
        );
    }
    s.push_str("\n  },\n  \"records\": [");
    for (i, r) in records.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {{\"workload\": {}, \"dtype\": {}, \"n\": {}, \"engine\": {}, \"threads\": {}, \
             \"median_s\": {}, \"min_s\": {}, \"spread\": {}, \"samples\": {}, \"bytes_per_elem\": {}, \
             \"gbps\": {}, \"fraction_of_bandwidth\": {}, \"noisy\": {}}}",
            if i > 0 { "," } else { "" },
            json_str(&r.workload),
            json_str(&r.dtype),
            r.n,
            json_str(&r.engine),
            r.threads,
            json_num(r.median_s),
            json_num(r.min_s),
            json_num(r.spread),
            r.samples,
            json_num(r.bytes_per_elem),
            json_num(r.gbps),
            r.fraction_of_bandwidth.map_or("null".to_string(), json_num),
            r.noisy()
        );
    }
    s.push_str("\n  ]\n}\n");
    s
}

/// Formats seconds per element as ns.
fn ns(r: &Record) -> String {
    let v = r.ns_per_elem();
    let flag = if r.noisy() { "~" } else { "" };
    if v >= 100.0 {
        format!("{flag}{v:.0}")
    } else if v >= 1.0 {
        format!("{flag}{v:.2}")
    } else {
        format!("{flag}{v:.3}")
    }
}

/// A markdown table for one workload: a row per size, a column per engine
/// (ns per element, median), then the fused engine's GB/s and fraction of
/// the bandwidth limit.
pub fn workload_table(records: &[Record], workload: &str) -> String {
    let rows: Vec<&Record> = records.iter().filter(|r| r.workload == workload).collect();
    let mut engines: Vec<String> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for r in &rows {
        let e = engine_label(r);
        if !engines.contains(&e) {
            engines.push(e);
        }
        if !sizes.contains(&r.n) {
            sizes.push(r.n);
        }
    }
    sizes.sort_unstable();
    let mut s = String::new();
    let _ = write!(s, "| n |");
    for e in &engines {
        let _ = write!(s, " {e} |");
    }
    s.push_str(" fused GB/s (1 thread) | of bandwidth |\n|---:|");
    for _ in &engines {
        s.push_str("---:|");
    }
    s.push_str("---:|---:|\n");
    for n in sizes {
        let _ = write!(s, "| {} |", fmt_n(n));
        for e in &engines {
            match rows.iter().find(|r| r.n == n && engine_label(r) == *e) {
                Some(r) => {
                    let _ = write!(s, " {} |", ns(r));
                }
                None => s.push_str(" - |"),
            }
        }
        match rows
            .iter()
            .find(|r| r.n == n && r.engine == "fused" && r.threads == 1)
        {
            Some(r) => {
                let frac = r
                    .fraction_of_bandwidth
                    .map_or("-".to_string(), |f| format!("{:.0}%", f * 100.0));
                let _ = writeln!(s, " {:.1} | {frac} |", r.gbps);
            }
            None => s.push_str(" - | - |\n"),
        }
    }
    s
}

pub fn engine_label(r: &Record) -> String {
    format!("{} {}t", r.engine, r.threads)
}

pub fn fmt_n(n: usize) -> String {
    if n >= 1000 && n.is_power_of_two() {
        return n.to_string();
    }
    let e = (n as f64).log10();
    if n >= 1000 && (e - e.round()).abs() < 1e-9 {
        format!("1e{}", e.round() as i32)
    } else if n >= 1000 && n.is_multiple_of(1_000_000) {
        format!("{}e6", n / 1_000_000)
    } else {
        n.to_string()
    }
}
