//! A `kill -9` while managers' replies are being saved never leaves a reply row without its
//! file, nor a reply file without its row, after the restart; and every reply acknowledged
//! (`201`) is still there.
//!
//! Replies are uploaded one after another from the browser's route (`POST
//! /api/messages/{code}/reply`) while the engine is killed at a different moment each round;
//! the restart runs the start-up recovery, then the folder and the register are compared.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::wav::{self, write_wav};
use common::{http_send, temp_dir, Engine};
use pasokh::engine::{FilingStage, NewMessage};
use pasokh::store::{Screening, Store};

const MESSAGES: usize = 40;
const ROUNDS: u64 = 5;

/// Files `MESSAGES` voice messages referred to mailbox 501 in the data folder, before the
/// engine starts. Returns nothing: the codes are read back through the API.
fn prepare(data: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime.block_on(async {
        let store = Store::open(data)
            .await
            .unwrap_or_else(|e| panic!("open: {e}"));
        store
            .add_manager("501", "Manager", "5011", "manager501")
            .await
            .unwrap_or_else(|e| panic!("manager: {e}"));
        for n in 0..MESSAGES {
            let code = store
                .file_message(&NewMessage {
                    call_ref: format!("{n:016x}"),
                    call_id: format!("kill9-{n}"),
                    line: "1888".into(),
                    kind: "complaint".into(),
                    district: Some(6),
                    category: None,
                    case_number: None,
                    caller: "09121234567".into(),
                    recording: Some(format!("2026/12/07/{n:016x}-take1-0.wav")),
                    created_at: pasokh::store::unix_ms_now(),
                    stage: FilingStage::Whole,
                })
                .await
                .unwrap_or_else(|e| panic!("file: {e}"))
                .unwrap_or_else(|| panic!("a complaint gets a code"));
            let refer = Screening::Refer {
                mailbox: "501".into(),
            };
            store
                .screen_message(&code, &refer, "screener")
                .await
                .unwrap_or_else(|e| panic!("refer: {e}"));
        }
        store.close().await;
    });
}

/// Every reply file under the recordings folder, by its name there.
fn reply_files(recordings: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![recordings.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                // Start-up recovery moves a write the kill cut off before its header into
                // `quarantine/`: never served, never named by a row, and (checked below) only
                // ever an unfinished `.part`, which nobody was told had been sent.
                if path.file_name().is_some_and(|n| n == "quarantine") {
                    continue;
                }
                stack.push(path);
            } else if path.to_string_lossy().contains("reply") {
                let name = path
                    .strip_prefix(recordings)
                    .map(|p| p.to_string_lossy().to_string())
                    .unwrap_or_default();
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn a_kill_9_while_replies_are_saved_leaves_no_row_without_file_and_no_file_without_row() {
    let mut engine = Engine::start_on_prepared_data("mailbox-kill9", "", &prepare);
    let admin = engine.token("admin");
    let manager = engine.token("manager:501");
    let work = temp_dir("kill9-reply");
    let reply_wav = work.join("reply.wav");
    // A long 8 kHz reply: each save writes about a megabyte, so a kill often falls inside one.
    write_wav(&reply_wav, 8000, &wav::tone(&[900.0], 60_000, 5000.0));
    let body = std::fs::read(&reply_wav).unwrap_or_else(|e| panic!("{e}"));
    let listed = engine.get_json("/api/messages?mailbox=501&limit=1000", &admin);
    let codes: Vec<String> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["tracking_code"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), MESSAGES, "{listed:#}");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let port = engine.http;
        // Each round replies to the messages in turn from a different one (a second reply to a
        // message replaces the first, as a manager re-recording it does).
        let start = round as usize * 7;
        let mut order = codes[start % codes.len()..].to_vec();
        order.extend_from_slice(&codes[..start % codes.len()]);
        let (body_now, token) = (body.clone(), manager.clone());
        let (acked, stopping) = (acknowledged.clone(), stop.clone());
        let uploader = std::thread::spawn(move || {
            let mut sent = 0;
            for code in order.iter().cycle() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let result = std::panic::catch_unwind(|| {
                    http_send(
                        port,
                        "POST",
                        &format!("/api/messages/{code}/reply"),
                        &token,
                        "audio/wav",
                        &body_now,
                    )
                });
                sent += 1;
                match result {
                    Ok((201, _)) => {
                        if let Ok(mut acked) = acked.lock() {
                            acked.push(code.clone());
                        }
                    }
                    _ => break, // the engine is gone
                }
            }
            sent
        });
        // A different moment of the upload stream each round.
        std::thread::sleep(Duration::from_millis(300 + 170 * round));
        engine.kill9();
        stop.store(true, Ordering::Relaxed);
        let sent = uploader.join().unwrap_or(0);
        eprintln!("round {round}: {sent} uploads started before the kill");
        engine.restart();
    }

    // After the last restart (its recovery has run): compare the register and the folder.
    let recordings = engine.data.join("recordings");
    let listed = engine.get_json("/api/messages?mailbox=501&limit=1000", &admin);
    let mut named = BTreeSet::new();
    for message in listed.as_array().into_iter().flatten() {
        let Some(url) = message["reply_recording_url"].as_str() else {
            assert_ne!(
                message["status"], "replied",
                "replied without a reply: {message:#}"
            );
            continue;
        };
        let name = url.trim_start_matches("/api/recordings/").to_string();
        assert!(
            recordings.join(&name).is_file(),
            "a reply row without its file: {name}"
        );
        named.insert(name);
    }
    let mut quarantine = vec![recordings.join("quarantine")];
    while let Some(dir) = quarantine.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.to_string_lossy().to_string();
            if path.is_dir() {
                quarantine.push(path);
            } else {
                assert!(
                    !name.contains("reply") || name.ends_with(".part"),
                    "a finished reply was quarantined: {name}"
                );
            }
        }
    }
    let on_disk = reply_files(&recordings);
    let orphans: Vec<_> = on_disk.difference(&named).collect();
    assert!(orphans.is_empty(), "reply files without a row: {orphans:?}");
    let acked = acknowledged.lock().map(|a| a.clone()).unwrap_or_default();
    for code in &acked {
        let message = engine.get_json(&format!("/api/messages/{code}"), &admin);
        assert_eq!(
            message["status"], "replied",
            "an acknowledged reply was lost: {message:#}"
        );
    }
    eprintln!(
        "{} replies acknowledged over {ROUNDS} kills; {} reply files, all named by a row",
        acked.len(),
        on_disk.len()
    );
    assert!(!acked.is_empty(), "no reply was ever acknowledged");
    let _ = std::fs::remove_dir_all(&work);
}
