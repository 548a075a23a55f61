//! Attacks on the SIP port against the release binary over loopback (docs/security.md):
//! sipvicious' `svwar` enumerating extensions, a password guesser of our own (svcrack 0.3.3
//! aborts on a SHA-256 challenge), and INVITEs without credentials trying to reach an agent.
//! `svwar` missing fails the test: it is installed by `scripts/test.sh`.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, http_get, repo_dir, require, run_bounded, Engine};
use pasokh::sip::digest::{expected_response, ha1_hex, DigestAlgorithm, QopParams};

const AGENTS: [&str; 3] = ["2001", "2002", "2003"];

fn password(agent: &str) -> String {
    format!("right-{agent}")
}

/// An engine with agents 2001–2003 and the lockout time given (seconds).
fn engine_with_agents(name: &str, lockout_s: u64) -> Engine {
    let engine = Engine::start(name, &format!("auth_lockout_s = {lockout_s}"));
    for id in AGENTS {
        let out = engine.cli(&[
            "agent",
            "add",
            id,
            "--name",
            id,
            "--password",
            &password(id),
        ]);
        assert!(out.status.success(), "agent add {id}: {out:?}");
    }
    // The engine reloads agents every second.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !engine.log_text().contains("agents loaded agents=3") {
        assert!(
            Instant::now() < deadline,
            "agents not loaded:\n{}",
            engine.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    engine
}

/// Extensions in svwar's result table (`| 2001 | reqauth |`), in order.
fn svwar_found(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let cell = line.strip_prefix('|')?.split('|').next()?.trim();
            (!cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit())).then(|| cell.to_string())
        })
        .collect()
}

#[test]
fn svwar_table_parsing_reads_found_extensions() {
    // The table svwar printed against the engine before the fix: the parser must see it.
    let table = "+-----------+----------------+\n| Extension | Authentication |\n\
                 +===========+================+\n| 2001      | reqauth        |\n\
                 +-----------+----------------+\n| 2002      | weird          |\n";
    assert_eq!(svwar_found(table), vec!["2001", "2002"]);
    assert!(svwar_found("WARNING:root:found nothing\n").is_empty());
}

#[test]
fn svwar_finds_no_extension_with_register_invite_or_options() {
    require("svwar");
    let engine = engine_with_agents("svwar", 300);
    for method in ["REGISTER", "INVITE", "OPTIONS"] {
        // Its own local port each time: svwar never ACKs an INVITE's 401, whose retransmissions
        // would otherwise reach the next scan and read as answers for its extensions.
        let mut command = Command::new("svwar");
        command.args([
            "--force",
            "-v",
            "-m",
            method,
            "-e",
            "1990-2010",
            "-p",
            &engine.sip.to_string(),
            "-P",
            &free_port().to_string(),
            "127.0.0.1",
        ]);
        let out = run_bounded(command, Duration::from_secs(120));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("Ok SIP device found"),
            "svwar {method} did not scan:\n{text}"
        );
        let found = svwar_found(&text);
        eprintln!("svwar -m {method} over 1990-2010: {} found", found.len());
        assert!(found.is_empty(), "svwar {method} found {found:?}:\n{text}");
        assert!(text.contains("found nothing"), "{text}");
    }
}

/// A SIP client on one loopback address, speaking raw UDP.
struct Phone {
    socket: UdpSocket,
    engine: SocketAddr,
    call: u32,
}

/// A response: its status and its lines.
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The SHA-256 challenge's nonce.
    fn nonce(&self) -> String {
        let challenge = self
            .text
            .lines()
            .find(|l| l.starts_with("WWW-Authenticate:") && l.contains("SHA-256"))
            .unwrap_or_else(|| panic!("no SHA-256 challenge in\n{}", self.text));
        let rest = challenge.split("nonce=\"").nth(1).unwrap_or_default();
        rest.split('"').next().unwrap_or_default().to_string()
    }

    /// The answer with what differs between any two answers blanked: tags, nonces, and the
    /// request's own headers echoed back (they carry the user and the call's identifiers).
    fn shape(&self) -> Vec<String> {
        self.text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let Some((name, value)) = line.split_once(':') else {
                    return line.to_string();
                };
                match name.trim().to_ascii_lowercase().as_str() {
                    "via" | "from" | "to" | "call-id" | "cseq" => name.to_string(),
                    "www-authenticate" => {
                        let nonce = self.nonce();
                        format!("{name}:{}", value.replace(&nonce, "NONCE"))
                    }
                    _ => line.to_string(),
                }
            })
            .collect()
    }
}

