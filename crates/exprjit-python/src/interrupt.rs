//! Runs exprjit with the GIL released so that Ctrl-C stops a long
//! evaluation within a tile and raises `KeyboardInterrupt`, leaving the
//! module usable.
//!
//! Python's own SIGINT handler only sets a flag that the interpreter checks
//! between bytecodes, so while a kernel runs nothing would happen until it
//! ends. For a large evaluation on the main thread (the only thread Python
//! runs signal handlers on), [`run`] installs a SIGINT handler for the
//! duration of the call: it calls [`exprjit::interrupt`] (one atomic
//! store, async-signal-safe) and chains to the handler it replaced
//! (Python's, which records the signal as usual). When the evaluation
//! returns, the handler is removed, exprjit's flag cleared, and Python's
//! handlers run (`PyErr_CheckSignals`): `KeyboardInterrupt` by default,
//! or whatever a handler set with `signal.signal` raises. If the handler
//! raises nothing, the evaluation is restarted (as Python restarts system
//! calls, PEP 475), which is why only restartable calls (a fresh result,
//! or an `out` no input overlaps) take the handler when Python's handler
//! is not the default one; an in-place call whose handler does not raise
//! raises `KeyboardInterrupt` itself, its `out` half written.
//!
//! exprjit's flag stops every evaluation of the process, so evaluations in
//! other threads stopped by it wait until the main thread has cleared it
//! and start again (an in-place one raises `KeyboardInterrupt`).
//!
//! Small calls (below [`LARGE_WORK`] element-operations, well under a
//! millisecond) skip all of this: their cost stays one comparison, and a
//! signal arriving during them is handled by Python as soon as they return.
//!
//! Every call into exprjit with the GIL released goes through [`detach`],
//! which counts the calls in flight, so that `os.fork()` can wait for them
//! ([`before_fork`]): a child must not inherit a lock held by a thread that
//! does not exist in it.

use exprjit::{Error, ErrorKind};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Calls running in exprjit with the GIL released. Incremented while
/// holding the GIL, so that a thread holding it and reading 0 knows that
/// no call is inside exprjit and none can enter.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` with the GIL released, counted in [`IN_FLIGHT`].
pub(crate) fn detach<T, F>(py: Python<'_>, f: F) -> T
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    /// Decrements on the way out, unwinding included.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        }
    }
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let leave = Leave;
    py.detach(move || {
        let _leave = leave;
        f()
    })
}

