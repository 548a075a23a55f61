//! Managers' voice mailboxes over HTTP: screening, what a manager may list, read and hear, the
//! audit log, the manager's sign-in with its lockout, and replies uploaded from the browser.

use std::io::Cursor;

use crate::store::{Role, Screening};
use crate::web::message_access::valid_code;
use crate::web::messages::tests::message;
use crate::web::test_http::{Reply, TestResult, TestServer, TEST_MANAGER, TEST_PASSWORD};

type Error = Box<dyn std::error::Error>;

/// Files a voice message (status `new`) of `line` at `at`; its tracking code.
async fn voice_message(server: &TestServer, line: &str, at: i64) -> Result<String, Error> {
    let recording = format!("2026/11/23/call{at}-take1-0a1b2c3d.wav");
    server
        .store
        .file_message(&message("complaint", line, at, Some(&recording)))
        .await?
        .ok_or_else(|| "a complaint gets a tracking code".into())
}

async fn refer(server: &TestServer, code: &str, mailbox: &str) -> TestResult {
    let refer = Screening::Refer {
        mailbox: mailbox.into(),
    };
    server
        .store
        .screen_message(code, &refer, "screener")
        .await?;
    Ok(())
}

/// A valid code (right check digit) that no message has.
fn unused_code(used: &[String]) -> String {
    (10_000_000_u32..)
        .map(|n| n.to_string())
        .find(|code| valid_code(code).is_some() && !used.contains(code))
        .unwrap_or_default()
}

