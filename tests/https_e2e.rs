//! HTTPS for the pages and the API (`serve --tls-cert FILE --tls-key FILE`), against the release
//! binary: a certificate made by `openssl` for this run, `curl` trusting only that certificate,
//! a session cookie marked `Secure`, plain HTTP on the same port answered with where to go, and
//! a start refused with the file's name when the certificate or key cannot be used.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require, temp_dir, Engine};

/// A self-signed certificate for 127.0.0.1 and localhost, valid for two days.
fn make_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    require("openssl");
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(
        output.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (cert, key)
}

/// `curl` over HTTPS trusting only `ca`: (status, headers and body as text).
fn curl(ca: &Path, args: &[&str]) -> (u16, String) {
    require("curl");
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--include", "--max-time", "10"])
        .arg("--cacert")
        .arg(ca)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "curl {args:?} failed: {}{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn pages_and_api_are_served_over_https_with_a_secure_session_cookie() {
    let certs = temp_dir("https-certs");
    let (cert, key) = make_certificate(&certs);
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let engine = Engine::start_with_args(
        "https",
        "",
        &["--tls-cert", &cert_arg, "--tls-key", &key_arg],
    );
    let base = format!("https://127.0.0.1:{}", engine.http);

    let (status, text) = curl(&cert, &[&format!("{base}/api/health")]);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#"{"status":"ok"}"#), "{text}");

    // The API over TLS is the same API: a token reads, no token is refused.
    let token = engine.token("supervisor");
    let (status, text) = curl(
        &cert,
        &[
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{base}/api/queues"),
        ],
    );
    assert_eq!(status, 200, "{text}");
    let (status, _) = curl(&cert, &[&format!("{base}/api/queues")]);
    assert_eq!(status, 401);

    // Signing in to the wallboard over HTTPS sets a cookie the browser keeps to HTTPS.
    let (status, text) = curl(
        &cert,
        &[
            "-H",
            &format!("Origin: {base}"),
            "--data",
            &format!("token={token}"),
            &format!("{base}/signin"),
        ],
    );
    assert_eq!(status, 303, "{text}");
    let cookie = text
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie set: {text}"));
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }

    // Plain HTTP on the HTTPS port is told where to go, and HTTPS goes on being served.
    let (status, body) = common::http_get(engine.http, "/api/health", None)
        .unwrap_or_else(|| panic!("no answer to plain HTTP"));
    assert_eq!(status, 400);
    assert!(body.contains("use https://"), "{body}");
    let (status, _) = curl(&cert, &[&format!("{base}/api/health")]);
    assert_eq!(status, 200);

    // A client that does not trust the certificate is refused by its own TLS check.
    let output = Command::new("curl")
        .args([
            "--silent",
            "--max-time",
            "10",
            &format!("{base}/api/health"),
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
    assert!(
        !output.status.success(),
        "an untrusted certificate was accepted"
    );
    let _ = std::fs::remove_dir_all(&certs);
}

/// `pasokh serve` with `args` and nothing else: its exit status and what it printed.
fn serve_refused(args: &[&str]) -> String {
    let dir = temp_dir("https-refused");
    let output = Command::new(env!("CARGO_BIN_EXE_pasokh"))
        .args([
            "serve",
            "--sip",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir.join("data"))
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot start pasokh: {e}"));
    assert!(!output.status.success(), "serve {args:?} started");
    let _ = std::fs::remove_dir_all(&dir);
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_certificate_without_a_usable_key_stops_the_start_with_the_files_name() {
    let certs = temp_dir("https-bad");
    let (cert, _key) = make_certificate(&certs);
    let cert_arg = cert.display().to_string();

    let text = serve_refused(&["--tls-cert", &cert_arg]);
    assert!(text.contains("--tls-cert"), "{text}");
    assert!(text.contains("without tls_key"), "{text}");

    let not_a_key = certs.join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello\n").unwrap_or_else(|e| panic!("{e}"));
    let key_arg = not_a_key.display().to_string();
    let text = serve_refused(&["--tls-cert", &cert_arg, "--tls-key", &key_arg]);
    assert!(text.contains("cannot serve HTTPS"), "{text}");
    assert!(
        text.contains("not-a-key.pem holds no usable private key"),
        "{text}"
    );

    // The certificate given as its own key: a key file, but not this certificate's.
    let (_, other_key) = make_certificate(&certs.join("other"));
    let other_arg = other_key.display().to_string();
    let text = serve_refused(&["--tls-cert", &cert_arg, "--tls-key", &other_arg]);
    assert!(text.contains("does not fit the certificate"), "{text}");
    let _ = std::fs::remove_dir_all(&certs);
}
