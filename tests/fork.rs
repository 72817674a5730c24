//! A child made by `fork()` after the parent ran work on exprjit's thread
//! pool evaluates normally (the pool is rebuilt in the child, whose copy
//! has no worker threads): before the fix, the child waited forever.
//! A binary of its own, with one test, so that no other test's threads are
//! running when it forks.

use exprjit::{EngineChoice, Options, Vars};
use std::time::{Duration, Instant};

fn big_sum(threads: usize) -> Result<f64, exprjit::Error> {
    let a: Vec<f64> = (0..2_000_000).map(|i| (i % 1000) as f64).collect();
    let vars = Vars::new().with("a", &a);
    let opts = Options {
        engine: EngineChoice::Auto,
        threads: Some(threads),
        exact_threads: true,
        ..Options::default()
    };
    let (r, trace) = exprjit::evaluate_with("a * 2 + 1", &vars, &opts)?;
    assert_eq!(trace.threads, threads);
    let (s, _) = exprjit::evaluate_with("sum(a * 2 + 1)", &vars, &opts)?;
    let total: f64 = r.to_vec::<f64>().unwrap_or_default().iter().sum();
    let s = s.to_vec::<f64>().unwrap_or_default()[0];
    assert_eq!(s, total);
    Ok(s)
}

#[test]
fn a_forked_child_evaluates_on_a_pool_of_its_own() {
    // The parent uses the pool, so its worker threads exist (and exist only
    // in the parent once it forks).
    let want = big_sum(2).expect("parent");
    for round in 0..2 {
        // SAFETY: fork() in a process whose other threads (the pool's
        // workers and the test harness) are idle; the child only
        // evaluates through exprjit and leaves with _exit, running no
        // destructors of the parent's state.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = match big_sum(2) {
                Ok(s) if s == want => 0,
                _ => 1,
            };
            // SAFETY: ends the child at once (no unwinding into the
            // harness's copy).
            unsafe { libc::_exit(code) };
        }
        // The parent waits at most 60 s: a hang fails the test.
        let start = Instant::now();
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            assert!(r == 0, "waitpid failed");
            if start.elapsed() > Duration::from_secs(60) {
                // SAFETY: kills our own hung child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("round {round}: the forked child hung evaluating on the pool");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "round {round}: child failed (status {status})"
        );
        // The parent's pool still works after its child's rebuild.
        assert_eq!(big_sum(2).expect("parent again"), want);
    }
}
