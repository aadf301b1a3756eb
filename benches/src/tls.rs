//! The throwaway PKI of the TLS distribution workloads (`dist_*_tls`, issue 18): made once
//! per run of a runner, in `<out-dir>/tls/`, and given to the Hive programs and the Erlang
//! peers of those workloads as the environment variable [`TLS_DIR_ENV`].
//!
//! The directory holds (ECDSA P-256, made by rcgen with ring, as
//! `crates/hive-rt/tests/common/tls.rs` does for the tests):
//! - `ca.pem`: a self-signed CA;
//! - `node.pem`, `node.key`: one certificate signed by it, valid for `localhost` and
//!   `127.0.0.1` (the host of every bench node), used by both nodes of either side;
//! - `erl.conf`: the `-ssl_dist_optfile` of the Erlang nodes, mutual TLS (`verify_peer` in
//!   both roles, `fail_if_no_peer_cert` as server), as `docs/distribution.md` shows.
//!
//! The Hive programs set `tls_cert_file`, `tls_key_file` and `tls_ca_file` of both nodes
//! (`benches/stress/common/dist.h`); the Erlang launcher runs both nodes with
//! `-proto_dist inet_tls -ssl_dist_optfile <dir>/erl.conf`
//! (`benches/peers/erlang/hive_peer_dist.erl`).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// The environment variable that carries the PKI's directory to the programs.
pub const TLS_DIR_ENV: &str = "HIVE_BENCH_TLS_DIR";

/// Makes the PKI in `dir` (created, its old files replaced) and returns the directory,
/// absolute when it can be made so.
pub fn make_pki(dir: &Path) -> Result<PathBuf, String> {
    let io = |what: &str, e: std::io::Error| format!("{what} {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", e))?;
    let dir = dir.canonicalize().map_err(|e| io("cannot resolve", e))?;
    let err = |e: rcgen::Error| format!("making the bench PKI: {e}");

    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Hive bench CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;

    let mut node = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(err)?;
    node.distinguished_name.push(DnType::CommonName, "node");
    let key = KeyPair::generate().map_err(err)?;
    let cert = node.signed_by(&key, &ca).map_err(err)?;

    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| io(&format!("cannot write {name} in"), e))
    };
    write("ca.pem", &ca.pem())?;
    write("node.pem", &cert.pem())?;
    write("node.key", &key.serialize_pem())?;
    write("erl.conf", &erl_optfile(&dir))?;
    Ok(dir)
}

/// The text of the Erlang nodes' `-ssl_dist_optfile` for the PKI in `dir`.
pub fn erl_optfile(dir: &Path) -> String {
    let f = |s: &str| dir.join(s).display().to_string();
    let common = format!(
        "{{certfile, \"{}\"}}, {{keyfile, \"{}\"}}, {{cacertfile, \"{}\"}}, \
         {{verify, verify_peer}}",
        f("node.pem"),
        f("node.key"),
        f("ca.pem"),
    );
    format!("[{{server, [{common}, {{fail_if_no_peer_cert, true}}]}},\n {{client, [{common}]}}].\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_the_pki_files() {
        let dir = std::env::temp_dir().join(format!("hive-bench-tls-{}", std::process::id()));
        let got = make_pki(&dir).unwrap();
        for f in ["ca.pem", "node.pem", "node.key", "erl.conf"] {
            let text = std::fs::read_to_string(got.join(f)).unwrap();
            assert!(!text.is_empty(), "{f}");
        }
        let pem = std::fs::read_to_string(got.join("node.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let conf = std::fs::read_to_string(got.join("erl.conf")).unwrap();
        assert!(conf.contains("verify_peer") && conf.contains("fail_if_no_peer_cert"));
        assert!(conf.contains(&got.join("node.key").display().to_string()));
        // A second run replaces the files.
        make_pki(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