/// `os.register_at_fork(before=...)`: waits, holding the GIL, until no
/// thread is inside exprjit, so that the child inherits no lock an
/// evaluation holds (the kernel cache's, the thread pool's); evaluations
/// still running finish first (their threads do not exist in the child).
#[pyfunction]
pub(crate) fn before_fork() {
    while IN_FLIGHT.load(Ordering::SeqCst) != 0 {
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// What an evaluation costs, and whether it may run twice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Work {
    /// The largest element count among the result and the operands.
    pub(crate) elements: usize,
    /// The expression's syntax-tree nodes (about its operations per
    /// element).
    pub(crate) nodes: usize,
    /// Running it again gives the same result: it writes nothing its
    /// operands read (not in place).
    pub(crate) restartable: bool,
}

/// Element-operations from which a call takes the SIGINT handler.
// PERF: installing and removing it costs three `sigaction` calls and two
// Python calls, about 2 us; 2^22 element-operations take at least ~1 ms.
const LARGE_WORK: usize = 1 << 22;

impl Work {
    fn large(&self) -> bool {
        self.elements.saturating_mul(self.nodes.max(1)) >= LARGE_WORK
    }
}

/// How long an evaluation stopped by another thread's Ctrl-C waits for
/// that thread to clear the flag before it starts again anyway.
const WAIT_FOR_CLEAR: Duration = Duration::from_secs(10);

/// How often an evaluation stopped by a flag it did not raise starts
/// again before giving up with `KeyboardInterrupt`.
const MAX_RESTARTS: usize = 100;

fn interrupted<T>(r: &Result<T, Error>) -> bool {
    matches!(r, Err(e) if matches!(e.kind(), ErrorKind::Interrupted))
}

fn keyboard_interrupt() -> PyErr {
    PyKeyboardInterrupt::new_err("exprjit: evaluation interrupted")
}

/// Runs `f` with the GIL released. `Ok(Err(e))` is exprjit's error `e`
/// (never `Interrupted`); `Err` is the exception a Ctrl-C raised.
pub(crate) fn run<T, F>(py: Python<'_>, work: Work, mut f: F) -> PyResult<Result<T, Error>>
where
    T: Send,
    F: FnMut() -> Result<T, Error> + Send,
{
    if work.large() {
        while let Some(handler) = handler(py, work.restartable)? {
            handler.arm();
            let r = detach(py, &mut f);
            // Removed before Python's handlers run: one of them may set
            // another with `signal.signal`.
            let signalled = handler.remove();
            if signalled {
                // Python's handler was called too: run what it scheduled.
                py.check_signals()?;
                if interrupted(&r) {
                    if work.restartable {
                        continue;
                    }
                    return Err(keyboard_interrupt());
                }
            }
            if interrupted(&r) {
                // Not our signal: the flag was set elsewhere.
                return unguarded(py, work.restartable, f);
            }
            return Ok(r);
        }
    }
    let r = detach(py, &mut f);
    if interrupted(&r) {
        return unguarded(py, work.restartable, f);
    }
    Ok(r)
}

/// After `f` was stopped by an interrupt this call did not ask for (the
/// main thread's Ctrl-C, while this thread evaluated too): waits until the
/// flag is cleared and runs `f` again, or raises `KeyboardInterrupt` if it
/// cannot be restarted.
fn unguarded<T, F>(py: Python<'_>, restartable: bool, mut f: F) -> PyResult<Result<T, Error>>
where
    T: Send,
    F: FnMut() -> Result<T, Error> + Send,
{
    for _ in 0..MAX_RESTARTS {
        if !restartable {
            return Err(keyboard_interrupt());
        }
        py.detach(|| {
            let start = Instant::now();
            while sig::pending() && start.elapsed() < WAIT_FOR_CLEAR {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let r = detach(py, &mut f);
        if !interrupted(&r) {
            return Ok(r);
        }
    }
    Err(keyboard_interrupt())
}

static THREADING: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static SIGNAL: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Installs the handler if this is the main thread, SIGINT is handled
/// (neither ignored nor the default action), and for a call that cannot be
/// restarted, Python's handler is its default one (which always raises).
fn handler(py: Python<'_>, restartable: bool) -> PyResult<Option<sig::Handler>> {
    if !sig::SUPPORTED {
        return Ok(None);
    }
    let threading = THREADING.get_or_try_init(py, || py.import("threading").map(Bound::unbind))?;
    let threading = threading.bind(py);
    let main = threading.call_method0("main_thread")?.getattr("ident")?;
    let me = threading.call_method0("get_ident")?;
    if !main.eq(me)? {
        return Ok(None);
    }
    if !restartable {
        let signal = SIGNAL.get_or_try_init(py, || py.import("signal").map(Bound::unbind))?;
        let signal = signal.bind(py);
        let current = signal.call_method1("getsignal", (signal.getattr("SIGINT")?,))?;
        if !current.is(&signal.getattr("default_int_handler")?) {
            return Ok(None);
        }
    }
    Ok(sig::Handler::install())
}

#[cfg(unix)]
mod sig {
    //! The SIGINT handler and the state it shares with [`super::run`].
    //!
    //! `ARMED` says the handler should interrupt; `ACTIVE` counts handlers
    //! running (on any thread: the kernel delivers SIGINT to any thread
    //! that does not block it, exprjit's workers included). Disarming sets
    //! `ARMED` false and waits until `ACTIVE` is 0: a handler that started
    //! later reads `ARMED` after its increment, so sees false (all
    //! sequentially consistent), and `PENDING` and exprjit's flag then
    //! stay as they are until cleared.

    use libc::{c_int, c_void, siginfo_t};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    pub(super) const SUPPORTED: bool = true;

    static ARMED: AtomicBool = AtomicBool::new(false);
    static ACTIVE: AtomicUsize = AtomicUsize::new(0);
    /// A SIGINT arrived while armed; exprjit's flag is set. Set before the
    /// flag and cleared after it, so that `false` means the flag is clear.
    static PENDING: AtomicBool = AtomicBool::new(false);
    /// The replaced handler's address, and whether it takes `siginfo`.
    static PREVIOUS: AtomicUsize = AtomicUsize::new(0);
    static PREVIOUS_SIGINFO: AtomicBool = AtomicBool::new(false);

    type Action = extern "C" fn(c_int, *mut siginfo_t, *mut c_void);
    type Plain = extern "C" fn(c_int);

    extern "C" fn on_sigint(sig: c_int, info: *mut siginfo_t, context: *mut c_void) {
        ACTIVE.fetch_add(1, SeqCst);
        if ARMED.load(SeqCst) {
            PENDING.store(true, SeqCst);
            exprjit::interrupt();
        }
        ACTIVE.fetch_sub(1, SeqCst);
        let previous = PREVIOUS.load(SeqCst);
        if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
            // Never installed over these (see `Handler::install`).
            return;
        }
        if PREVIOUS_SIGINFO.load(SeqCst) {
            // SAFETY: `previous` is the `sa_sigaction` of the handler that
            // was installed with SA_SIGINFO when `install` replaced it (a
            // function address, not SIG_DFL or SIG_IGN, checked above), so
            // it has this signature; it is called as the kernel would.
            let f = unsafe { std::mem::transmute::<usize, Action>(previous) };
            f(sig, info, context);
        } else {
            // SAFETY: as above, for a handler installed without
            // SA_SIGINFO, whose signature is `fn(c_int)`.
            let f = unsafe { std::mem::transmute::<usize, Plain>(previous) };
            f(sig);
        }
    }

    pub(super) fn pending() -> bool {
        PENDING.load(SeqCst)
    }

    /// The installed handler; dropping it reinstalls the previous one.
    pub(super) struct Handler {
        previous: libc::sigaction,
    }

    impl Handler {
        /// Installs the handler, unless SIGINT is ignored or left to the
        /// default action (then Ctrl-C does what it did before), or the
        /// handler is already installed.
        pub(super) fn install() -> Option<Handler> {
            // SAFETY: `sigaction` is all integers and a mask, for which
            // zero bytes are valid values.
            let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: a null new action only reads the current one into
            // `current`, a valid, writable `sigaction`.
            if unsafe { libc::sigaction(libc::SIGINT, std::ptr::null(), &mut current) } != 0 {
                return None;
            }
            let previous = current.sa_sigaction;
            if previous == libc::SIG_DFL
                || previous == libc::SIG_IGN
                || previous == on_sigint as Action as usize
            {
                return None;
            }
            PREVIOUS.store(previous, SeqCst);
            PREVIOUS_SIGINFO.store(current.sa_flags & libc::SA_SIGINFO != 0, SeqCst);
            // SAFETY: as for `current`.
            let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
            ours.sa_sigaction = on_sigint as Action as usize;
            ours.sa_mask = current.sa_mask;
            ours.sa_flags = libc::SA_SIGINFO
                | libc::SA_ONSTACK
                | (current.sa_flags & (libc::SA_RESTART | libc::SA_NODEFER));
            // SAFETY: `ours` is a fully initialised action whose handler
            // is `on_sigint`, which only touches atomics (async-signal-
            // safe) and calls the previous handler as the kernel would.
            if unsafe { libc::sigaction(libc::SIGINT, &ours, std::ptr::null_mut()) } != 0 {
                return None;
            }
            Some(Handler { previous: current })
        }

        pub(super) fn arm(&self) {
            ARMED.store(true, SeqCst);
        }

        /// Stops interrupting and waits for handlers running on other
        /// threads to finish.
        pub(super) fn disarm(&self) {
            ARMED.store(false, SeqCst);
            while ACTIVE.load(SeqCst) != 0 {
                std::hint::spin_loop();
            }
        }

        /// Reinstalls the previous handler; returns whether a SIGINT
        /// arrived while armed (then exprjit's flag is cleared).
        pub(super) fn remove(self) -> bool {
            let signalled = self.restore();
            // Restored: nothing left for `drop` (it owns no memory).
            std::mem::forget(self);
            signalled
        }

        fn restore(&self) -> bool {
            self.disarm();
            // SAFETY: `previous` is the action `sigaction` returned when
            // `install` replaced it, reinstalled unchanged.
            unsafe { libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut()) };
            // Disarmed: no handler sets these any more.
            if !PENDING.load(SeqCst) {
                return false;
            }
            exprjit::clear_interrupt();
            PENDING.store(false, SeqCst);
            true
        }
    }

    impl Drop for Handler {
        /// Restores if `run` is left without `remove` (a panic unwinding).
        fn drop(&mut self) {
            self.restore();
        }
    }
}

#[cfg(not(unix))]
mod sig {
    //! No SIGINT handler here: Ctrl-C is handled when the kernel returns.

    pub(super) const SUPPORTED: bool = false;

    pub(super) fn pending() -> bool {
        false
    }

    pub(super) struct Handler;

    impl Handler {
        pub(super) fn install() -> Option<Handler> {
            None
        }
        pub(super) fn arm(&self) {}
        pub(super) fn remove(self) -> bool {
            false
        }
    }
}
