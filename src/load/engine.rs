//! The engine under load: this same program, `serve`d as a separate process on a fresh data
//! folder and free loopback ports, seeded beforehand with what the paths need; and a minimal
//! HTTP client for its API and `/metrics`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use crate::app::demo;
use crate::config::Config;
use crate::engine::{FilingStage, NewMessage};
use crate::sip::registrar::UserCredentials;
use crate::store::{Role, Screening, Store};

use super::plan::{Codes, REPLY_CALLER};
use super::LoadError;

/// The engine's RTP ports in the load; the callers' and call-takers' media ports stay outside.
pub const ENGINE_RTP: (u16, u16) = (20_000, 39_999);

/// The next port tried for SIP, HTTP and SIPp's control sockets: above the kernel's ephemeral
/// range (32768-60999 by default), so nothing else takes them meanwhile, and apart from every
/// media range of the load.
static NEXT_PORT: AtomicU16 = AtomicU16::new(61_000);

/// A port free for both UDP and TCP on loopback, for SIP, HTTP and SIPp's control.
pub fn free_port() -> Result<u16, LoadError> {
    loop {
        let port = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        if port >= 65_000 {
            return Err(LoadError::Setup(
                "no free port between 61000 and 65000".into(),
            ));
        }
        let udp = UdpSocket::bind(("127.0.0.1", port));
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port));
        if udp.is_ok() && tcp.is_ok() {
            return Ok(port);
        }
    }
}

/// Whether UDP `port` and `port + 2` (SIPp's audio and video sockets) are free.
pub fn media_pair_free(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok()
}

pub struct Engine {
    pub child: Child,
    pub sip: SocketAddr,
    pub http: SocketAddr,
    pub data: PathBuf,
    pub log: PathBuf,
    pub admin_token: String,
}

/// How long the engine may drain after SIGTERM before it is killed.
const STOP_WAIT: Duration = Duration::from_secs(180);

/// The call-takers the load logs in: IDs and passwords.
pub fn agent_ids(count: u32) -> Vec<(String, String)> {
    (0..count)
        .map(|i| (format!("{}", 7001 + i), format!("load-agent-{}", 7001 + i)))
        .collect()
}

/// Writes the engine's configuration and seeds its store: the demo's cases and managers, the
/// call-takers (queues 137 and 1888 only: nobody serves the zoning desk), an admin token, and two
/// messages for the follow-up paths (one with the manager's voice reply). Returns the codes.
pub fn prepare(
    work: &Path,
    config: &Config,
    agents: u32,
    prefill: u64,
    speech: &[i16],
) -> Result<(PathBuf, String, Codes, SocketAddr, SocketAddr), LoadError> {
    let data = work.join("data");
    let sip: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let http: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let text = format!(
        "# Written by `pasokh load`: the engine under load.\n\
         sip = \"{sip}\"\nhttp = \"{http}\"\ndata = \"{data}\"\n\
         prompts = \"{prompts}\"\nflows = \"{flows}\"\n\
         rtp_ports = \"{lo}-{hi}\"\n\
         # SIPp carries every call from one address, like a carrier's trunk.\n\
         max_unconfirmed_per_source = 1000000\nmax_port_share_per_source = 100\n\
         # SIPp answers MD5 digest challenges only.\n\
         md5_only_user_agents = [\"sipp-agent\"]\n\
         # A day compressed into minutes compresses the call-takers' after-call work too.\n\
         [queues.137]\nwrap_up_s = 2\n[queues.1888]\nwrap_up_s = 2\n",
        data = data.display(),
        prompts = absolute(&config.prompts).display(),
        flows = absolute(&config.flows).display(),
        lo = ENGINE_RTP.0,
        hi = ENGINE_RTP.1,
    );
    let config_file = work.join("pasokh.toml");
    std::fs::write(&config_file, text)
        .map_err(|e| LoadError::Setup(format!("{}: {e}", config_file.display())))?;
    std::fs::create_dir_all(&data)
        .map_err(|e| LoadError::Setup(format!("{}: {e}", data.display())))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let (token, codes) = runtime.block_on(async {
        let store = Store::open(&data)
            .await
            .map_err(|e| LoadError::Setup(e.to_string()))?;
        let mut seeded = seed(&store, config, agents, &data, speech).await;
        if seeded.is_ok() && prefill > 0 {
            let now = crate::store::unix_ms_now();
            if let Err(e) = super::growth::prefill(&store, prefill, now).await {
                seeded = Err(LoadError::Setup(format!("prefilling the store: {e}")));
            }
        }
        store.close().await;
        seeded
    })?;
    Ok((config_file, token, codes, sip, http))
}

