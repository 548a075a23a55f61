//! End-to-end harness: the real `pasokh` binary on loopback, free ports, a private data folder,
//! and real peers (SIPp, baresip) run with hard time limits. A missing tool fails the test loudly.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Panics (fails the test) when a tool the test needs is not installed.
pub fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
        .unwrap_or(false);
    assert!(found, "required tool `{tool}` is not installed: run ./scripts/test.sh, which installs the test tools");
}

/// A port free for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(udp) = UdpSocket::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = udp.local_addr() else { continue };
        if TcpListener::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free port on 127.0.0.1");
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn temp_dir(name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pasokh-e2e-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// How the engine is started: the log filter (`None`: `RUST_LOG` unset), whether the test's
/// configuration names the repository's prompts and flows, and flags after `serve --config`.
struct Launch {
    rust_log: Option<&'static str>,
    bundled_paths: bool,
    args: Vec<String>,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            rust_log: Some("info,pasokh=debug"),
            bundled_paths: true,
            args: Vec::new(),
        }
    }
}

pub struct Engine {
    child: Child,
    pub sip: u16,
    pub http: u16,
    pub data: PathBuf,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Engine {
    /// Starts the engine with extra TOML configuration lines and waits for `/api/health`.
    /// A port picked free can be taken by another test's process before the engine binds it: the
    /// start is then retried on fresh ports (any other start-up failure fails the test at once).
    pub fn start(name: &str, toml: &str) -> Engine {
        Self::start_with_flows(name, toml, &repo_dir().join("ivr-flows"))
    }

    /// As [`Engine::start`], with the IVR flows read from `flows` instead of the bundled ones.
    pub fn start_with_flows(name: &str, toml: &str, flows: &Path) -> Engine {
        Self::start_prepared(name, toml, flows, &|_| {})
    }

    /// As [`Engine::start`], after `prepare` has been given the data folder (created, empty):
    /// a test mounts a small disk there, for example.
    pub fn start_on_prepared_data(name: &str, toml: &str, prepare: &dyn Fn(&Path)) -> Engine {
        Self::start_prepared(name, toml, &repo_dir().join("ivr-flows"), prepare)
    }

    /// As an operator starts it: no `RUST_LOG` (the default level), the current folder a fresh
    /// one outside the repository, no prompts or flows named (the bundled ones must be found
    /// from the program), output to a file (not a terminal), and `args` after `serve`.
    pub fn start_as_operator(name: &str, toml: &str, args: &[&str]) -> Engine {
        let launch = Launch {
            rust_log: None,
            bundled_paths: false,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        Self::start_launched(name, toml, &repo_dir().join("ivr-flows"), &|_| {}, &launch)
    }

    /// As [`Engine::start`], with `args` after `serve --config FILE` (e.g. `--tls-cert`). With
    /// `--tls-cert` the engine is taken as up once its port answers plain HTTP with the pointer
    /// to HTTPS (the test then speaks TLS itself).
    pub fn start_with_args(name: &str, toml: &str, args: &[&str]) -> Engine {
        let launch = Launch {
            args: args.iter().map(|a| a.to_string()).collect(),
            ..Launch::default()
        };
        Self::start_launched(name, toml, &repo_dir().join("ivr-flows"), &|_| {}, &launch)
    }

    fn start_prepared(name: &str, toml: &str, flows: &Path, prepare: &dyn Fn(&Path)) -> Engine {
        Self::start_launched(name, toml, flows, prepare, &Launch::default())
    }

    fn start_launched(
        name: &str,
        toml: &str,
        flows: &Path,
        prepare: &dyn Fn(&Path),
        launch: &Launch,
    ) -> Engine {
        for _ in 0..4 {
            match Self::try_start(name, toml, flows, prepare, launch) {
                Ok(engine) => return engine,
                Err(log) if log.contains("Address already in use") => {
                    eprintln!("engine start lost a port race, retrying on other ports");
                }
                Err(log) => panic!("engine did not become healthy; log:\n{log}"),
            }
        }
        panic!("engine could not bind free ports in four attempts");
    }

    fn try_start(
        name: &str,
        toml: &str,
        flows: &Path,
        prepare: &dyn Fn(&Path),
        launch: &Launch,
    ) -> Result<Engine, String> {
        let dir = temp_dir(name);
        let data = dir.join("data");
        std::fs::create_dir_all(&data)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));
        prepare(&data);
        let (sip, http) = (free_port(), free_port());
        let slot = 200 + (std::process::id() + NEXT.fetch_add(1, Ordering::Relaxed)) % 500;
        let rtp_low = 20_000 + (slot % 120) * 100;
        let bundled = if launch.bundled_paths {
            format!(
                "prompts = \"{}\"\nflows = \"{}\"\n",
                repo_dir().join("prompts/fa").display(),
                flows.display(),
            )
        } else {
            String::new()
        };
        let config = format!(
            "sip = \"127.0.0.1:{sip}\"\nhttp = \"127.0.0.1:{http}\"\ndata = \"{}\"\nrtp_ports = \"{}-{}\"\n{bundled}{toml}\n",
            dir.join("data").display(),
            rtp_low,
            rtp_low + 99,
        );
        let config_path = dir.join("pasokh.toml");
        std::fs::write(&config_path, config).unwrap_or_else(|e| panic!("cannot write config: {e}"));
        let log = dir.join("engine.log");
        let log_file =
            std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create log: {e}"));
        let err_file = log_file.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_pasokh"));
        command
            .args(["serve", "--config"])
            .arg(&config_path)
            .args(&launch.args)
            .env_remove("PASOKH_LOG_FORMAT")
            .stdout(log_file)
            .stderr(err_file);
        if !launch.bundled_paths {
            // Nothing to find in the current folder: what is bundled is found from the program.
            command.current_dir(&dir);
        }
        match launch.rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start pasokh: {e}"));
        let engine = Engine {
            child,
            sip,
            http,
            data: dir.join("data"),
            dir,
            log,
        };
        let https = launch.args.iter().any(|a| a == "--tls-cert");
        if engine.wait_healthy(https) {
            Ok(engine)
        } else {
            Err(engine.log_text())
        }
    }

