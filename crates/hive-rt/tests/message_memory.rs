//! Resident memory of message buffers (a binary of its own: the figures are the OS
//! process's RSS): the buffers of a drained mailbox go back to the kernel once the workers
//! are quiet (`sched/worker.rs`, `park`; `docs/design.md`, "Memory after the flood").

mod common;
use common::memory::{rss_bytes, until_a_quarter_is_left};
use common::signals::*;
use hive_rt::process;

/// 3,200 messages of 64 KiB (200 MiB) wait in one process's mailbox, sent by another
/// process (so their buffers belong to the sender's worker), until it drains them; then,
/// with the workers quiet but for this process's naps, resident memory comes back to less
/// than a quarter of what the queue added, within 30 s.
#[test]
fn drained_mailbox_gives_its_buffers_back() {
    const N: usize = 3200;
    const SIZE: usize = 64 << 10;
    run(|_| {
        let me = process::self_pid();
        let before = rss_bytes();
        let sink = process::spawn(move || {
            // The data stays queued until `go`, which comes last.
            process::receive_select(T, |m| m.data() == b"go").expect("go");
            for _ in 0..N {
                let m = process::receive(T).expect("a queued message");
                assert_eq!(m.data().len(), SIZE);
            }
            process::send(me, b"drained").unwrap();
        })
        .unwrap();
        let sender = process::spawn(move || {
            let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8 + 1).collect();
            for _ in 0..N {
                process::send(sink, &data).unwrap();
            }
            process::send(me, b"sent").unwrap();
        })
        .unwrap();
        process::receive_select(T, |m| m.sender() == sender && m.data() == b"sent").unwrap();
        let grown = rss_bytes().saturating_sub(before);
        assert!(
            grown > (N * SIZE) as u64 * 3 / 4,
            "the queue grew RSS by {grown} bytes only"
        );
        process::send(sink, b"go").unwrap();
        process::receive_select(T, |m| m.sender() == sink && m.data() == b"drained").unwrap();
        until_a_quarter_is_left(before, grown, "the drain");
    });
}
