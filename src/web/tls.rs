//! HTTPS for the pages and the API (`serve --tls-cert FILE --tls-key FILE`).
//!
//! Browsers give a page the microphone only on a secure origin, so a call-taker's or manager's
//! browser phone needs HTTPS unless the page is opened on the machine itself. The engine serves
//! TLS itself with rustls (pure Rust, no system library to install) from PEM files an operator
//! already has (a certificate chain and its private key, as certbot or an internal CA writes
//! them); behind a reverse proxy that ends TLS, neither flag is given (README).
//!
//! The files are read once at start: a mistake stops `serve` with the file's name and what is
//! wrong, instead of a server that silently speaks plain HTTP.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

pub use tokio_rustls::TlsAcceptor;

/// Why the certificate or key cannot be used; always names the file.
#[derive(Debug)]
pub enum TlsError {
    /// The file cannot be read (missing, no permission).
    Read { path: PathBuf, detail: String },
    /// The certificate file holds no `BEGIN CERTIFICATE` block, or a broken one.
    NoCertificate { path: PathBuf, detail: String },
    /// The key file holds no private key, or a broken one.
    NoKey { path: PathBuf, detail: String },
    /// rustls refused the pair (the key does not belong to the certificate, an unsupported key).
    Refused {
        cert: PathBuf,
        key: PathBuf,
        detail: String,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, detail } => {
                write!(f, "cannot read {}: {detail}", path.display())
            }
            TlsError::NoCertificate { path, detail } => write!(
                f,
                "{} holds no usable certificate ({detail}): give the PEM file with the \
                 server's certificate first, then its intermediates (e.g. certbot's \
                 fullchain.pem)",
                path.display()
            ),
            TlsError::NoKey { path, detail } => write!(
                f,
                "{} holds no usable private key ({detail}): give the PEM file with the \
                 certificate's key (PKCS#8, PKCS#1 or SEC1; e.g. certbot's privkey.pem)",
                path.display()
            ),
            TlsError::Refused { cert, key, detail } => write!(
                f,
                "the key {} does not fit the certificate {} ({detail})",
                key.display(),
                cert.display()
            ),
        }
    }
}

impl std::error::Error for TlsError {}

/// Reads the certificate chain and key and builds the acceptor every HTTPS connection uses.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::NoCertificate {
            path: cert.to_path_buf(),
            detail: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
            detail: "no BEGIN CERTIFICATE block".into(),
        });
    }
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| TlsError::NoKey {
        path: key.to_path_buf(),
        detail: error.to_string(),
    })?;
    // aws-lc-rs: the crypto library str0m's DTLS brings anyway (one library, not two), and the
    // one rustls recommends (it offers the post-quantum hybrid key exchange browsers now use).
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, private_key)
        })
        .map_err(|error| TlsError::Refused {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            detail: error.to_string(),
        })?;
    // The server speaks HTTP/1.1 only (WebSockets ride on it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        path: path.to_path_buf(),
        detail: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::TempDir;

    fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::create_dir_all(dir.path()).ok();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path
    }

    fn message(result: Result<TlsAcceptor, TlsError>) -> String {
        match result {
            Ok(_) => panic!("accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = TempDir::new("tls-missing");
        let key = write(&dir, "key.pem", "");
        let text = message(acceptor(&dir.path().join("nowhere.pem"), &key));
        assert!(text.starts_with("cannot read "), "{text}");
        assert!(text.contains("nowhere.pem"), "{text}");
    }

    #[test]
    fn files_without_pem_blocks_say_what_was_expected() {
        let dir = TempDir::new("tls-empty");
        let cert = write(&dir, "cert.pem", "not a certificate\n");
        let key = write(&dir, "key.pem", "not a key\n");
        let text = message(acceptor(&cert, &key));
        assert!(
            text.contains("cert.pem holds no usable certificate"),
            "{text}"
        );
        let cert = write(
            &dir,
            "cert2.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        );
        let text = message(acceptor(&cert, &key));
        assert!(
            text.contains("key.pem holds no usable private key"),
            "{text}"
        );
    }
}
