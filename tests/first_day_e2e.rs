//! What a new operator meets when starting the engine: one engine per data folder, a failed
//! start that leaves the folder as it was, log lines an operator can use (and a log shipper can
//! parse), a start from any folder, and each command's help showing only its own flags.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::{assert_ok, free_port, http_get, http_send, run_bounded, sipp, temp_dir, Engine};

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

/// Polls the engine's log until `done` holds for it, or panics with the log after `within`.
fn wait_log(engine: &Engine, within: Duration, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let log = engine.log_text();
        if done(&log) {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {what} in the log within {within:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The log line holding `message`, which must also hold every one of `fields`.
fn line_with<'a>(log: &'a str, message: &str, fields: &[&str]) -> &'a str {
    let line = log
        .lines()
        .find(|l| l.contains(message))
        .unwrap_or_else(|| panic!("no {message:?} line in the log:\n{log}"));
    for field in fields {
        assert!(
            line.contains(field),
            "{message:?} line lacks {field:?}: {line}"
        );
    }
    line
}

/// The bundled flows and a `report` line that plays a ~3 s prompt, files an urban-problem
/// report and hangs up.
fn flows_with_a_report_line() -> std::path::PathBuf {
    let dir = temp_dir("first-day-flows");
    let bundled = common::repo_dir().join("ivr-flows");
    for entry in std::fs::read_dir(&bundled).into_iter().flatten().flatten() {
        let path = entry.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, dir.join(name))
                .unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
        }
    }
    let flow = "line: \"report\"\ndescription: \"Test line: a report filed at once\"\n\
                start: hello\nnodes:\n  hello:\n    type: play\n    prompt: ivr/bench\n\
                \x20   next: kind\n\n  kind:\n    type: set\n    set: {kind: urban_problem}\n\
                \x20   next: file\n\n  file:\n    type: file\n    next: bye\n\n\
                \x20 bye:\n    type: hangup\n";
    std::fs::write(dir.join("report.yaml"), flow).unwrap_or_else(|e| panic!("report.yaml: {e}"));
    dir
}

/// An agent that SIPp can register as (SIPp answers MD5 challenges only).
const SIPP_AGENT: &str = "md5_only_user_agents = [\"sipp-agent\"]";