    /// Whether `/api/health` answers within 20 s (false at once if the engine exited); over
    /// HTTPS, whether the port answers plain HTTP with its pointer to `https://`.
    fn wait_healthy(&self, https: bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match http_get(self.http, "/api/health", None) {
                Some((200, _)) if !https => return true,
                Some((400, body)) if https && body.contains("serves HTTPS") => return true,
                _ => {}
            }
            if self.log_text().contains("Address already in use") {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The engine's process id (to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("pasokh.toml")
    }

    /// Runs a management command against this engine's configuration.
    pub fn cli(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_pasokh"))
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run pasokh {args:?}: {e}"));
        assert!(
            output.status.success(),
            "pasokh {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    pub fn token(&self, role: &str) -> String {
        let out = self.cli(&["token", "create", "--role", role]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        http_get(self.http, path, token).unwrap_or_else(|| panic!("GET {path} failed"))
    }

    /// GET as JSON with an admin token.
    pub fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.get(path, Some(token));
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: bad JSON {e}: {body}"))
    }

    /// Polls `/api/calls` until `done` holds for the list, or panics after `within`.
    pub fn wait_calls(
        &self,
        token: &str,
        within: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let calls = self.get_json("/api/calls?limit=100", token);
            let list = calls.as_array().cloned().unwrap_or_default();
            if done(&list) {
                return list;
            }
            if Instant::now() > deadline {
                panic!("calls never reached the expected state: {list:#?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("engine log kept in {}", self.log.display());
        }
    }
}

/// A minimal HTTP/1.1 GET over loopback: (status, body).
pub fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, dechunk(&body)))
}

/// A raw `GET` for binary bodies: (status, content type, body).
pub fn http_get_bytes(port: u16, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to the API: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of headers"));
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let mut body = raw[end + 4..].to_vec();
    assert!(
        header("transfer-encoding").is_none(),
        "GET {path}: a recording is sent with its length"
    );
    if let Some(length) = header("content-length").and_then(|l| l.parse().ok()) {
        body.truncate(length);
    }
    (status, header("content-type").unwrap_or_default(), body)
}

/// Undoes chunked transfer encoding when present (axum streams some bodies).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if size == 0 {
            return out;
        }
        if after.len() < size {
            return body.to_string();
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}

/// Runs a child to completion within `limit`, killing it past that. Returns its output.
pub fn run_bounded(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                break;
            }
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait failed: {e}"))
}

/// SIPp as a caller: one call of `scenario` (a file in sipp-scenarios/) to `service`.
pub fn sipp(
    engine: &Engine,
    scenario: &str,
    service: &str,
    extra: &[&str],
    limit: Duration,
) -> Output {
    require("sipp");
    let work = temp_dir("sipp");
    let mut command = Command::new("sipp");
    command
        .current_dir(&work)
        .arg(format!("127.0.0.1:{}", engine.sip))
        .arg("-sf")
        .arg(repo_dir().join("sipp-scenarios").join(scenario))
        .args(["-s", service, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-p",
            &free_port().to_string(),
            "-mp",
            &free_port().to_string(),
        ])
        .args(["-m", "1", "-r", "1", "-nostdin", "-trace_err"])
        .args(["-timeout", &format!("{}s", limit.as_secs().max(2) - 1)])
        .args(extra);
    let output = run_bounded(command, limit);
    let errors: String = std::fs::read_dir(&work)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("_errors.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    if !output.status.success() {
        eprintln!(
            "sipp {scenario} failed: {}\n{}\nerrors:\n{errors}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    output
}

pub fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: exit {:?}",
        output.status.code()
    );
}

/// Reads a file fully, for assertions.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub mod browser;
pub mod heard;
pub mod ivr_call;
pub mod pcap;
pub mod rtp;
pub mod wav;

impl Engine {
    /// Asks the engine to stop as an operator or systemd does (SIGTERM).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "kill -TERM: {status:?}"
        );
    }

    /// Waits up to `limit` for the engine to exit; its exit code, or `None` if it is still up.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Kills the engine with SIGKILL (no clean shutdown), as a crash or power cut would.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the engine again on the same configuration and data folder (after `kill9`),
    /// appending to the same log, and waits for `/api/health`.
    pub fn restart(&mut self) {
        let log_file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("cannot open log: {e}"));
        let err_file = log_file.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        self.child = Command::new(env!("CARGO_BIN_EXE_pasokh"))
            .args(["serve", "--config"])
            .arg(self.config_path())
            .env("RUST_LOG", "info,pasokh=debug")
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot restart pasokh: {e}"));
        assert!(
            self.wait_healthy(false),
            "engine did not come back; log:\n{}",
            self.log_text()
        );
    }
}
pub mod phone;

/// One HTTP/1.1 request over loopback with a bearer token: (status, body).
pub fn http_send(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to the API: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