impl Phone {
    fn on(ip: &str, engine: &Engine) -> Phone {
        let socket =
            UdpSocket::bind(format!("{ip}:0")).unwrap_or_else(|e| panic!("cannot bind {ip}: {e}"));
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap_or_else(|e| panic!("{e}"));
        Phone {
            socket,
            engine: SocketAddr::from(([127, 0, 0, 1], engine.sip)),
            call: 0,
        }
    }

    fn local(&self) -> SocketAddr {
        self.socket.local_addr().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends `request` and waits for its final answer (provisional ones and answers to other
    /// requests are skipped).
    fn ask(&mut self, request: String, call_id: &str) -> Answer {
        self.socket
            .send_to(request.as_bytes(), self.engine)
            .unwrap_or_else(|e| panic!("send: {e}"));
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buffer = vec![0u8; 65_536];
        while Instant::now() < deadline {
            let Ok((n, _)) = self.socket.recv_from(&mut buffer) else {
                continue;
            };
            let text = String::from_utf8_lossy(&buffer[..n]).to_string();
            let status: u16 = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let ours = text.contains(&format!("Call-ID: {call_id}"));
            if ours && status >= 200 {
                return Answer { status, text };
            }
            assert!(!(ours && (180..200).contains(&status)), "rang:\n{text}");
        }
        panic!("no answer to\n{request}");
    }

    /// A REGISTER for `user`, with the digest answer for `secret` on `nonce` when given.
    fn register(&mut self, user: &str, auth: Option<(&str, &str)>) -> Answer {
        self.call += 1;
        let local = self.local();
        let call_id = format!("reg-{user}-{}-{}", local.port(), self.call);
        let uri = format!("sip:127.0.0.1:{}", self.engine.port());
        let authorization = auth
            .map(|(secret, nonce)| authorization(user, secret, "REGISTER", &uri, nonce))
            .unwrap_or_default();
        let request = format!(
            "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=g{n}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
             Call-ID: {call_id}\r\nCSeq: {n} REGISTER\r\nContact: <sip:{user}@{local}>;expires=120\r\n\
             {authorization}Content-Length: 0\r\n\r\n",
            n = self.call
        );
        self.ask(request, &call_id)
    }

    /// An INVITE with an offer to `number`, from a caller without credentials.
    fn invite(&mut self, number: &str) -> Answer {
        self.call += 1;
        let local = self.local();
        let call_id = format!("inv-{number}-{}-{}", local.port(), self.call);
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
            local.port() + 2
        );
        let request = format!(
            "INVITE sip:{number}@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:09121234567@127.0.0.1>;tag=c{n}\r\nTo: <sip:{number}@127.0.0.1>\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:09121234567@{local}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
            port = self.engine.port(),
            n = self.call,
            len = sdp.len()
        );
        let answer = self.ask(request, &call_id);
        // ACK the final answer, so the engine stops retransmitting it.
        let to = answer.header("To").unwrap_or_default().to_string();
        let ack = format!(
            "ACK sip:{number}@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{call_id}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:09121234567@127.0.0.1>;tag=c{n}\r\nTo: {to}\r\n\
             Call-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
            port = self.engine.port(),
            n = self.call
        );
        let _ = self.socket.send_to(ack.as_bytes(), self.engine);
        answer
    }
}

/// `Authorization:` for a SHA-256 digest with qop=auth, as a softphone computes it.
fn authorization(user: &str, secret: &str, method: &str, uri: &str, nonce: &str) -> String {
    let ha1 = ha1_hex(DigestAlgorithm::Sha256, user, "pasokh", secret);
    let qop = QopParams {
        qop: "auth",
        nc: "00000001",
        cnonce: "5ca1ab1e",
    };
    let response = expected_response(
        DigestAlgorithm::Sha256,
        &ha1,
        method,
        uri,
        nonce,
        Some(&qop),
    );
    format!(
        "Authorization: Digest username=\"{user}\", realm=\"pasokh\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm=SHA-256, qop=auth, nc=00000001, \
         cnonce=\"5ca1ab1e\"\r\n"
    )
}

/// One value of `/metrics`.
fn metric(engine: &Engine, name: &str) -> u64 {
    let (_, body) = http_get(engine.http, "/metrics", None).unwrap_or_else(|| panic!("/metrics"));
    body.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{body}"))
}

/// The `failregex` of docs/security.md, as fail2ban would apply it to each line (with and
/// without the engine's own timestamp, as from a file and from the journal): the hosts matched.
fn fail2ban_hosts(lines: &[&str]) -> Vec<String> {
    let doc = std::fs::read_to_string(repo_dir().join("docs/security.md"))
        .unwrap_or_else(|e| panic!("docs/security.md: {e}"));
    let failregex = doc
        .lines()
        .find_map(|l| l.strip_prefix("failregex = "))
        .unwrap_or_else(|| panic!("no failregex in docs/security.md"));
    // fail2ban's <HOST> is an IPv4/IPv6 address or a host name; an address is what we log.
    let regex = failregex.replace("<HOST>", r"(?P<host>[0-9A-Fa-f.:]+)");
    let script = r#"
import re, sys
regex = re.compile(sys.argv[1])
for line in sys.stdin.read().splitlines():
    for text in (line, line.split(None, 1)[1] if ' ' in line else line):
        m = regex.search(text)
        print(m.group('host') if m else '-')
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &regex])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
        stdin
            .write_all(lines.join("\n").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "python3: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_guesser_is_locked_out_while_the_agent_registers_from_elsewhere() {
    const LOCKOUT_S: u64 = 3;
    let engine = engine_with_agents("guesser", LOCKOUT_S);
    let mut guesser = Phone::on("127.0.0.1", &engine);

    // Unknown and existing users get the same answer, with and without credentials.
    let unknown_bare = guesser.register("2999", None);
    let known_bare = guesser.register("2001", None);
    assert_eq!(unknown_bare.status, 401);
    assert_eq!(unknown_bare.shape(), known_bare.shape());
    let unknown_wrong = guesser.register("2999", Some(("guess", &unknown_bare.nonce())));
    let mut nonce = known_bare.nonce();

    // Five wrong guesses, each on the nonce the last answer gave, as fast as the engine answers.
    let started = Instant::now();
    let mut last = None;
    for n in 0..5 {
        let answer = guesser.register("2001", Some((&format!("guess{n}"), &nonce)));
        assert_eq!(answer.status, 401, "guess {n}");
        assert_eq!(answer.shape(), unknown_wrong.shape(), "guess {n}");
        nonce = answer.nonce();
        last = Some(Instant::now());
    }
    let rate = 5.0 / started.elapsed().as_secs_f64();
    let locked_at = last.unwrap_or_else(Instant::now);
    eprintln!("guesses per second before the lockout: {rate:.0}");

    // Locked out: the right password from the same address is refused, the same way, every time.
    let mut accepted = 0;
    for _ in 0..20 {
        let answer = guesser.register("2001", Some((&password("2001"), &nonce)));
        if answer.status == 200 {
            accepted += 1;
        } else {
            assert_eq!(answer.shape(), unknown_wrong.shape());
        }
        nonce = answer.nonce();
    }
    eprintln!("right passwords accepted during the lockout: {accepted} of 20");
    assert_eq!(accepted, 0);
    assert!(
        locked_at.elapsed() < Duration::from_secs(LOCKOUT_S),
        "too slow to test"
    );

    // The agent's own phone, elsewhere, registers meanwhile.
    let mut phone = Phone::on("127.0.0.2", &engine);
    let challenge = phone.register("2001", None);
    let ok = phone.register("2001", Some((&password("2001"), &challenge.nonce())));
    assert_eq!(ok.status, 200, "{}", ok.text);

    // After the lockout time, the first address registers again.
    std::thread::sleep(Duration::from_secs(LOCKOUT_S) + Duration::from_millis(300));
    let challenge = guesser.register("2001", None);
    let ok = guesser.register("2001", Some((&password("2001"), &challenge.nonce())));
    assert_eq!(ok.status, 200, "{}", ok.text);

    // The security events: one line per refused credential, one per lockout, and the counts.
    let log = engine.log_text();
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("SIP authentication failed"))
        .collect();
    let with = |reason: &str| {
        failed
            .iter()
            .filter(|l| {
                l.contains("WARN")
                    && l.contains("ip=127.0.0.1 method=REGISTER user=2001 ")
                    && l.ends_with(&format!("reason={reason}"))
            })
            .count()
    };
    assert_eq!(with("wrong_password"), 5, "{log}");
    assert_eq!(with("locked_out"), 20, "{log}");
    assert_eq!(
        failed
            .iter()
            .filter(|l| l.contains("user=2999") && l.ends_with("reason=unknown_user"))
            .count(),
        1,
        "{log}"
    );
    let lockouts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("SIP authentication locked out"))
        .collect();
    assert_eq!(lockouts.len(), 1, "{log}");
    assert!(
        lockouts[0].contains("ip=127.0.0.1 method=REGISTER user=2001 ")
            && lockouts[0].contains(&format!("lockout_s={LOCKOUT_S}")),
        "{}",
        lockouts[0]
    );
    assert_eq!(
        metric(
            &engine,
            r#"pasokh_security_events_total{event="auth_failed"}"#
        ),
        failed.len() as u64
    );
    assert_eq!(
        metric(&engine, r#"pasokh_security_events_total{event="lockout"}"#),
        1
    );

    // fail2ban's filter, as documented, finds the guesser's address in every failure line
    // (twice: as read from a file and from the journal) and in no other line.
    let hosts = fail2ban_hosts(&failed);
    assert_eq!(hosts.len(), 2 * failed.len());
    assert!(hosts.iter().all(|h| h == "127.0.0.1"), "{hosts:?}");
    let others: Vec<&str> = log
        .lines()
        .filter(|l| !l.contains("SIP authentication failed"))
        .collect();
    assert!(
        fail2ban_hosts(&others).iter().all(|h| h == "-"),
        "the filter matched another line"
    );
}

