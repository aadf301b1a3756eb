//! A throwaway PKI for the TLS distribution tests (`tests/dist_tls.rs`): a CA, and
//! certificates it signs, written as PEM files to a private directory removed on drop.
//!
//! Certificates (ECDSA P-256, made by rcgen):
//! - `node`: valid for `localhost` and `127.0.0.1`, the host of every test node;
//! - `wronghost`: signed by the same CA but valid only for `elsewhere.example`;
//! - `rogue`: valid for `localhost`, signed by another CA that no node trusts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hive_rt::dist::TlsOptions;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A directory of PEM files: `ca.pem`, and `<name>.pem` / `<name>.key` per certificate.
pub(crate) struct Pki {
    dir: PathBuf,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(p, KeyPair::generate().expect("key")).expect("CA")
}

impl Pki {
    /// Makes the CA and the three certificates in a fresh directory named after `tag`.
    pub(crate) fn new(tag: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("hive-tls-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("tls dir");
        let pki = Pki { dir };
        let trusted = ca("Hive test CA");
        let other = ca("Rogue CA");
        std::fs::write(pki.dir.join("ca.pem"), trusted.pem()).expect("write");
        pki.issue("node", &["localhost", "127.0.0.1"], &trusted);
        pki.issue("wronghost", &["elsewhere.example"], &trusted);
        pki.issue("rogue", &["localhost", "127.0.0.1"], &other);
        pki
    }

    fn issue(&self, name: &str, sans: &[&str], by: &CertifiedIssuer<'static, KeyPair>) {
        let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
        p.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("key");
        let cert = p.signed_by(&key, by).expect("sign");
        std::fs::write(self.dir.join(format!("{name}.pem")), cert.pem()).expect("write");
        std::fs::write(self.dir.join(format!("{name}.key")), key.serialize_pem()).expect("write");
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hive TLS options with certificate `name` and the trusted CA (secure defaults).
    pub(crate) fn opts(&self, name: &str) -> TlsOptions {
        TlsOptions::new(
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
            self.dir.join("ca.pem"),
        )
    }

    /// Writes an `-ssl_dist_optfile` for `erl` using certificate `name`: mutual TLS
    /// (`verify_peer`, `fail_if_no_peer_cert`) in both roles, as `docs/distribution.md`
    /// shows; `extra` is appended to both sections (e.g. `{versions, ['tlsv1.3']}`).
    /// Returns its path.
    pub(crate) fn erl_optfile(&self, name: &str, extra: &str) -> PathBuf {
        let f = |s: &str| self.dir.join(s).display().to_string();
        let common = format!(
            "{{certfile, \"{}\"}}, {{keyfile, \"{}\"}}, {{cacertfile, \"{}\"}}, \
             {{verify, verify_peer}}{extra}",
            f(&format!("{name}.pem")),
            f(&format!("{name}.key")),
            f("ca.pem"),
        );
        let text = format!(
            "[{{server, [{common}, {{fail_if_no_peer_cert, true}}]}},\n \
             {{client, [{common}]}}].\n"
        );
        let path = self.dir.join(format!("erl-{name}.conf"));
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
