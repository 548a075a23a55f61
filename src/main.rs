//! `pasokh`: the command line. `pasokh serve` (the default) runs the engine; the other commands
//! manage agents, tokens, flows and cases, and work while the engine runs (they share its data
//! folder and configuration).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pasokh::app;
use pasokh::config::{Config, Origin, Overrides};

#[derive(Parser)]
#[command(
    name = "pasokh",
    version,
    about = "Contact-center engine for the 137 and 1888 citizen lines"
)]
struct Cli {
    /// `pasokh` alone runs the engine, so it takes serve's flags; given before a subcommand
    /// (`pasokh --data DIR agent list`) they still apply to it, as they always have.
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The flags of `serve` (and of `pasokh` alone). Each can also be set in the TOML file.
#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// TOML configuration file; every flag of serve can be set there too
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// SIP address, UDP and TCP on the same port [default: 127.0.0.1:5060]
    #[arg(long, value_name = "ADDR")]
    sip: Option<SocketAddr>,
    /// HTTP address for the API, wallboard and /metrics [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Data folder: the SQLite database and the recordings [default: ./data]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// RTP port range LOW-HIGH [default: 20000-29999]
    #[arg(long = "rtp-ports", value_name = "LOW-HIGH")]
    rtp_ports: Option<String>,
    /// Seed demo agents, managers and cases so a newcomer can call in at once
    #[arg(long)]
    demo: bool,
    /// Ring this many milliseconds before answering the IVR lines [default: 0]
    #[arg(long = "answer-delay-ms", value_name = "N")]
    answer_delay_ms: Option<u64>,
    /// Also answer this number with the flow of the same name (e.g. `bench`); repeatable
    #[arg(long = "line", value_name = "NAME")]
    lines: Vec<String>,
    /// Folder of the prompts [default: the bundled prompts/fa, found from the program]
    #[arg(long, value_name = "DIR")]
    prompts: Option<PathBuf>,
    /// Folder of the IVR flows [default: the bundled ivr-flows, found from the program]
    #[arg(long, value_name = "DIR")]
    flows: Option<PathBuf>,
    /// Log lines as plain text or as one JSON object a line (also PASOKH_LOG_FORMAT) [default: text]
    #[arg(long = "log-format", value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Serve the pages and the API over HTTPS with this PEM certificate chain (needs --tls-key)
    #[arg(long = "tls-cert", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long = "tls-key", value_name = "FILE")]
    tls_key: Option<PathBuf>,
}

