//! Model-checked tests (loom). Built only with `RUSTFLAGS="--cfg loom"`; run by `make loom`
//! (part of `make test`).
//!
//! Each model bounds preemptions at 3 (crossbeam's CI uses 2): the bugs these protocols
//! can have need few forced context switches, and the bound keeps the run short (an
//! unbounded run of the mailbox model takes about 5 minutes here, and passes).
//! `LOOM_MAX_PREEMPTIONS=5 make loom` explores more.
mod loom_held;
mod loom_idle;
mod loom_io;
mod loom_mailbox;
mod loom_signals;
mod loom_timers;

/// Runs a loom model with the project's preemption bound (override: LOOM_MAX_PREEMPTIONS).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(f);
}
