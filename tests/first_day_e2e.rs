//! What a new operator meets when starting the engine: one engine per data folder, and a failed
//! start that leaves the folder as it was.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::{free_port, run_bounded, temp_dir, Engine};

fn pasokh(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pasokh"));
    command.args(args);
    command
}

#[test]
fn a_second_engine_on_the_same_data_folder_refuses_to_start() {
    let engine = Engine::start("first-day-lock", "");
    let data = engine.data.to_string_lossy().to_string();
    let (sip, http) = (free_port(), free_port());
    let second = run_bounded(
        pasokh(&[
            "serve",
            "--data",
            &data,
            "--sip",
            &format!("127.0.0.1:{sip}"),
            "--http",
            &format!("127.0.0.1:{http}"),
        ]),
        Duration::from_secs(20),
    );
    let said = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(!second.status.success(), "the second engine ran: {said}");
    assert!(
        said.contains("another pasokh is running on the data folder") && said.contains("--data"),
        "{said}"
    );
    // The first engine is untouched and still answers.
    assert_eq!(engine.get("/api/health", None).0, 200);
}

#[test]
fn a_demo_start_that_fails_seeds_nothing() {
    let dir = temp_dir("first-day-demo");
    let data = dir.join("data").to_string_lossy().to_string();
    // Someone else has the HTTP port.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let http = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"))
        .port();
    let failed = run_bounded(
        pasokh(&[
            "serve",
            "--demo",
            "--data",
            &data,
            "--sip",
            &format!("127.0.0.1:{}", free_port()),
            "--http",
            &format!("127.0.0.1:{http}"),
        ]),
        Duration::from_secs(30),
    );
    let said = String::from_utf8_lossy(&failed.stderr).to_string();
    assert!(!failed.status.success(), "started on a taken port: {said}");
    assert!(said.contains("cannot bind HTTP"), "{said}");
    for (list, header) in [("agent", "ID"), ("manager", "MAILBOX")] {
        let listed = run_bounded(
            pasokh(&[list, "list", "--data", &data]),
            Duration::from_secs(20),
        );
        let text = String::from_utf8_lossy(&listed.stdout).to_string();
        assert!(listed.status.success(), "{list} list failed");
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with(header)).collect();
        assert!(rows.is_empty(), "the failed start seeded {list}s: {text}");
    }
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_commands_check_queues_and_remove_agents_and_managers() {
    let dir = temp_dir("first-day-admin");
    let data = dir.join("data").to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data", data.as_str()]);
        let output = run_bounded(pasokh(&all), Duration::from_secs(20));
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (ok, said) = run(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Sara",
        "--password",
        "pw",
        "--queue",
        "NOSUCH",
    ]);
    assert!(!ok, "an unknown queue was accepted: {said}");
    assert!(
        said.contains("no queue \"NOSUCH\"") && said.contains("137, 1888, zoning"),
        "{said}"
    );
    let (ok, said) = run(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Sara",
        "--password",
        "pw",
        "--queue",
        "1888",
    ]);
    assert!(ok, "{said}");
    let (ok, token) = run(&["token", "create", "--role", "agent:2001"]);
    assert!(ok, "{token}");
    let (ok, said) = run(&["agent", "remove", "2001"]);
    assert!(ok && said.contains("agent 2001 removed"), "{said}");
    let (ok, said) = run(&["agent", "remove", "2001"]);
    assert!(!ok && said.contains("no agent 2001"), "{said}");
    let (_, listed) = run(&["agent", "list"]);
    assert!(!listed.contains("2001"), "{listed}");

    let (ok, said) = run(&[
        "manager",
        "add",
        "501",
        "--name",
        "M",
        "--pin",
        "1234",
        "--password",
        "password501",
    ]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["manager", "remove", "501"]);
    assert!(ok && said.contains("manager 501 removed"), "{said}");
    let (ok, said) = run(&["manager", "remove", "501"]);
    assert!(!ok && said.contains("no mailbox 501"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flows_simulate_leaves_no_data_folder_behind() {
    let dir = temp_dir("first-day-simulate");
    let repo = common::repo_dir();
    let mut command = pasokh(&["flows", "simulate", "1888", "--keys", "2 12345678#"]);
    command
        .current_dir(&dir)
        .arg("--prompts")
        .arg(repo.join("prompts/fa"))
        .arg("--flows")
        .arg(repo.join("ivr-flows"));
    let output = run_bounded(command, Duration::from_secs(20));
    let said = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{said}");
    assert!(said.contains("node follow_code"), "{said}");
    assert!(
        !dir.join("data").exists(),
        "a simulation created ./data in the folder it ran in"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