#[test]
fn invites_without_credentials_reach_no_agent_and_no_other_number() {
    let engine = engine_with_agents("toll", 300);
    // Agent 2001's phone is registered: bridging it would be possible.
    let mut agent = Phone::on("127.0.0.3", &engine);
    let challenge = agent.register("2001", None);
    let ok = agent.register("2001", Some((&password("2001"), &challenge.nonce())));
    assert_eq!(ok.status, 200, "{}", ok.text);

    let mut caller = Phone::on("127.0.0.1", &engine);
    let to_agent = caller.invite("2001");
    let to_nowhere = caller.invite("98765");
    let to_feature = caller.invite("*21");
    for answer in [&to_agent, &to_nowhere, &to_feature] {
        assert_eq!(answer.status, 401, "{}", answer.text);
    }
    assert_eq!(to_agent.shape(), to_nowhere.shape());
    assert_eq!(to_agent.shape(), to_feature.shape());

    // The agent's phone never rang.
    let mut buffer = vec![0u8; 65_536];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok((n, _)) = agent.socket.recv_from(&mut buffer) {
            let text = String::from_utf8_lossy(&buffer[..n]);
            assert!(!text.starts_with("INVITE"), "the agent was called:\n{text}");
        }
    }
    // The public line is still answered without credentials.
    let public = caller.invite("137");
    assert_eq!(public.status, 200, "{}", public.text);
}