fn add_agent_2001(engine: &Engine) {
    engine.cli(&[
        "agent",
        "add",
        "2001",
        "--name",
        "Sara",
        "--password",
        "pw2001",
        "--queue",
        "137",
    ]);
    let token = engine.token("admin");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !engine
        .get("/api/queues", Some(&token))
        .1
        .contains("\"2001\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "agent 2001 never loaded"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn register(engine: &Engine, password: &str) -> std::process::Output {
    sipp(
        engine,
        "bench_acd_agent_register.xml",
        "2001",
        &["-au", "2001", "-ap", password],
        Duration::from_secs(15),
    )
}

#[test]
fn the_default_log_names_each_call_registration_login_and_failed_sign_in_without_colour() {
    // A line whose flow files a report (so it gets a tracking code) and hangs up.
    let flows = flows_with_a_report_line();
    let flows_arg = flows.to_string_lossy().to_string();
    let engine = Engine::start_as_operator(
        "first-day-log",
        SIPP_AGENT,
        &["--flows", &flows_arg, "--line", "report"],
    );
    add_agent_2001(&engine);

    let out = sipp(
        &engine,
        "uac_bench_ivr.xml",
        "report",
        &[],
        Duration::from_secs(30),
    );
    assert_ok(&out, "call to the report line");
    assert_ok(&register(&engine, "pw2001"), "REGISTER");
    // A wrong password: the engine challenges again, so SIPp's scenario fails, as it should.
    let _ = register(&engine, "wrong");
    let admin = engine.token("admin");
    let (status, body) = http_send(
        engine.http,
        "POST",
        "/api/agents/2001/state",
        &admin,
        "application/json",
        br#"{"action":"login"}"#,
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        http_get(engine.http, "/api/calls", Some("not-a-token")).map(|r| r.0),
        Some(401)
    );
    let form = "application/x-www-form-urlencoded";
    let (status, _) = http_send(engine.http, "POST", "/signin", "-", form, b"token=wrong123");
    assert_eq!(status, 401, "a wrong token signs in");

    let log = wait_log(&engine, Duration::from_secs(10), "call end", |log| {
        log.contains("call ended") && log.contains("agent logged in")
    });
    assert!(
        !log.contains('\x1b'),
        "colour codes in a log that is not a terminal:\n{log}"
    );
    assert!(
        !log.contains("DEBUG"),
        "debug lines at the default level:\n{log}"
    );
    let started = line_with(
        &log,
        "call started",
        &["INFO", "call_ref=", "to=report", "from=", "source="],
    );
    let call_ref = started
        .split_whitespace()
        .find_map(|field| field.strip_prefix("call_ref="))
        .unwrap_or_default();
    let ended = line_with(
        &log,
        "call ended",
        &[
            "INFO",
            &format!("call_ref={call_ref}"),
            "to=report",
            "from=",
            "disposition=completed",
            "hangup_by=engine",
            "duration_s=",
            "tracking_code=",
        ],
    );
    // SIPp calls from 09120001: its middle is hidden, as by the SMS log sender.
    assert!(ended.contains("from=0912****001"), "{ended}");
    assert!(
        !log.contains("09120001"),
        "a caller's whole number in the log:\n{log}"
    );
    for quoted in ["=\"", "state=\"available"] {
        assert!(!ended.contains(quoted), "quoted value: {ended}");
    }
    let duration: f64 = ended
        .split_whitespace()
        .find_map(|field| field.strip_prefix("duration_s="))
        .and_then(|d| d.parse().ok())
        .unwrap_or(-1.0);
    assert!((2.0..20.0).contains(&duration), "{ended}");
    // The call's message is named by its tracking code, in the end line or once it is filed.
    let code_logged = !ended.contains("tracking_code=-")
        || log
            .lines()
            .any(|l| l.contains("message filed") && l.contains(call_ref));
    assert!(code_logged, "no tracking code for {call_ref}:\n{log}");
    line_with(
        &log,
        "registration accepted",
        &["agent=2001", "source=udp:127.0.0.1:", "expires_s="],
    );
    line_with(
        &log,
        "SIP authentication failed",
        &["WARN", "user=2001", "method=REGISTER"],
    );
    line_with(&log, "agent logged in", &["agent=2001", "state=available "]);
    line_with(
        &log,
        "API authentication failed",
        &["WARN", "path=/api/calls", "peer=127.0.0.1"],
    );
    line_with(
        &log,
        "web sign-in failed",
        &["WARN", "page=/", "peer=127.0.0.1", "reason=unknown_token"],
    );
    line_with(&log, "pasokh starting", &["INFO"]);

    engine.terminate();
    wait_log(&engine, Duration::from_secs(20), "stop line", |log| {
        log.contains("pasokh stopped")
    });
}

#[test]
fn log_format_json_writes_one_json_object_a_line() {
    let engine = Engine::start_as_operator("first-day-json", "", &["--log-format", "json"]);
    let out = sipp(
        &engine,
        "uac_basic.xml",
        "137",
        &["-d", "500"],
        Duration::from_secs(30),
    );
    assert_ok(&out, "basic call");
    let log = wait_log(&engine, Duration::from_secs(10), "call end", |log| {
        log.contains("call ended")
    });
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| panic!("not a JSON object: {line}"))
        })
        .collect();
    let ended = lines
        .iter()
        .find(|l| l["message"] == "call ended")
        .unwrap_or_else(|| panic!("no call ended object:\n{log}"));
    for field in [
        "call_ref",
        "to",
        "from",
        "disposition",
        "duration_s",
        "tracking_code",
    ] {
        assert!(
            ended.get(field).is_some(),
            "call ended lacks {field}: {ended}"
        );
    }
    assert_eq!(ended["level"], "INFO");
    assert_eq!(ended["disposition"], "completed");
}

