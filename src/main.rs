//! `pasokh`: the command line. `pasokh serve` (the default) runs the engine; the other commands
//! manage agents, tokens, flows and cases, and work while the engine runs (they share its data
//! folder and configuration).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pasokh::app;
use pasokh::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "pasokh",
    version,
    about = "Contact-center engine for the 137 and 1888 citizen lines"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every command takes (they may come before or after the subcommand).
#[derive(Args, Clone, Default)]
struct Common {
    /// TOML configuration file; every serve flag can be set there
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// SIP address, UDP and TCP on the same port [default: 127.0.0.1:5060]
    #[arg(long, global = true)]
    sip: Option<SocketAddr>,
    /// HTTP address for the API, wallboard and /metrics [default: 127.0.0.1:8080]
    #[arg(long, global = true)]
    http: Option<SocketAddr>,
    /// Data folder: the SQLite database and the recordings [default: ./data]
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// RTP port range LOW-HIGH [default: 20000-29999]
    #[arg(long = "rtp-ports", global = true)]
    rtp_ports: Option<String>,
    /// Seed demo agents, managers and cases so a newcomer can call in at once
    #[arg(long, global = true)]
    demo: bool,
    /// Ring this many milliseconds before answering the IVR lines [default: 0]
    #[arg(long = "answer-delay-ms", global = true)]
    answer_delay_ms: Option<u64>,
    /// Also answer this number with the flow of the same name (e.g. `bench`); repeatable
    #[arg(long = "line", global = true)]
    lines: Vec<String>,
    /// Folder of the prompts [default: prompts/fa]
    #[arg(long, global = true)]
    prompts: Option<PathBuf>,
    /// Folder of the IVR flows [default: ivr-flows]
    #[arg(long, global = true)]
    flows: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine (the default)
    Serve,
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
    },
    /// Write every path's caller audio as a pcap (and the call-takers' audio) into a folder
    Pcaps {
        /// The folder to write into
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum FlowsCommand {
    /// Validate every flow (exit status 1 and the errors, with file, line and node, if any)
    Check,
    /// Print, step by step, the prompts and nodes a call would take
    Simulate {
        /// The line: 137, 1888, or another flow's line
        line: String,
        /// Keys typed at each wait, space-separated groups, e.g. "4 2 22001840320#"; `_` waits for the timeout
        #[arg(long, default_value = "")]
        keys: String,
    },
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Import a CSV (header: kind,number,district,stage,last_step_date,next_step,session_date,verdict,fine_rials,served_date)
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent, or update one with the same ID
    Add {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        /// A queue the agent serves, as QUEUE or QUEUE:PENALTY; repeatable
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
    /// List agents and their queues
    List,
    /// Remove an agent: its registrations, state and tokens go with it
    Remove { id: String },
}

#[derive(Subcommand)]
enum ManagerCommand {
    /// Add a manager's mailbox, or replace the name, PIN and password of an existing one
    Add {
        /// The mailbox number, 2 to 8 digits (keyed after *98)
        mailbox: String,
        #[arg(long)]
        name: String,
        /// For the phone: 4 to 8 digits
        #[arg(long)]
        pin: String,
        /// For the browser: at least 8 characters
        #[arg(long)]
        password: String,
    },
    /// List managers' mailboxes and the messages waiting in each
    List,
    /// Remove a manager's mailbox (refused while messages wait in it); its tokens stop working
    Remove { mailbox: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new API token for a role: admin, supervisor, screener, agent:ID, manager:ID
    Create {
        #[arg(long)]
        role: String,
    },
    /// List tokens: id, role and creation time (the tokens themselves are not stored)
    List,
    /// Revoke the token with this id (as `token list` shows it); it stops working at once
    Revoke { id: i64 },
}

fn overrides(c: &Common) -> Overrides {
    Overrides {
        sip: c.sip,
        http: c.http,
        data: c.data.clone(),
        rtp_ports: c.rtp_ports.clone(),
        demo: c.demo,
        answer_delay_ms: c.answer_delay_ms,
        extra_lines: c.lines.clone(),
        prompts: c.prompts.clone(),
        flows: c.flows.clone(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.common.config.as_deref(), &overrides(&cli.common)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pasokh: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::serve::run(config),
        Command::Agent(AgentCommand::Add {
            id,
            name,
            password,
            queues,
        }) => app::admin::agent_add(&config, &id, &name, &password, &queues),
        Command::Agent(AgentCommand::List) => app::admin::agent_list(&config),
        Command::Agent(AgentCommand::Remove { id }) => app::admin::agent_remove(&config, &id),
        Command::Manager(ManagerCommand::Add {
            mailbox,
            name,
            pin,
            password,
        }) => app::admin::manager_add(&config, &mailbox, &name, &pin, &password),
        Command::Manager(ManagerCommand::List) => app::admin::manager_list(&config),
        Command::Manager(ManagerCommand::Remove { mailbox }) => {
            app::admin::manager_remove(&config, &mailbox)
        }
        Command::Token(TokenCommand::Create { role }) => app::admin::token_create(&config, &role),
        Command::Token(TokenCommand::List) => app::admin::token_list(&config),
        Command::Token(TokenCommand::Revoke { id }) => app::admin::token_revoke(&config, id),
        Command::Flows(FlowsCommand::Check) => app::flows::check(&config),
        Command::Flows(FlowsCommand::Simulate { line, keys }) => {
            app::flows::simulate(&config, &line, &keys)
        }
        Command::Cases(CasesCommand::Import { file }) => app::cases::import(&config, &file),
        Command::Load(LoadCommand::Day {
            calls,
            minutes,
            agents,
            json,
            report,
            keep,
        }) => {
            let options = pasokh::load::DayOptions {
                calls,
                minutes,
                agents,
                flat: false,
                keep,
                progress: true,
            };
            app::load::day(&config, &options, json, report.as_ref())
        }
        Command::Load(LoadCommand::Capacity {
            json,
            start_rate,
            step_seconds,
            agents,
        }) => app::load::capacity(&config, json, start_rate, step_seconds, agents),
        Command::Load(LoadCommand::Pcaps { out }) => app::load::pcaps(&config, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pasokh: {error}");
            ExitCode::FAILURE
        }
    }
}
