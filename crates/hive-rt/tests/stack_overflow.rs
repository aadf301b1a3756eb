//! A process that overflows its stack ends alone, with reason `stack_overflow`; the guard
//! page catches it before it can touch another process's stack, and the runtime goes on.

mod common;
use common::*;
use hive_rt::{process, ExitReason, SpawnOptions};

#[test]
fn overflow_ends_only_the_overflowing_process() {
    let rt = rt(2);
    // A neighbour blocked in receive: its stack slot may sit right below the overflowing one.
    let neighbour = rt
        .spawn(|| {
            let m = process::receive(None).unwrap();
            process::send(m.sender(), b"still here").unwrap();
        })
        .unwrap();
    for round in 0..3 {
        let r = rt
            .run(|| {
                recurse(0);
            })
            .unwrap();
        assert_eq!(r, ExitReason::error("stack_overflow"), "round {round}");
    }
    // Bigger stacks overflow the same way.
    let big = SpawnOptions {
        stack_size: 1 << 20,
        ..Default::default()
    };
    let r = rt.run_opts(big, || {
        recurse(0);
    });
    assert_eq!(r.unwrap(), ExitReason::error("stack_overflow"));
    // The neighbour and the runtime are unharmed.
    let r = rt
        .run(move || {
            process::send(neighbour, b"ping").unwrap();
            assert_eq!(process::receive(Some(5000)).unwrap().data(), b"still here");
        })
        .unwrap();
    assert!(r.is_normal());
}
