//! The OTP environment of the distribution tests.
//!
//! The handshake and EPMD code is crate-internal, so its protocol tests are unit tests
//! (`src/dist/handshake_tests.rs`, `epmd_tests.rs`, and `interop_tests.rs` against real
//! `erl` and `epmd`: run `cargo test -p hive-rt --lib dist::`). This file checks, through
//! nothing but the tools themselves, that the machine can run those interop tests: a private
//! `epmd` starts, an `erl -sname NAME@localhost` node registers with it over loopback, and
//! the OTP release is one Hive's flag set is written for. Without `erl` or `epmd` it prints
//! "skipped" and passes, as the interop unit tests do.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// Kills and reaps the child on drop, also when the test panics.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `NAMES_REQ` to the EPMD on `port`: the text after the 4-byte port.
fn epmd_names(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(&[0, 1, 110]).ok()?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).ok()?;
    Some(String::from_utf8_lossy(reply.get(4..)?).into_owned())
}

#[test]
fn otp_environment_for_the_interop_tests() {
    for tool in ["erl", "epmd"] {
        if on_path(tool).is_none() {
            println!("skipped: {tool} not found");
            return;
        }
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _epmd = Guard(
        Command::new("epmd")
            .args(["-port", &port.to_string(), "-address", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut erl = Command::new("erl")
        .env("ERL_EPMD_PORT", port.to_string())
        .args(["-sname", "envcheck@localhost", "-setcookie", "hivecookie"])
        .args(["-hidden", "-noshell", "-start_epmd", "false"])
        .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .args([
            "-eval",
            "io:format(\"~s~n\", [erlang:system_info(otp_release)]), timer:sleep(infinity).",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = erl.stdout.take().unwrap();
    let _erl = Guard(erl);

    let mut release = String::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        release.push(char::from(byte[0]));
    }
    let release: u32 = release.trim().parse().expect("OTP release");
    // Hive's flags are those of OTP 25; OTP only talks to two releases either way.
    assert!(
        (25..=27).contains(&release),
        "OTP {release}: update dist/flags.rs"
    );

    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if epmd_names(port).is_some_and(|n| n.contains("name envcheck at port ")) {
            break;
        }
        assert!(
            Instant::now() < end,
            "erl did not register with a private epmd on 127.0.0.1:{port}"
        );
        thread::sleep(Duration::from_millis(50)); // poll interval; `end` is the bound
    }
}
