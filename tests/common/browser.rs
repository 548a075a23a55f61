//! Headless Chromium for end-to-end tests, driven over WebDriver by chromedriver on a free
//! loopback port, and the small std-only HTTP/1.1 client that talks to it. Chromium and
//! chromedriver are required: a test that starts a browser fails loudly without them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{free_port, require, temp_dir};

// ---- a tiny HTTP/1.1 client (std only) -----------------------------------------------------

/// One request with `Connection: close`: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // Read until the reply is complete: some servers keep the connection open regardless.
    let mut raw = Vec::new();
    let mut buffer = [0_u8; 16 * 1024];
    loop {
        if let Some(reply) = complete_reply(&raw, false) {
            return Ok(reply);
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
            Err(error) => return Err(format!("{method} {path}: {error}")),
        }
    }
    complete_reply(&raw, true).ok_or_else(|| format!("{method} {path}: truncated reply"))
}

/// (status, body) once `raw` holds a whole response (by Content-Length or chunked framing);
/// without either, the body ends when the server closes the connection.
pub fn complete_reply(raw: &[u8], closed: bool) -> Option<(u16, String)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == "content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    let text = || String::from_utf8_lossy(body).to_string();
    match length {
        Some(length) => (body.len() >= length).then(|| (status, text())),
        None if head.contains("transfer-encoding: chunked") => body
            .ends_with(b"0\r\n\r\n")
            .then(|| (status, dechunk(&text()))),
        None => closed.then(|| (status, text())),
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16);
        match size {
            Ok(size) if size > 0 && after.len() >= size => {
                out.push_str(&after[..size]);
                rest = after[size..].trim_start_matches("\r\n");
            }
            _ => break,
        }
    }
    out
}

/// Full path of a program on `PATH` (after `require` checked it is there).
pub fn program_path(name: &str) -> PathBuf {
    require(name);
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
        .unwrap_or_else(|| panic!("{name} not found"))
}

/// Polls `probe` every 50 ms until it gives a value, or panics after `within`.
pub fn wait_for<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- a tiny WebDriver client ----------------------------------------------------------------

/// chromedriver on a free loopback port, with one headless Chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    dir: PathBuf,
}

/// The W3C key of an element reference in WebDriver replies.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts Chromium with `extra` arguments beside the usual headless ones.
    pub fn start(extra: &[String]) -> Browser {
        Self::start_with_env(extra, &[])
    }

    /// As [`Browser::start`], with the computer's time zone set to `zone` (the `TZ` of
    /// chromedriver, which Chromium inherits), as on a wall screen set to another zone.
    pub fn start_in_time_zone(zone: &str) -> Browser {
        Self::start_with_env(&[], &[("TZ", zone)])
    }

    fn start_with_env(extra: &[String], env: &[(&str, &str)]) -> Browser {
        let chromium = program_path("chromium");
        let chromedriver = program_path("chromedriver");
        let dir = temp_dir("chromium");
        let port = free_port();
        let log = std::fs::File::create(dir.join("chromedriver.log"))
            .unwrap_or_else(|e| panic!("cannot create the chromedriver log: {e}"));
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}"));
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            dir,
        };
        wait_for(Duration::from_secs(20), "chromedriver is ready", || {
            let (status, body) =
                http(port, "GET", "/status", &[], None, Duration::from_secs(2)).ok()?;
            let ready = serde_json::from_str::<Value>(&body).ok()?["value"]["ready"] == true;
            (status == 200 && ready).then_some(())
        });
        let profile = browser.dir.join("profile");
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1920,1080",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().cloned());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": args,
            },
        }}});
        let reply = browser
            .command(
                "POST",
                "/session",
                Some(capabilities),
                Duration::from_secs(90),
            )
            .unwrap_or_else(|e| panic!("cannot start Chromium: {e}\n{}", browser.driver_log()));
        browser.session = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {reply}"))
            .to_string();
        browser
    }

    pub fn driver_log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let start = text.len().saturating_sub(4_000);
        text.get(start..).unwrap_or_default().to_string()
    }

    /// One WebDriver command: the reply's `value`, or the WebDriver error as text.
    pub fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, String> {
        let body = body.map(|b| b.to_string());
        let headers = [("Content-Type", "application/json; charset=utf-8")];
        let (status, text) = http(self.port, method, path, &headers, body.as_deref(), timeout)?;
        let reply: Value =
            serde_json::from_str(&text).map_err(|e| format!("bad reply {e}: {text}"))?;
        if status == 200 {
            Ok(reply["value"].clone())
        } else {
            Err(format!("{status} {}", reply["value"]))
        }
    }

    pub fn session_command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        self.command(method, &path, body, Duration::from_secs(30))
    }

    pub fn navigate(&self, url: &str) {
        self.session_command("POST", "/url", Some(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The element matching a CSS selector, if there is one now.
    pub fn find(&self, css: &str) -> Option<String> {
        let body = json!({"using": "css selector", "value": css});
        let found = self.session_command("POST", "/element", Some(body)).ok()?;
        found[ELEMENT_KEY].as_str().map(str::to_string)
    }

    pub fn type_into(&self, element: &str, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .unwrap_or_else(|e| panic!("cannot type: {e}"));
    }

    pub fn click(&self, element: &str) {
        self.session_command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .unwrap_or_else(|e| panic!("cannot click: {e}"));
    }

    /// Runs a script in the page (`arguments` holds `args`) and returns its result.
    pub fn script(&self, script: &str, args: Value) -> Option<Value> {
        let body = json!({ "script": script, "args": args });
        self.session_command("POST", "/execute/sync", Some(body))
            .ok()
    }

    /// The rendered text of an element (WebDriver "Get Element Text").
    pub fn text(&self, element: &str) -> Option<String> {
        let text = self
            .session_command("GET", &format!("/element/{element}/text"), None)
            .ok()?;
        text.as_str().map(str::to_string)
    }

    /// The text content of the element matching `css` (also when hidden), or None.
    pub fn text_of(&self, css: &str) -> Option<String> {
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;";
        self.script(script, json!([css]))?
            .as_str()
            .map(str::to_string)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.command("DELETE", &path, None, Duration::from_secs(20));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if std::thread::panicking() {
            eprintln!("chromedriver log (tail):\n{}", self.driver_log());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