/// The flags of the commands that read and write the data folder.
#[derive(Args, Clone, Default)]
struct DataArgs {
    /// TOML configuration file (its `data` and `[queues.NAME]` are used)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data folder: the SQLite database and the recordings [default: ./data]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// The flags of `flows check` and `load`: where the flows and the prompts they name are.
#[derive(Args, Clone, Default)]
struct FlowFolderArgs {
    /// TOML configuration file (its `prompts` and `flows` are used)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of the prompts [default: the bundled prompts/fa, found from the program]
    #[arg(long, value_name = "DIR")]
    prompts: Option<PathBuf>,
    /// Folder of the IVR flows [default: the bundled ivr-flows, found from the program]
    #[arg(long, value_name = "DIR")]
    flows: Option<PathBuf>,
}

/// The flags of `flows simulate`: the flows, and the cases a lookup reads.
#[derive(Args, Clone, Default)]
struct SimulateArgs {
    /// TOML configuration file (its `prompts`, `flows` and `data` are used)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of the prompts [default: the bundled prompts/fa, found from the program]
    #[arg(long, value_name = "DIR")]
    prompts: Option<PathBuf>,
    /// Folder of the IVR flows [default: the bundled ivr-flows, found from the program]
    #[arg(long, value_name = "DIR")]
    flows: Option<PathBuf>,
    /// Data folder whose cases a lookup reads, when it exists [default: ./data]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Look cases up in the demo's synthetic cases (seeded into the data folder)
    #[arg(long)]
    demo: bool,
}

impl From<DataArgs> for ServeArgs {
    fn from(args: DataArgs) -> Self {
        ServeArgs {
            config: args.config,
            data: args.data,
            ..ServeArgs::default()
        }
    }
}

impl From<FlowFolderArgs> for ServeArgs {
    fn from(args: FlowFolderArgs) -> Self {
        ServeArgs {
            config: args.config,
            prompts: args.prompts,
            flows: args.flows,
            ..ServeArgs::default()
        }
    }
}

impl From<SimulateArgs> for ServeArgs {
    fn from(args: SimulateArgs) -> Self {
        ServeArgs {
            config: args.config,
            prompts: args.prompts,
            flows: args.flows,
            data: args.data,
            demo: args.demo,
            ..ServeArgs::default()
        }
    }
}

impl ServeArgs {
    /// These flags over `earlier` (those given before the subcommand): a flag given in both
    /// places takes the later value, repeatable ones add up.
    fn over(self, earlier: ServeArgs) -> ServeArgs {
        let mut lines = earlier.lines;
        lines.extend(self.lines);
        ServeArgs {
            config: self.config.or(earlier.config),
            sip: self.sip.or(earlier.sip),
            http: self.http.or(earlier.http),
            data: self.data.or(earlier.data),
            rtp_ports: self.rtp_ports.or(earlier.rtp_ports),
            demo: self.demo || earlier.demo,
            answer_delay_ms: self.answer_delay_ms.or(earlier.answer_delay_ms),
            lines,
            prompts: self.prompts.or(earlier.prompts),
            flows: self.flows.or(earlier.flows),
            log_format: self.log_format.or(earlier.log_format),
            tls_cert: self.tls_cert.or(earlier.tls_cert),
            tls_key: self.tls_key.or(earlier.tls_key),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine (the default)
    Serve(ServeArgs),
    /// Manage call-takers (SIP accounts)
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage managers' voice mailboxes (dialled with *98, or signed in at /mailbox)
    #[command(subcommand)]
    Manager(ManagerCommand),
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check or simulate the IVR flows without a phone
    #[command(subcommand)]
    Flows(FlowsCommand),
    /// Import zoning files and Article 100 cases
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Load-test the engine with SIPp: a whole day of calls, or the capacity ramp
    #[command(subcommand)]
    Load(LoadCommand),
}

#[derive(Subcommand)]
enum LoadCommand {
    /// Replay a day's calls (every path of both trees, real media, simulated call-takers) against a fresh engine and reconcile what was filed
    Day {
        /// Calls in the day
        #[arg(long, default_value_t = 25_000)]
        calls: u64,
        /// Minutes the day is compressed into
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Simulated call-takers (SIPp, registered with digest auth and logged in)
        #[arg(long, default_value_t = 100)]
        agents: u32,
        /// End the report with one JSON line
        #[arg(long)]
        json: bool,
        /// Also write report.json and report.html (charts over time) into this folder
        #[arg(long)]
        report: Option<PathBuf>,
        /// Keep the engine's data folder and SIPp's traces even when the day was clean
        #[arg(long)]
        keep: bool,
        /// File this many earlier messages (the ten days before) before the engine starts, to
        /// measure the day against full tables
        #[arg(long, default_value_t = 0)]
        prefill: u64,
        #[command(flatten)]
        given: FlowFolderArgs,
    },
    /// Raise the call rate with the same mix until calls fail (over 0.1%) or answers slow (p99 over 200 ms)
    Capacity {
        /// End the report with one JSON line
        #[arg(long)]
        json: bool,
        /// The first step's calls per second (each next step is 25% more)
        #[arg(long, default_value_t = 20.0)]
        start_rate: f64,
        /// Seconds each step lasts
        #[arg(long, default_value_t = 60.0)]
        step_seconds: f64,
        /// Simulated call-takers at least (more when a step's rate needs them)
        #[arg(long, default_value_t = 100)]
        agents: u32,
        #[command(flatten)]
        given: FlowFolderArgs,
    },
    /// Write every path's caller audio as a pcap (and the call-takers' audio) into a folder
    Pcaps {
        /// The folder to write into
        out: PathBuf,
        #[command(flatten)]
        given: FlowFolderArgs,
    },
}

#[derive(Subcommand)]
enum FlowsCommand {
    /// Validate every flow (exit status 1 and the errors, with file, line and node, if any)
    Check(FlowFolderArgs),
    /// Print, step by step, the prompts and nodes a call would take
    Simulate {
        /// The line: 137, 1888, or another flow's line
        line: String,
        /// Keys typed at each wait, space-separated groups, e.g. "4 2 22001840320#"; `_` waits for the timeout
        #[arg(long, default_value = "")]
        keys: String,
        #[command(flatten)]
        given: SimulateArgs,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Import a CSV (header: kind,number,district,stage,last_step_date,next_step,session_date,verdict,fine_rials,served_date)
    Import {
        /// The CSV file; bad rows are reported by line, good rows imported in one transaction
        file: PathBuf,
        #[command(flatten)]
        given: DataArgs,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent, or update one with the same ID
    Add {
        /// The agent's ID: its SIP user name and extension
        id: String,
        /// The name shown on the wallboard
        #[arg(long)]
        name: String,
        /// The SIP password (only its HA1 digests are stored)
        #[arg(long)]
        password: String,
        /// A queue the agent serves, as QUEUE or QUEUE:PENALTY; repeatable
        #[arg(long = "queue", value_name = "QUEUE[:PENALTY]")]
        queues: Vec<String>,
        #[command(flatten)]
        given: DataArgs,
    },
    /// List agents and their queues
    List(DataArgs),
    /// Remove an agent: its registrations, state and tokens go with it
    Remove {
        /// The agent's ID
        id: String,
        #[command(flatten)]
        given: DataArgs,
    },
}

#[derive(Subcommand)]
enum ManagerCommand {
    /// Add a manager's mailbox, or replace the name, PIN and password of an existing one
    Add {
        /// The mailbox number, 2 to 8 digits (keyed after *98)
        mailbox: String,
        /// The manager's name, as the screening page lists it
        #[arg(long)]
        name: String,
        /// For the phone: 4 to 8 digits
        #[arg(long)]
        pin: String,
        /// For the browser: at least 8 characters
        #[arg(long)]
        password: String,
        #[command(flatten)]
        given: DataArgs,
    },
    /// List managers' mailboxes and the messages waiting in each
    List(DataArgs),
    /// Remove a manager's mailbox (refused while messages wait in it); its tokens stop working
    Remove {
        /// The mailbox number
        mailbox: String,
        #[command(flatten)]
        given: DataArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new API token for a role: admin, supervisor, screener, agent:ID, manager:ID
    Create {
        /// admin, supervisor, screener, agent:ID or manager:MAILBOX
        #[arg(long)]
        role: String,
        #[command(flatten)]
        given: DataArgs,
    },
    /// List tokens: id, role and creation time (the tokens themselves are not stored)
    List(DataArgs),
    /// Revoke the token with this id (as `token list` shows it); it stops working at once
    Revoke {
        /// The token's id, as `token list` shows it
        id: i64,
        #[command(flatten)]
        given: DataArgs,
    },
}

/// A command with what it needs from the command line, its flags merged with those given
/// before the subcommand.
type Action = Box<dyn FnOnce(&Config) -> Result<(), app::CliError>>;

fn action(command: Option<Command>) -> (ServeArgs, Action) {
    let Some(command) = command else {
        return (
            ServeArgs::default(),
            Box::new(|c| app::serve::run(c.clone())),
        );
    };
    match command {
        Command::Serve(given) => (given, Box::new(|c| app::serve::run(c.clone()))),
        Command::Agent(AgentCommand::Add {
            id,
            name,
            password,
            queues,
            given,
        }) => (
            given.into(),
            Box::new(move |c| app::admin::agent_add(c, &id, &name, &password, &queues)),
        ),
        Command::Agent(AgentCommand::List(given)) => {
            (given.into(), Box::new(app::admin::agent_list))
        }
        Command::Agent(AgentCommand::Remove { id, given }) => (
            given.into(),
            Box::new(move |c| app::admin::agent_remove(c, &id)),
        ),
        Command::Manager(ManagerCommand::Add {
            mailbox,
            name,
            pin,
            password,
            given,
        }) => (
            given.into(),
            Box::new(move |c| app::admin::manager_add(c, &mailbox, &name, &pin, &password)),
        ),
        Command::Manager(ManagerCommand::List(given)) => {
            (given.into(), Box::new(app::admin::manager_list))
        }
        Command::Manager(ManagerCommand::Remove { mailbox, given }) => (
            given.into(),
            Box::new(move |c| app::admin::manager_remove(c, &mailbox)),
        ),
        Command::Token(TokenCommand::Create { role, given }) => (
            given.into(),
            Box::new(move |c| app::admin::token_create(c, &role)),
        ),
        Command::Token(TokenCommand::List(given)) => {
            (given.into(), Box::new(app::admin::token_list))
        }
        Command::Token(TokenCommand::Revoke { id, given }) => (
            given.into(),
            Box::new(move |c| app::admin::token_revoke(c, id)),
        ),
        Command::Flows(FlowsCommand::Check(given)) => (given.into(), Box::new(app::flows::check)),
        Command::Flows(FlowsCommand::Simulate { line, keys, given }) => (
            given.into(),
            Box::new(move |c| app::flows::simulate(c, &line, &keys)),
        ),
        Command::Cases(CasesCommand::Import { file, given }) => (
            given.into(),
            Box::new(move |c| app::cases::import(c, &file)),
        ),
        Command::Load(LoadCommand::Day {
            calls,
            minutes,
            agents,
            json,
            report,
            keep,
            prefill,
            given,
        }) => {
            let options = pasokh::load::DayOptions {
                calls,
                minutes,
                agents,
                flat: false,
                keep,
                progress: true,
                prefill,
            };
            (
                given.into(),
                Box::new(move |c| app::load::day(c, &options, json, report.as_ref())),
            )
        }
        Command::Load(LoadCommand::Capacity {
            json,
            start_rate,
            step_seconds,
            agents,
            given,
        }) => (
            given.into(),
            Box::new(move |c| app::load::capacity(c, json, start_rate, step_seconds, agents)),
        ),
        Command::Load(LoadCommand::Pcaps { out, given }) => {
            (given.into(), Box::new(move |c| app::load::pcaps(c, &out)))
        }
    }
}

fn overrides(given: &ServeArgs) -> Overrides {
    // The flag wins over the environment; the environment over the TOML file.
    let log_format = match &given.log_format {
        Some(flag) => Some((Origin::Flag("--log-format"), flag.clone())),
        None => std::env::var("PASOKH_LOG_FORMAT")
            .ok()
            .filter(|value| !value.trim().is_empty())
            .map(|value| (Origin::Env("PASOKH_LOG_FORMAT"), value)),
    };
    Overrides {
        sip: given.sip,
        http: given.http,
        data: given.data.clone(),
        rtp_ports: given.rtp_ports.clone(),
        demo: given.demo,
        answer_delay_ms: given.answer_delay_ms,
        extra_lines: given.lines.clone(),
        prompts: given.prompts.clone(),
        flows: given.flows.clone(),
        log_format,
        tls_cert: given.tls_cert.clone(),
        tls_key: given.tls_key.clone(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (given, run) = action(cli.command);
    let given = given.over(cli.serve);
    let loaded = Config::load_over(
        app::bundled::defaults(),
        given.config.as_deref(),
        &overrides(&given),
    );
    let config = match loaded {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pasokh: {error}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pasokh: {error}");
            ExitCode::FAILURE
        }
    }
}