async fn seed(
    store: &Store,
    config: &Config,
    agents: u32,
    data: &Path,
    speech: &[i16],
) -> Result<(String, Codes), LoadError> {
    let fail = |e: crate::store::StoreError| LoadError::Setup(format!("seeding the store: {e}"));
    demo::seed(store, config).await.map_err(fail)?;
    let queues = vec![("137".to_string(), 0), ("1888".to_string(), 0)];
    for (id, password) in agent_ids(agents) {
        let credentials = UserCredentials::from_password(&id, &config.realm, &password);
        store
            .add_agent(&id, &format!("Load agent {id}"), &credentials, &queues)
            .await
            .map_err(fail)?;
    }
    let token = store.create_token(&Role::Admin).await.map_err(fail)?;

    // Two earlier voice messages, as the engine files them: their recordings on disk first.
    let recordings = data.join("recordings").join("load-seed");
    std::fs::create_dir_all(&recordings).map_err(|e| LoadError::Setup(e.to_string()))?;
    let mut wav = crate::media::wav::header((speech.len() * 2) as u64).to_vec();
    crate::media::wav::samples_to_bytes(speech, &mut wav);
    for name in ["message-1.wav", "message-2.wav", "reply-2.wav"] {
        std::fs::write(recordings.join(name), &wav).map_err(|e| LoadError::Setup(e.to_string()))?;
    }
    let now = crate::store::unix_ms_now();
    let mut codes = Vec::new();
    for (n, caller) in [(1, "02188776655"), (2, REPLY_CALLER)] {
        let message = NewMessage {
            call_ref: format!("load-seed-{n}"),
            call_id: format!("load-seed-{n}"),
            line: "1888".into(),
            kind: "complaint".into(),
            district: Some(3),
            category: None,
            case_number: None,
            caller: caller.into(),
            recording: Some(format!("load-seed/message-{n}.wav")),
            created_at: now,
            stage: FilingStage::Whole,
        };
        let code = store
            .file_message(&message)
            .await
            .map_err(fail)?
            .ok_or_else(|| {
                LoadError::Setup("a seeded voice message got no tracking code".into())
            })?;
        codes.push(code);
    }
    let replied = codes.pop().unwrap_or_default();
    let filed = codes.pop().unwrap_or_default();
    let refer = Screening::Refer {
        mailbox: "501".into(),
    };
    store
        .screen_message(&replied, &refer, "load")
        .await
        .map_err(fail)?;
    store
        .save_reply(&replied, "501", "load-seed/reply-2.wav", "phone")
        .await
        .map_err(fail)?;
    Ok((token, Codes { filed, replied }))
}

impl Engine {
    /// Starts `serve` with the prepared configuration and waits (30 s at most) for its API.
    pub fn start(
        work: &Path,
        config_file: PathBuf,
        admin_token: String,
        sip: SocketAddr,
        http: SocketAddr,
    ) -> Result<Engine, LoadError> {
        let program = std::env::current_exe().map_err(|e| LoadError::Setup(e.to_string()))?;
        let log = work.join("engine.log");
        let log_file = std::fs::File::create(&log).map_err(|e| LoadError::Setup(e.to_string()))?;
        let child = Command::new(program)
            .arg("serve")
            .arg("--config")
            .arg(&config_file)
            .env(
                "RUST_LOG",
                std::env::var("PASOKH_LOAD_ENGINE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| LoadError::Setup(format!("cannot start the engine: {e}")))?;
        let mut engine = Engine {
            child,
            sip,
            http,
            data: work.join("data"),
            log,
            admin_token,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = engine.child.try_wait() {
                let log = std::fs::read_to_string(&engine.log).unwrap_or_default();
                return Err(LoadError::Setup(format!(
                    "the engine stopped at start ({status}):\n{log}"
                )));
            }
            if http_request(http, "GET", "/api/health", None, None)
                .is_ok_and(|(code, _)| code == 200)
            {
                return Ok(engine);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        engine.stop();
        Err(LoadError::Setup(
            "the engine's API did not answer within 30 s".into(),
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The value of an unlabelled `/metrics` series, or the sum of a labelled one.
    pub fn metrics(&self) -> Option<String> {
        http_request(self.http, "GET", "/metrics", None, None)
            .ok()
            .map(|(_, body)| body)
    }

    /// Stops the engine as an operator would (SIGTERM: it drains calls and flushes the store),
    /// killing it if it has not gone within `STOP_WAIT` (an overloaded day may leave
    /// thousands of calls to drain, each of which still files its message).
    pub fn stop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: a plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Sums every sample of the series `name` in a `/metrics` text (labelled or not).
pub fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        if let Some(value) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            found = Some(found.unwrap_or(0.0) + value);
        }
    }
    found
}

/// CPU seconds (user + system) and peak resident memory (kB) of process `pid`, from /proc.
pub fn process_usage(pid: u32) -> (f64, u64) {
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .unwrap_or(0.0);
    let peak = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0);
    (cpu, peak)
}

/// One HTTP/1.1 request over a fresh connection; the status code and body.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or("no HTTP head")?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no HTTP status")?;
    // Chunked bodies (hyper's default for streamed ones): join the chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((code, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sums_add_labelled_series_and_ignore_longer_names() {
        let text = "# HELP x\npasokh_calls_active 12\npasokh_calls_active_peak 99\n\
                    pasokh_queue_waiting{queue=\"137\"} 3\npasokh_queue_waiting{queue=\"1888\"} 4\n";
        assert_eq!(metric_sum(text, "pasokh_calls_active"), Some(12.0));
        assert_eq!(metric_sum(text, "pasokh_queue_waiting"), Some(7.0));
        assert_eq!(metric_sum(text, "pasokh_nothing"), None);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }
}
