//! TLS distribution: connections wrapped in TLS (rustls, ring provider), compatible with
//! OTP's `inet_tls_dist` (`-proto_dist inet_tls`, `docs/distribution.md`, "TLS").
//!
//! As `inet_tls_dist` does, TLS starts at once on the TCP connection; inside it the
//! version-6 handshake runs with 4-byte length headers (not the 2-byte ones of plain TCP)
//! and then the usual frames. EPMD stays in clear.
//!
//! Security, by default: mutual TLS (an accepting node requires and verifies the peer's
//! certificate against the configured CA, as `{verify, verify_peer}` with
//! `{fail_if_no_peer_cert, true}`); the connecting node verifies the acceptor's certificate
//! for the host part of its node name; and the node names are bound to the certificates —
//! an accepting node refuses (`not_allowed`) a peer whose certificate is not valid for the
//! host part of the node name it announced. rustls offers TLS 1.2 and 1.3 with AEAD suites
//! and forward secrecy only. The cookie is still checked afterwards, as OTP does.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};

use crate::io::api::{self as net, Socket};
use crate::io::frame::Next;

/// TLS settings of a node ([`super::Options::tls`]), as the `server` and `client` sections
/// of an `-ssl_dist_optfile` with `certfile`, `keyfile`, `cacertfile` and `verify_peer`.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    /// PEM file with this node's certificate, then its intermediates (OTP `certfile`).
    /// Used in both roles: as the server certificate when accepting and the client
    /// certificate when connecting.
    pub cert_chain: PathBuf,
    /// PEM file with the certificate's private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)
    /// (OTP `keyfile`).
    pub key: PathBuf,
    /// PEM file with the CA certificates trusted to sign peers' certificates (OTP
    /// `cacertfile`).
    pub ca: PathBuf,
    /// An accepting node requires a client certificate (mutual TLS, OTP's
    /// `{fail_if_no_peer_cert, true}`). Default true; false still verifies one presented.
    pub require_peer_cert: bool,
    /// Refuse a peer whose certificate is not valid for the host part of its node name
    /// (e.g. `localhost` for `a@localhost`): a certificate stolen from one host cannot
    /// speak for another. Default true. The connecting side always checks the acceptor's
    /// certificate for that host, as OTP's client does with `verify_peer`.
    pub check_node_names: bool,
}

impl TlsOptions {
    /// Options with the secure defaults (mutual TLS, node names bound to certificates) and
    /// these three PEM files.
    pub fn new(
        cert_chain: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        ca: impl Into<PathBuf>,
    ) -> TlsOptions {
        TlsOptions {
            cert_chain: cert_chain.into(),
            key: key.into(),
            ca: ca.into(),
            require_peer_cert: true,
            check_node_names: true,
        }
    }
}

/// The loaded configuration of a TLS node.
#[derive(Debug)]
pub(crate) struct Tls {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    pub(crate) check_node_names: bool,
}

/// Why TLS options could not be loaded: the file and what was wrong.
pub(crate) fn load(o: &TlsOptions) -> Result<Tls, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&o.cert_chain)
        .and_then(|i| i.collect())
        .map_err(|e| format!("{}: {e:?}", o.cert_chain.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", o.cert_chain.display()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&o.key).map_err(|e| format!("{}: {e:?}", o.key.display()))?;
    let mut roots = RootCertStore::empty();
    let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&o.ca)
        .and_then(|i| i.collect())
        .map_err(|e| format!("{}: {e:?}", o.ca.display()))?;
    let (added, _) = roots.add_parsable_certificates(cas);
    if added == 0 {
        return Err(format!("{}: no usable CA certificate", o.ca.display()));
    }
    let roots = Arc::new(roots);
    let mut verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    );
    if !o.require_peer_cert {
        verifier = verifier.allow_unauthenticated();
    }
    let verifier = verifier.build().map_err(|e| format!("CA: {e}"))?;
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs.clone(), key.clone_key())
        .map_err(|e| format!("certificate and key: {e}"))?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    Ok(Tls {
        client: Arc::new(client),
        server: Arc::new(server),
        check_node_names: o.check_node_names,
    })
}

impl Tls {
    /// A client connection to the node on `host` (the host part of its name), whose
    /// certificate must be valid for that host.
    pub(crate) fn client(&self, host: &str) -> Result<Connection, String> {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
        ClientConnection::new(self.client.clone(), name)
            .map(Connection::Client)
            .map_err(|e| e.to_string())
    }

    /// A server connection for an accepted socket.
    pub(crate) fn server(&self) -> Result<Connection, String> {
        rustls::ServerConnection::new(self.server.clone())
            .map(Connection::Server)
            .map_err(|e| e.to_string())
    }
}

/// Whether `cert`, a peer's end-entity certificate, is valid for the host part of `node`.
pub(crate) fn cert_names_node(cert: Option<&CertificateDer<'_>>, node: &str) -> bool {
    let Some(host) = node.split_once('@').map(|(_, h)| h) else {
        return false;
    };
    let Ok(name) = ServerName::try_from(host) else {
        return false;
    };
    let Some(cert) = cert else {
        return false;
    };
    webpki::EndEntityCert::try_from(cert)
        .is_ok_and(|c| c.verify_is_valid_for_subject_name(&name).is_ok())
}

/// A TLS connection over a blocking socket stream, for the TLS and distribution
/// handshakes.
pub(crate) struct TlsStream<'a, S: Read + Write> {
    pub(crate) conn: &'a mut Connection,
    pub(crate) io: &'a mut S,
}

