//! The `exprjit-fuzz` command: parses the options, runs the fuzzer and
//! prints its report; exits with status 1 if anything failed.

use exprjit_fuzz::{Config, fuzz};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: exprjit-fuzz [--seconds S] [--cases N] [--seed N] [--skip PATTERN]...
                    [--runs-per-case K] [--group K] [--shrinks K] [--shrink-seconds S]
                    [--ulps N] [--only GROUP_SEED] [--verbose]

  --seconds S         stop after S seconds (default 60 when --cases is not given)
  --cases N           stop after N cases (whichever bound comes first)
  --seed N            the run's seed (decimal or 0x hex; default: from the clock)
  --skip PATTERN      do not report failures whose signature contains PATTERN
                      (repeatable; they are counted as skipped)
  --runs-per-case K   engine x entry point x options x layout runs per case (6)
  --group K           cases per generated expression (4): the same expression over
                      K sets of shapes and values, its kernels compiled once
  --shrinks K         shrink the first K failures of each signature (1; 0: none)
  --shrink-seconds S  time limit of one shrink (20)
  --ulps N            the ULP bound of Accuracy::Fast libm operations (2)
  --only GROUP_SEED   run just the group (expression) with this seed (from a report)
  --verbose           print every case seed before running it (to find a crash)";

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config {
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        ..Config::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        let bad = |v: &str| format!("{a}: bad value '{v}'");
        match a.as_str() {
            "--seconds" => {
                let v = value()?;
                cfg.seconds = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--cases" => {
                let v = value()?;
                cfg.cases = Some(number(&v).ok_or_else(|| bad(&v))?);
            }
            "--seed" => {
                let v = value()?;
                cfg.seed = number(&v).ok_or_else(|| bad(&v))?;
            }
            "--skip" => cfg.skip.push(value()?),
            "--runs-per-case" => {
                let v = value()?;
                cfg.runs_per_case = number(&v).ok_or_else(|| bad(&v))? as usize;
            }
            "--group" => {
                let v = value()?;
                cfg.group = (number(&v).ok_or_else(|| bad(&v))? as usize).max(1);
            }
            "--shrinks" => {
                let v = value()?;
                cfg.shrinks_per_signature = number(&v).ok_or_else(|| bad(&v))? as usize;
            }
            "--shrink-seconds" => {
                let v = value()?;
                let s: f64 = v.parse().map_err(|_| bad(&v))?;
                cfg.shrink_budget.time = Duration::from_secs_f64(s.max(0.0));
            }
            "--ulps" => {
                let v = value()?;
                cfg.ulps = number(&v).ok_or_else(|| bad(&v))?;
            }
            "--only" => {
                let v = value()?;
                cfg.only = Some(number(&v).ok_or_else(|| bad(&v))?);
            }
            "--verbose" => cfg.verbose = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let report = fuzz(&cfg);
    println!("{}", report.render());
    if report.failures() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