#[test]
fn a_bad_log_format_is_refused_naming_where_it_came_from() {
    let output = run_bounded(
        {
            let mut command = pasokh(&["serve", "--data", "/nonexistent/never-created"]);
            command.env("PASOKH_LOG_FORMAT", "xml");
            command
        },
        Duration::from_secs(20),
    );
    let said = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("PASOKH_LOG_FORMAT") && said.contains("text, json"),
        "{said}"
    );
}

#[test]
fn started_from_any_folder_the_engine_finds_its_flows_and_prompts_and_says_where_to_look() {
    // start_as_operator runs the engine in a fresh folder with no prompts or flows configured.
    let engine = Engine::start_as_operator("first-day-anywhere", "", &[]);
    // The web server may answer a moment before the line is written.
    let log = wait_log(&engine, Duration::from_secs(10), "start-up line", |log| {
        log.contains("pasokh is running")
    });
    let running = line_with(
        &log,
        "pasokh is running",
        &[
            &format!("wallboard at http://127.0.0.1:{}/", engine.http),
            "pasokh token create --role supervisor",
        ],
    );
    let repo = common::repo_dir()
        .canonicalize()
        .unwrap_or_else(|e| panic!("repo: {e}"));
    assert!(
        running.contains(&format!("prompts={}", repo.join("prompts/fa").display()))
            && running.contains(&format!("flows={}", repo.join("ivr-flows").display())),
        "{running}"
    );
    // The bundled flow answers: an IVR call plays its prompts.
    let out = sipp(
        &engine,
        "uac_basic.xml",
        "1888",
        &["-d", "500"],
        Duration::from_secs(30),
    );
    assert_ok(&out, "call to 1888");
    // Flows commands run from the same folder find them too.
    let mut check = pasokh(&["flows", "check"]);
    check.current_dir(&engine.dir);
    let checked = run_bounded(check, Duration::from_secs(20));
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// Each command's own flags, as `--help` must list them (and nothing else but `--help`).
const OWN_FLAGS: &[(&[&str], &[&str])] = &[
    (
        &["serve"],
        &[
            "--config",
            "--sip",
            "--http",
            "--data",
            "--rtp-ports",
            "--demo",
            "--answer-delay-ms",
            "--line",
            "--prompts",
            "--flows",
            "--log-format",
            "--tls-cert",
            "--tls-key",
        ],
    ),
    (
        &["agent", "add"],
        &["--name", "--password", "--queue", "--config", "--data"],
    ),
    (&["agent", "list"], &["--config", "--data"]),
    (&["agent", "remove"], &["--config", "--data"]),
    (
        &["manager", "add"],
        &["--name", "--pin", "--password", "--config", "--data"],
    ),
    (&["manager", "list"], &["--config", "--data"]),
    (&["manager", "remove"], &["--config", "--data"]),
    (&["token", "create"], &["--role", "--config", "--data"]),
    (&["token", "list"], &["--config", "--data"]),
    (&["token", "revoke"], &["--config", "--data"]),
    (&["flows", "check"], &["--config", "--prompts", "--flows"]),
    (
        &["flows", "simulate"],
        &[
            "--keys",
            "--config",
            "--prompts",
            "--flows",
            "--data",
            "--demo",
        ],
    ),
    (&["cases", "import"], &["--config", "--data"]),
    (&["agent"], &[]),
    (&["manager"], &[]),
    (&["token"], &[]),
    (&["flows"], &[]),
    (&["cases"], &[]),
];

#[test]
fn each_command_help_lists_only_its_own_flags_each_with_a_sentence() {
    for (command, expected) in OWN_FLAGS {
        let mut args = command.to_vec();
        args.push("--help");
        let output = run_bounded(pasokh(&args), Duration::from_secs(10));
        let help = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(output.status.success(), "{args:?}: {help}");
        let options = help
            .split_once("Options:")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("{args:?}: no options section:\n{help}"));
        let mut listed = Vec::new();
        for line in options.lines().filter(|l| l.trim_start().starts_with('-')) {
            let flag = line
                .split([',', ' '])
                .map(str::trim)
                .find(|word| word.starts_with("--"))
                .unwrap_or_default();
            // After the flag and its value name, a sentence of at least a few words.
            let description = line
                .trim_start()
                .split_once("  ")
                .map_or("", |(_, rest)| rest.trim());
            assert!(
                description.split_whitespace().count() >= 2,
                "{args:?}: {flag} has no description: {line:?}"
            );
            if flag != "--help" {
                listed.push(flag.to_string());
            }
        }
        let mut want: Vec<String> = expected.iter().map(|f| f.to_string()).collect();
        want.sort();
        listed.sort();
        assert_eq!(listed, want, "{args:?} --help:\n{help}");
    }
}