#[tokio::test]
async fn screening_refers_or_rejects_once() -> TestResult {
    let server = TestServer::start("web-screening").await?;
    server
        .store
        .add_manager("501", "Region 6", "1234", TEST_PASSWORD)
        .await?;
    let first = voice_message(&server, "1888", 1_000).await?;
    let second = voice_message(&server, "137", 2_000).await?;
    let screener = server.store.create_token(&Role::Screener).await?;
    let admin = server.store.create_token(&Role::Admin).await?;
    let path = |code: &str| format!("/api/messages/{code}/screening");

    // The queue: oldest first, with the demo's suggestion for district 6 (mailbox 501).
    let queue = server
        .get("/api/screening", Some(&screener))
        .await?
        .json()?;
    assert_eq!(queue[0]["tracking_code"], first.as_str());
    assert_eq!(queue[0]["suggested_mailbox"], "501");
    assert_eq!(queue[1]["tracking_code"], second.as_str());
    let managers = server.get("/api/managers", Some(&screener)).await?.json()?;
    assert_eq!(
        managers,
        serde_json::json!([{"mailbox": "501", "name": "Region 6"},
                           {"mailbox": "77", "name": "Test manager"}])
    );

    let reply = server
        .post_json(
            &path(&first),
            &screener,
            r#"{"decision":"refer","mailbox":"501"}"#,
        )
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json()?;
    assert_eq!(json["status"], "referred");
    assert_eq!(json["mailbox"], "501");
    assert_eq!(json["screened_by"], "screener");
    assert!(json["screened_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    // Decided already: 409, whatever the second decision.
    let again = server
        .post_json(
            &path(&first),
            &admin,
            r#"{"decision":"reject","reason":"duplicate"}"#,
        )
        .await?;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.json()?["error"].is_string());

    let unknown_mailbox = server
        .post_json(
            &path(&second),
            &admin,
            r#"{"decision":"refer","mailbox":"509"}"#,
        )
        .await?;
    assert_eq!(unknown_mailbox.status, 404);
    let text = unknown_mailbox.json()?["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("mailbox 509"), "{text}");
    let missing = unused_code(&[first.clone(), second.clone()]);
    let unknown_message = server
        .post_json(
            &path(&missing),
            &admin,
            r#"{"decision":"refer","mailbox":"501"}"#,
        )
        .await?;
    assert_eq!(unknown_message.status, 404);
    assert!(
        unknown_message.body.contains("unknown message"),
        "{}",
        unknown_message.body
    );
    let persian: String = second
        .chars()
        .filter_map(|c| c.to_digit(10))
        .filter_map(|d| char::from_u32(0x06F0 + d))
        .collect();
    let encoded: String = persian.bytes().map(|b| format!("%{b:02X}")).collect();
    let rejected = server
        .post_json(
            &path(&encoded),
            &admin,
            r#"{"decision":"reject","reason":"duplicate"}"#,
        )
        .await?;
    assert_eq!(rejected.status, 200, "Persian digits: {}", rejected.body);
    let json = rejected.json()?;
    assert_eq!(
        (json["status"].as_str(), json["reject_reason"].as_str()),
        (Some("rejected"), Some("duplicate"))
    );
    assert_eq!(json["screened_by"], "admin");

    let third = voice_message(&server, "1888", 3_000).await?;
    for bad in [
        "",
        "{}",
        r#"{"decision":"reject","reason":"boring"}"#,
        r#"{"decision":"refer"}"#,
        r#"{"decision":"refer","mailbox":"x1"}"#,
    ] {
        let reply = server.post_json(&path(&third), &screener, bad).await?;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json()?["error"].is_string(), "{bad}");
    }
    for role in [
        Role::Agent("2001".into()),
        Role::Manager(TEST_MANAGER.into()),
        Role::Supervisor,
    ] {
        let token = server.store.create_token(&role).await?;
        let body = r#"{"decision":"refer","mailbox":"501"}"#;
        assert_eq!(
            server.post_json(&path(&third), &token, body).await?.status,
            403,
            "{role}"
        );
        assert_eq!(
            server.get("/api/screening", Some(&token)).await?.status,
            403,
            "{role}"
        );
        assert_eq!(
            server.get("/api/managers", Some(&token)).await?.status,
            403,
            "{role}"
        );
    }
    let status = server.store.message_status(&third).await?.map(|s| s.status);
    assert_eq!(
        status.as_deref(),
        Some("new"),
        "nothing refused was written"
    );
    Ok(())
}

#[tokio::test]
async fn a_manager_sees_only_their_own_mailbox() -> TestResult {
    let server = TestServer::start("web-manager-scope").await?;
    server
        .store
        .add_manager("78", "Other", "1234", TEST_PASSWORD)
        .await?;
    let own = voice_message(&server, "1888", 1_000).await?;
    let other = voice_message(&server, "1888", 2_000).await?;
    let waiting = voice_message(&server, "137", 3_000).await?;
    refer(&server, &own, TEST_MANAGER).await?;
    refer(&server, &other, "78").await?;
    for (code, at) in [(&own, 1_000), (&other, 2_000)] {
        let name = format!("2026/11/23/call{at}-take1-0a1b2c3d.wav");
        let path = server.recordings.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, b"RIFF....WAVE")?;
        let _ = code;
    }
    let manager = server
        .store
        .create_token(&Role::Manager(TEST_MANAGER.into()))
        .await?;
    let codes = |value: serde_json::Value| -> Vec<String> {
        value
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|m| m["tracking_code"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let listed = server.get("/api/messages", Some(&manager)).await?;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(codes(listed.json()?), std::slice::from_ref(&own));
    assert_eq!(
        codes(server.get("/api/mailbox", Some(&manager)).await?.json()?),
        std::slice::from_ref(&own)
    );
    let mine = server
        .get("/api/messages?mailbox=77&status=referred", Some(&manager))
        .await?;
    assert_eq!(codes(mine.json()?), std::slice::from_ref(&own));
    assert_eq!(
        server
            .get("/api/messages?mailbox=78", Some(&manager))
            .await?
            .status,
        403
    );
    assert_eq!(
        server
            .get(&format!("/api/messages/{own}"), Some(&manager))
            .await?
            .status,
        200
    );
    for code in [&other, &waiting] {
        let reply = server
            .get(&format!("/api/messages/{code}"), Some(&manager))
            .await?;
        assert_eq!(reply.status, 404, "{code}");
    }
    let hear = |at: i64| format!("/api/recordings/2026/11/23/call{at}-take1-0a1b2c3d.wav");
    assert_eq!(
        server
            .get_bytes(&hear(1_000), Some(&manager), None)
            .await?
            .status,
        200
    );
    assert_eq!(
        server
            .get_bytes(&hear(2_000), Some(&manager), None)
            .await?
            .status,
        404
    );

    // Staff filter by status and mailbox; bad values are 400.
    let screener = server.store.create_token(&Role::Screener).await?;
    let new = server
        .get("/api/messages?status=new", Some(&screener))
        .await?
        .json()?;
    assert_eq!(codes(new), std::slice::from_ref(&waiting));
    let by_mailbox = server
        .get("/api/messages?mailbox=78", Some(&screener))
        .await?
        .json()?;
    assert_eq!(codes(by_mailbox), std::slice::from_ref(&other));
    for query in ["status=lost", "mailbox=7", "mailbox=abc", "status="] {
        let reply = server
            .get(&format!("/api/messages?{query}"), Some(&screener))
            .await?;
        assert_eq!(reply.status, 400, "{query}");
    }
    assert_eq!(
        server.get("/api/mailbox", Some(&screener)).await?.status,
        403
    );
    Ok(())
}

#[tokio::test]
async fn the_audit_log_is_for_admins_newest_first() -> TestResult {
    let server = TestServer::start("web-audit").await?;
    let first = voice_message(&server, "1888", 1_000).await?;
    let second = voice_message(&server, "1888", 2_000).await?;
    refer(&server, &first, TEST_MANAGER).await?;
    refer(&server, &second, TEST_MANAGER).await?;
    let admin = server.store.create_token(&Role::Admin).await?;
    let reply = server.get("/api/audit", Some(&admin)).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let log = reply.json()?;
    assert_eq!(log[0]["tracking_code"], second.as_str());
    assert_eq!(log[1]["tracking_code"], first.as_str());
    assert_eq!(log[0]["action"], "screen");
    assert_eq!(log[0]["actor"], "screener");
    assert_eq!(log[0]["channel"], "web");
    assert!(log[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(log[0]["detail"], "referred to mailbox 77");
    let newest = log[0]["id"].as_i64().unwrap_or_default();
    let older = server
        .get(&format!("/api/audit?before={newest}"), Some(&admin))
        .await?
        .json()?;
    assert_eq!(older.as_array().map(Vec::len), Some(1));
    assert_eq!(older[0]["tracking_code"], first.as_str());
    let one = server
        .get(
            &format!("/api/audit?tracking_code={first}&limit=5"),
            Some(&admin),
        )
        .await?
        .json()?;
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    for query in ["limit=0", "before=x", "tracking_code=123"] {
        assert_eq!(
            server
                .get(&format!("/api/audit?{query}"), Some(&admin))
                .await?
                .status,
            400,
            "{query}"
        );
    }
    assert_eq!(server.get("/api/audit", None).await?.status, 401);
    for role in [
        Role::Supervisor,
        Role::Screener,
        Role::Manager(TEST_MANAGER.into()),
        Role::Agent("2001".into()),
    ] {
        let token = server.store.create_token(&role).await?;
        assert_eq!(
            server.get("/api/audit", Some(&token)).await?.status,
            403,
            "{role}"
        );
    }
    Ok(())
}

async fn sign_in(server: &TestServer, mailbox: &str, password: &str) -> Result<Reply, Error> {
    let body = format!("mailbox={mailbox}&password={}", password.replace(' ', "+"));
    server
        .send(&format!(
            "POST /mailbox/signin HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ))
        .await
}

fn cookie_of(reply: &Reply) -> String {
    reply
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn managers_sign_in_with_a_password_and_are_locked_out_after_five_failures() -> TestResult {
    let server = TestServer::start("web-manager-signin").await?;
    let code = voice_message(&server, "1888", 1_000).await?;
    refer(&server, &code, TEST_MANAGER).await?;
    let form = server.get("/mailbox", None).await?;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("lang=\"fa\"") && form.body.contains("dir=\"rtl\""));
    assert!(form.body.contains("name=\"password\""));

    let ok = sign_in(&server, TEST_MANAGER, TEST_PASSWORD).await?;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/mailbox"));
    let cookie = cookie_of(&ok);
    for part in ["pasokh_token=psk_", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, token)| token.to_string())
        .unwrap_or_default();
    let listed = server
        .send(&format!(
            "GET /api/messages HTTP/1.1\r\nHost: localhost\r\nCookie: pasokh_token={token}\r\n\
             Connection: close\r\n\r\n"
        ))
        .await?;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()?[0]["tracking_code"], code.as_str());
    let page = server
        .send(&format!(
            "GET /mailbox HTTP/1.1\r\nHost: localhost\r\nCookie: pasokh_token={token}\r\n\
             Connection: close\r\n\r\n"
        ))
        .await?;
    assert!(
        page.body.contains("id=\"messages\""),
        "the mailbox page once signed in"
    );
    let out = server
        .send(&format!(
            "POST /mailbox/signout HTTP/1.1\r\nHost: localhost\r\nCookie: pasokh_token={token}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ))
        .await?;
    assert_eq!(out.status, 303);
    assert!(cookie_of(&out).contains("Max-Age=0"), "{}", cookie_of(&out));
    // The session ends on the server too: a copy of the old cookie no longer opens anything.
    let after = server
        .send(&format!(
            "GET /api/messages HTTP/1.1\r\nHost: localhost\r\nCookie: pasokh_token={token}\r\n\
             Connection: close\r\n\r\n"
        ))
        .await?;
    assert_eq!(after.status, 401, "{}", after.body);

    // Wrong password and unknown mailbox: the same answer.
    let wrong = sign_in(&server, TEST_MANAGER, "wrong password").await?;
    let unknown = sign_in(&server, "12345", TEST_PASSWORD).await?;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert!(cookie_of(&wrong).is_empty());
    // Three more wrong for 77: this address now has five failures (mailbox 77 four), so even
    // the right password is refused until the window has passed.
    for _ in 0..3 {
        assert_eq!(
            sign_in(&server, TEST_MANAGER, "wrong password")
                .await?
                .status,
            401
        );
    }
    let locked = sign_in(&server, TEST_MANAGER, TEST_PASSWORD).await?;
    assert_eq!(locked.status, 429, "even the right password waits");
    assert!(cookie_of(&locked).is_empty());
    server.advance_clock(15 * 60 * 1_000);
    assert_eq!(
        sign_in(&server, TEST_MANAGER, TEST_PASSWORD).await?.status,
        303
    );

    // Five failures from one address on five mailboxes lock the address out for every mailbox.
    server
        .store
        .add_manager("501", "Region 6", "1234", TEST_PASSWORD)
        .await?;
    for mailbox in ["601", "602", "603", "604", "605"] {
        assert_eq!(sign_in(&server, mailbox, "guess guess").await?.status, 401);
    }
    assert_eq!(sign_in(&server, "501", TEST_PASSWORD).await?.status, 429);

    let log = server.store.list_audit(100, None, None).await?;
    let count = |action: &str, actor: &str| {
        log.iter()
            .filter(|e| e.action == action && e.actor == actor)
            .count()
    };
    assert_eq!(count("sign_in", "manager:77"), 2);
    assert_eq!(
        count("sign_in_failed", "manager:77"),
        5,
        "four wrong and one locked out"
    );
    assert_eq!(count("sign_in_failed", "manager:12345"), 1);
    assert!(log.iter().all(|e| e.channel == "web"));
    Ok(())
}

fn wav_bytes(rate: u32, channels: u16, seconds: f64, tone: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Cursor::new(Vec::new());
    if let Ok(mut writer) = hound::WavWriter::new(&mut bytes, spec) {
        for n in 0..(f64::from(rate) * seconds) as usize {
            let value = (2.0 * std::f64::consts::PI * tone * n as f64 / f64::from(rate)).sin();
            for _ in 0..channels {
                let _ = writer.write_sample((value * 12_000.0) as i16);
            }
        }
        let _ = writer.finalize();
    }
    bytes.into_inner()
}

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[tokio::test]
async fn a_browser_reply_is_stored_in_the_phone_format() -> TestResult {
    let server = TestServer::start("web-reply").await?;
    server
        .store
        .add_manager("78", "Other", "1234", TEST_PASSWORD)
        .await?;
    let own = voice_message(&server, "1888", 1_000).await?;
    let other = voice_message(&server, "1888", 2_000).await?;
    refer(&server, &own, TEST_MANAGER).await?;
    refer(&server, &other, "78").await?;
    let manager = server
        .store
        .create_token(&Role::Manager(TEST_MANAGER.into()))
        .await?;
    let path = |code: &str| format!("/api/messages/{code}/reply");

    let reply = server
        .post_bytes(
            &path(&own),
            Some(&manager),
            "audio/wav",
            &wav_bytes(48_000, 2, 1.5, 1_000.0),
        )
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let json = reply.json()?;
    assert_eq!(json["status"], "replied");
    assert_eq!(json["reply_channel"], "web");
    assert!(json["replied_at"].is_string());
    let url = json["reply_recording_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = url
        .strip_prefix("/api/recordings/")
        .unwrap_or_default()
        .to_string();
    assert!(
        name.contains("/web-reply-") && name.ends_with(".wav"),
        "{name}"
    );
    let row = server.store.message(&own).await?.ok_or("the message")?;
    assert_eq!(row.reply_recording.as_deref(), Some(name.as_str()));
    let saved = hound::WavReader::open(server.recordings.join(&name))?;
    let spec = saved.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8_000, 1, 16)
    );
    assert_eq!(saved.duration(), 12_000, "1.5 s at 8 kHz");
    // The manager hears their own reply; the listen is logged as a reply.
    assert_eq!(
        server.get_bytes(&url, Some(&manager), None).await?.status,
        200
    );
    let log = server.store.list_audit(10, None, Some(&own)).await?;
    assert!(
        log.iter()
            .any(|e| e.action == "reply" && e.channel == "web"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.action == "listen" && e.detail.starts_with("reply ")),
        "{log:?}"
    );

    let before = files(&server.recordings).len();
    // Another mailbox's message: 404, and no file is left behind.
    let theirs = server
        .post_bytes(
            &path(&other),
            Some(&manager),
            "audio/wav",
            &wav_bytes(8_000, 1, 0.5, 440.0),
        )
        .await?;
    assert_eq!(theirs.status, 404);
    let not_wav = server
        .post_bytes(
            &path(&own),
            Some(&manager),
            "audio/wav",
            b"this is not a wav file",
        )
        .await?;
    assert_eq!(not_wav.status, 400);
    assert!(not_wav.json()?["error"].is_string());
    let too_long = server
        .post_bytes(
            &path(&own),
            Some(&manager),
            "audio/wav",
            &wav_bytes(8_000, 1, 301.0, 440.0),
        )
        .await?;
    assert_eq!(too_long.status, 413, "{}", too_long.body);
    assert_eq!(
        files(&server.recordings).len(),
        before,
        "no file left behind"
    );
    for role in [Role::Screener, Role::Admin] {
        let token = server.store.create_token(&role).await?;
        let reply = server
            .post_bytes(
                &path(&own),
                Some(&token),
                "audio/wav",
                &wav_bytes(8_000, 1, 0.5, 440.0),
            )
            .await?;
        assert_eq!(reply.status, 403, "{role}");
    }

    // Handled: theirs only, and only while waiting.
    let handled = |code: &str| format!("/api/messages/{code}/handled");
    assert_eq!(
        server
            .post_bytes(&handled(&other), Some(&manager), "text/plain", b"")
            .await?
            .status,
        404
    );
    assert_eq!(
        server
            .post_bytes(&handled(&own), Some(&manager), "text/plain", b"")
            .await?
            .status,
        409
    );
    let third = voice_message(&server, "137", 3_000).await?;
    refer(&server, &third, TEST_MANAGER).await?;
    let done = server
        .post_bytes(&handled(&third), Some(&manager), "text/plain", b"")
        .await?;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()?["status"], "closed");
    Ok(())
}

#[tokio::test]
async fn a_declared_oversize_reply_is_413_at_once() -> TestResult {
    // Without the early check the server would wait for 900 MB that never come.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start("web-reply-oversize").await?;
    let own = voice_message(&server, "1888", 1_000).await?;
    refer(&server, &own, TEST_MANAGER).await?;
    let manager = server
        .store
        .create_token(&Role::Manager(TEST_MANAGER.into()))
        .await?;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await?;
    let head = format!(
        "POST /api/messages/{own}/reply HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {manager}\r\nContent-Type: audio/wav\r\n\
         Content-Length: 900000000\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut buffer = [0_u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buffer[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    assert!(read.is_ok(), "no answer within 5 s");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    Ok(())
}