impl<S: Read + Write> TlsStream<'_, S> {
    /// Runs the TLS handshake to its end.
    pub(crate) fn handshake(&mut self) -> std::io::Result<()> {
        while self.conn.is_handshaking() {
            let (r, w) = self.conn.complete_io(self.io)?;
            if r == 0 && w == 0 && self.conn.is_handshaking() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(())
    }
}

impl<S: Read + Write> TlsStream<'_, S> {
    /// Writes every TLS record rustls has ready.
    fn write_out(&mut self) -> std::io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(self.io)?;
        }
        Ok(())
    }
}

impl<S: Read + Write> Read for TlsStream<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.handshake()?;
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.conn.read_tls(self.io)? == 0 {
                return Ok(0);
            }
            self.conn
                .process_new_packets()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            self.write_out()?;
        }
    }
}

impl<S: Read + Write> Write for TlsStream<'_, S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.handshake()?;
        let n = self.conn.writer().write(buf)?;
        self.write_out()?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.write_out()
    }
}

/// Largest plaintext rustls buffers before its records are written out (bytes).
const BUFFER: usize = 256 * 1024;

/// A connected TLS connection in the controller's loop: ciphertext arrives in active-mode
/// messages (raw packets), plaintext leaves as whole 4-byte-framed frames.
pub(crate) struct Wire {
    conn: Connection,
    /// Plaintext not yet cut into frames.
    rx: Vec<u8>,
    out: Vec<u8>,
}

impl Wire {
    /// Takes over a connection whose handshakes are done. Plaintext rustls already holds
    /// (frames the peer sent right after the handshake) is kept for [`Wire::on_bytes`].
    pub(crate) fn new(mut conn: Connection) -> Wire {
        conn.set_buffer_limit(Some(BUFFER));
        let mut rx = Vec::new();
        let _ = conn.reader().read_to_end(&mut rx);
        Wire {
            conn,
            rx,
            out: Vec::new(),
        }
    }

    /// Feeds ciphertext read from the socket, writes what TLS must answer (alerts, key
    /// updates) to `s`, and calls `frame` with each whole frame of plaintext (empty ones
    /// are ticks). Errors: a TLS error, a frame larger than the frame limit, a `frame`
    /// error, or a failed send.
    pub(crate) fn on_bytes(
        &mut self,
        s: Socket,
        mut data: &[u8],
        timeout_ms: u32,
        mut frame: impl FnMut(&[u8]) -> Result<(), ()>,
    ) -> Result<(), &'static str> {
        // An empty `data` only hands out frames already decrypted (read_tls would take
        // an empty slice for end of stream).
        loop {
            self.drain(&mut frame)?;
            if data.is_empty() {
                break;
            }
            self.conn.read_tls(&mut data).map_err(|_| "tls read")?;
            let st = self
                .conn
                .process_new_packets()
                .map_err(|_| "tls protocol error")?;
            if st.peer_has_closed() && st.plaintext_bytes_to_read() == 0 {
                self.drain(&mut frame)?;
                return Err("peer closed tls");
            }
            self.flush(s, timeout_ms)?;
        }
        Ok(())
    }

    /// Moves decrypted plaintext into the frame buffer and hands out whole frames.
    fn drain(
        &mut self,
        frame: &mut impl FnMut(&[u8]) -> Result<(), ()>,
    ) -> Result<(), &'static str> {
        match self.conn.reader().read_to_end(&mut self.rx) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // Unexpected EOF (a peer that halted without close_notify) and the like.
            Err(_) => return Err("tls closed"),
        }
        let mut at = 0;
        let r = loop {
            match next_frame(&self.rx[at..]) {
                Next::Frame {
                    start,
                    end,
                    consumed,
                } => {
                    if frame(&self.rx[at + start..at + end]).is_err() {
                        break Err("bad frame");
                    }
                    at += consumed;
                }
                Next::More => break Ok(()),
                Next::TooLarge => break Err("frame too large"),
            }
        };
        self.rx.drain(..at);
        r
    }

    /// Encrypts `plain` and writes it to `s`, in pieces of at most the buffer limit.
    pub(crate) fn send(
        &mut self,
        s: Socket,
        mut plain: &[u8],
        timeout_ms: u32,
    ) -> Result<(), &'static str> {
        while !plain.is_empty() {
            let n = self.conn.writer().write(plain).map_err(|_| "tls write")?;
            plain = &plain[n..];
            self.flush(s, timeout_ms)?;
        }
        Ok(())
    }

    /// Writes the TLS records rustls has ready.
    fn flush(&mut self, s: Socket, timeout_ms: u32) -> Result<(), &'static str> {
        while self.conn.wants_write() {
            self.conn
                .write_tls(&mut self.out)
                .map_err(|_| "tls write")?;
        }
        if !self.out.is_empty() {
            let r = net::send(s, &self.out, Some(timeout_ms));
            self.out.clear();
            r.map_err(|_| "send failed")?;
        }
        Ok(())
    }
}

/// The next 4-byte-framed frame at the start of `b`.
fn next_frame(b: &[u8]) -> Next {
    if b.len() < 4 {
        return Next::More;
    }
    let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if len > crate::io::frame::MAX_FRAME {
        Next::TooLarge
    } else if b.len() < 4 + len {
        Next::More
    } else {
        Next::Frame {
            start: 4,
            end: 4 + len,
            consumed: 4 + len,
        }
    }
}