#[test]
fn the_readme_command_lines_still_parse_with_flags_before_or_after_the_subcommand() {
    let dir = temp_dir("first-day-cli");
    let data = dir.join("data").to_string_lossy().to_string();
    let config = dir.join("pasokh.toml");
    std::fs::write(&config, format!("data = \"{data}\"\n")).unwrap_or_else(|e| panic!("{e}"));
    let config = config.to_string_lossy().to_string();
    let runs: [&[&str]; 5] = [
        &[
            "agent",
            "add",
            "2002",
            "--name",
            "N",
            "--password",
            "pw",
            "--queue",
            "137:1",
            "--config",
            &config,
        ],
        &["--config", &config, "agent", "list"],
        &["--data", &data, "token", "create", "--role", "supervisor"],
        &["token", "list", "--data", &data],
        &["flows", "simulate", "137", "--keys", "_", "--data", &data],
    ];
    for args in runs {
        let output = run_bounded(pasokh(args), Duration::from_secs(20));
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let listed = run_bounded(
        pasokh(&["agent", "list", "--data", &data]),
        Duration::from_secs(20),
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("2002"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `scripts/test.sh` with only `tools` on PATH (the few a shell script needs, plus the fakes
/// `fakes` names with their script bodies): (exit success, stdout + stderr).
fn test_sh_with(fakes: &[(&str, &str)]) -> (bool, String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("first-day-test-sh");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    for tool in ["bash", "sed", "cut", "sort", "head", "id", "dirname", "cat"] {
        let real = std::path::Path::new("/usr/bin").join(tool);
        std::os::unix::fs::symlink(&real, bin.join(tool)).unwrap_or_else(|e| panic!("{e}"));
    }
    for (name, body) in fakes {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/usr/bin/bash\n{body}\n"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut command = Command::new("/usr/bin/bash");
    command
        .arg(common::repo_dir().join("scripts/test.sh"))
        .env_clear()
        .env("PATH", &bin)
        .env("FAKE_LOG", dir.join("calls.log"));
    let output = run_bounded(command, Duration::from_secs(30));
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), said, dir)
}

#[test]
fn scripts_test_sh_names_rustup_and_the_rust_version_when_cargo_is_missing_or_old() {
    let manifest = std::fs::read_to_string(common::repo_dir().join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| panic!("Cargo.toml has no rust-version"));

    let (ok, said, dir) = test_sh_with(&[]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("cargo is missing") && said.contains("rustup"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Rust {rust_version} or newer")),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);

    let old = [
        ("cargo", "exit 0"),
        ("rustc", "echo 'rustc 1.63.0 (Debian)'"),
    ];
    let (ok, said, dir) = test_sh_with(&old);
    assert!(!ok, "{said}");
    assert!(
        said.contains(&format!("rustc 1.63.0 is older than {rust_version}")),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn scripts_test_sh_installs_the_c_toolchain_by_package_name_when_it_is_missing() {
    // A new enough Rust, no C compiler: the script asks apt-get for build-essential (the fake
    // apt-get records what it was asked and fails, which stops the script there).
    let fakes = [
        ("cargo", "exit 0"),
        ("rustc", "echo 'rustc 9.99.0'"),
        ("apt-get", "echo \"apt-get $*\" >> \"$FAKE_LOG\"; exit 1"),
        // When the tests do not run as root, the script goes through sudo.
        ("sudo", "\"$@\""),
    ];
    let (ok, said, dir) = test_sh_with(&fakes);
    assert!(!ok, "{said}");
    let asked = std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default();
    assert!(asked.contains("apt-get update"), "{asked}\n{said}");
    assert!(said.contains("build-essential"), "{said}");
    let _ = std::fs::remove_dir_all(dir);
}
