//! Configuration: built-in defaults, then a TOML file (`--config`), then command-line flags, each
//! overriding the one before. Every flag of `pasokh serve` has a TOML key of the same name
//! (dashes become underscores).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::acd::QueueConfig;

mod error;
mod mailboxes;
mod queues;

pub use error::{ConfigError, Origin, PortRangeError, PortRangeProblem, Problem};
pub use mailboxes::{LineMailboxes, MailboxRoutes, SmsSender};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub sip: SocketAddr,
    pub http: SocketAddr,
    pub data: PathBuf,
    pub rtp_ports: (u16, u16),
    pub demo: bool,
    pub realm: String,
    /// Ringing before answering the IVR lines, in milliseconds (0: at once).
    pub answer_delay_ms: u64,
    /// Extra dialled numbers that run a flow of the same name (e.g. "bench").
    pub extra_lines: Vec<String>,
    pub prompts: PathBuf,
    pub flows: PathBuf,
    /// Media worker threads (default: two per core, see `default_media_workers`).
    pub media_workers: usize,
    pub rtp_inactivity_s: u64,
    /// TCP connections idle this long are closed.
    pub tcp_idle_s: u64,
    /// A TCP connection that sends no message this long after opening is closed.
    pub tcp_first_message_s: u64,
    /// TCP connections one (untrusted) source may hold open at once.
    pub tcp_max_connections_per_source: usize,
    /// On SIGTERM, calls in progress get this long to finish before the closing prompt and BYE.
    pub shutdown_grace_s: u64,
    /// A SIP message over TCP must arrive whole within this time of its first byte.
    pub tcp_message_deadline_ms: u64,
    /// Answers queued for one TCP connection and not yet written, at most (KiB); a peer that
    /// does not read them past this is disconnected.
    pub tcp_output_max_kb: u64,
    /// User-Agent prefixes challenged with MD5 only (softphones that fail on SHA-256 challenges).
    pub md5_only_user_agents: Vec<String>,
    /// The ACD's queues: 137, 1888 and zoning by default, tuned or added by `[queues.NAME]`.
    pub queues: Vec<QueueConfig>,
    /// `max_unconfirmed_per_source` and `max_port_share_per_source` (percent).
    pub source_limits: crate::engine::SourceLimits,
    /// `flood_*` and `trusted_sources`: per-source message rates before parsing.
    pub flood_limits: crate::engine::FloodLimits,
    /// `[mailboxes.LINE]`: the mailbox the screening page suggests, by line and district.
    pub mailbox_routes: MailboxRoutes,
    /// `[sms]`: how texts to citizens leave the outbox.
    pub sms: SmsSender,
    /// How `serve` writes its log lines: plain text, or one JSON object a line for log shippers.
    pub log_format: LogFormat,
    /// `auth_max_failures` and `auth_lockout_s`: refused SIP credentials from one address for one
    /// user before that pair is locked out, and for how long.
    pub lockout: crate::sip::registrar::LockoutPolicy,
    /// `tls_cert` and `tls_key`: PEM files; with both, the pages and the API are HTTPS only
    /// (`Config::tls`). Loading refuses one without the other.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The certificate chain and private key `serve` answers HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The shape of the engine's log lines (`--log-format`, `log_format`, `PASOKH_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `TIME LEVEL target: message key=value…`, for a person reading a terminal or a journal.
    #[default]
    Text,
    /// One JSON object per line with the event's fields at the top level, for log shippers.
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Option<LogFormat> {
        match text.trim() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sip: SocketAddr::from(([127, 0, 0, 1], 5060)),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./data"),
            rtp_ports: (20000, 29999),
            demo: false,
            realm: "pasokh".into(),
            answer_delay_ms: 0,
            extra_lines: Vec::new(),
            prompts: PathBuf::from("prompts/fa"),
            flows: PathBuf::from("ivr-flows"),
            media_workers: default_media_workers(),
            rtp_inactivity_s: 60,
            tcp_idle_s: 300,
            tcp_first_message_s: 10,
            tcp_max_connections_per_source: 32,
            shutdown_grace_s: 30,
            tcp_message_deadline_ms: 5000,
            tcp_output_max_kb: 1024,
            md5_only_user_agents: crate::engine::default_md5_only_user_agents(),
            queues: crate::engine::default_queues(),
            source_limits: crate::engine::SourceLimits::default(),
            flood_limits: crate::engine::FloodLimits::default(),
            mailbox_routes: MailboxRoutes::default(),
            sms: SmsSender::default(),
            log_format: LogFormat::Text,
            lockout: crate::sip::registrar::LockoutPolicy::default(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Two media workers per core (at least 2, at most 16). Each worker sends its legs' packets in one
/// burst per 20 ms tick at its own phase; more, shorter bursts mean a packet late in a burst waits
/// less behind the others, and a stalled core delays fewer streams (measured: docs/media.md).
pub fn default_media_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores).clamp(2, 16)
}

/// The TOML file: every key optional. Keys whose values are checked beyond their type keep their
/// place in the file (`Spanned`), so an error can give the line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    sip: Option<SocketAddr>,
    http: Option<SocketAddr>,
    data: Option<PathBuf>,
    rtp_ports: Option<Spanned<String>>,
    demo: Option<bool>,
    realm: Option<String>,
    answer_delay_ms: Option<u64>,
    extra_lines: Option<Vec<String>>,
    prompts: Option<PathBuf>,
    flows: Option<PathBuf>,
    media_workers: Option<usize>,
    rtp_inactivity_s: Option<u64>,
    tcp_idle_s: Option<u64>,
    tcp_first_message_s: Option<u64>,
    tcp_max_connections_per_source: Option<Spanned<usize>>,
    shutdown_grace_s: Option<u64>,
    tcp_message_deadline_ms: Option<u64>,
    tcp_output_max_kb: Option<u64>,
    md5_only_user_agents: Option<Vec<String>>,
    queues: Option<BTreeMap<Spanned<String>, queues::QueueFile>>,
    max_unconfirmed_per_source: Option<Spanned<usize>>,
    max_port_share_per_source: Option<Spanned<u8>>,
    flood_rate_per_source: Option<u32>,
    flood_burst_per_source: Option<Spanned<u32>>,
    flood_strikes: Option<Spanned<u32>>,
    flood_block_s: Option<u64>,
    trusted_sources: Option<Vec<Spanned<String>>>,
    mailboxes: Option<MailboxTables>,
    sms: Option<mailboxes::SmsFile>,
    log_format: Option<Spanned<String>>,
    auth_max_failures: Option<Spanned<u32>>,
    auth_lockout_s: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// `[mailboxes.LINE]` tables: district number (or `default`) → mailbox.
type MailboxTables = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>;

/// The file being applied, to turn a value's place in it into a line number.
struct FileSource<'a> {
    path: &'a Path,
    text: &'a str,
}

impl FileSource<'_> {
    fn line_of(&self, at: usize) -> usize {
        let before = self.text.get(..at).unwrap_or(self.text);
        before.matches('\n').count() + 1
    }

    fn origin(&self, span: Range<usize>) -> Origin {
        Origin::File {
            path: self.path.to_path_buf(),
            line: Some(self.line_of(span.start)),
        }
    }

    /// An error for a top-level key.
    fn invalid<T>(&self, value: &Spanned<T>, key: &'static str, problem: Problem) -> ConfigError {
        ConfigError::Invalid {
            at: self.origin(value.span()),
            queue: None,
            key,
            problem,
        }
    }
}

/// Flags given on the command line (None: not given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub sip: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub rtp_ports: Option<String>,
    pub demo: bool,
    pub answer_delay_ms: Option<u64>,
    pub extra_lines: Vec<String>,
    pub prompts: Option<PathBuf>,
    pub flows: Option<PathBuf>,
    /// `--log-format`, or else `PASOKH_LOG_FORMAT`: where it came from, and the text given.
    pub log_format: Option<(Origin, String)>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// `LOW-HIGH`, both ports, LOW below HIGH, at least two ports.
pub fn parse_port_range(text: &str) -> Result<(u16, u16), PortRangeError> {
    let error = |problem| PortRangeError {
        text: text.to_string(),
        problem,
    };
    let (low, high) = text
        .split_once('-')
        .ok_or_else(|| error(PortRangeProblem::NoDash))?;
    let low: u16 = low
        .trim()
        .parse()
        .map_err(|_| error(PortRangeProblem::BadLow))?;
    let high: u16 = high
        .trim()
        .parse()
        .map_err(|_| error(PortRangeProblem::BadHigh))?;
    if low == 0 || high <= low {
        return Err(error(PortRangeProblem::Order));
    }
    Ok((low, high))
}

impl Config {
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Config, ConfigError> {
        Self::load_over(Config::default(), file, flags)
    }

    /// As [`Config::load`], starting from `base` instead of the built-in defaults (the command
    /// line gives the bundled prompts and flows found next to the installed program).
    pub fn load_over(
        base: Config,
        file: Option<&Path>,
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut config = base;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let file = FileSource { path, text: &text };
            let parsed: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
                path: path.to_path_buf(),
                line: e.span().map(|span| file.line_of(span.start)),
                detail: e.to_string(),
            })?;
            config.apply_file(parsed, &file)?;
        }
        config.apply_flags(flags)?;
        config.check_tls_pair(file, flags)?;
        Ok(config)
    }

    /// The HTTPS certificate and key, when both are given.
    pub fn tls(&self) -> Option<TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }

    /// A certificate without its key (or the reverse) would leave the operator believing the
    /// pages are HTTPS while they are served in plain HTTP: refused with what is missing.
    fn check_tls_pair(&self, file: Option<&Path>, flags: &Overrides) -> Result<(), ConfigError> {
        let (given, missing) = match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => ("tls_cert", "tls_key"),
            (None, Some(_)) => ("tls_key", "tls_cert"),
            _ => return Ok(()),
        };
        let flag = if given == "tls_cert" {
            flags.tls_cert.as_ref().map(|_| "--tls-cert")
        } else {
            flags.tls_key.as_ref().map(|_| "--tls-key")
        };
        Err(ConfigError::Invalid {
            at: match (flag, file) {
                (Some(flag), _) => Origin::Flag(flag),
                (None, Some(path)) => Origin::File {
                    path: path.to_path_buf(),
                    line: None,
                },
                (None, None) => Origin::Flag("--tls-cert"),
            },
            queue: None,
            key: given,
            problem: Problem::TlsHalf { missing },
        })
    }

    fn apply_file(&mut self, f: FileConfig, file: &FileSource) -> Result<(), ConfigError> {
        self.tls_cert = f.tls_cert.or_else(|| self.tls_cert.clone());
        self.tls_key = f.tls_key.or_else(|| self.tls_key.clone());
        if let Some(v) = f.rtp_ports {
            self.rtp_ports = parse_port_range(v.get_ref())
                .map_err(|e| file.invalid(&v, "rtp_ports", Problem::PortRange(e)))?;
        }
        self.sip = f.sip.unwrap_or(self.sip);
        self.http = f.http.unwrap_or(self.http);
        self.data = f.data.unwrap_or_else(|| self.data.clone());
        self.demo = f.demo.unwrap_or(self.demo);
        self.realm = f.realm.unwrap_or_else(|| self.realm.clone());
        self.answer_delay_ms = f.answer_delay_ms.unwrap_or(self.answer_delay_ms);
        self.extra_lines = f.extra_lines.unwrap_or_else(|| self.extra_lines.clone());
        self.prompts = f.prompts.unwrap_or_else(|| self.prompts.clone());
        self.flows = f.flows.unwrap_or_else(|| self.flows.clone());
        self.media_workers = f.media_workers.unwrap_or(self.media_workers).max(1);
        self.rtp_inactivity_s = f.rtp_inactivity_s.unwrap_or(self.rtp_inactivity_s);
        self.tcp_idle_s = f.tcp_idle_s.unwrap_or(self.tcp_idle_s);
        self.tcp_first_message_s = f.tcp_first_message_s.unwrap_or(self.tcp_first_message_s);
        if let Some(n) = f.tcp_max_connections_per_source {
            if *n.get_ref() == 0 {
                let problem = Problem::BelowOne { why: None };
                return Err(file.invalid(&n, "tcp_max_connections_per_source", problem));
            }
            self.tcp_max_connections_per_source = n.into_inner();
        }
        self.shutdown_grace_s = f.shutdown_grace_s.unwrap_or(self.shutdown_grace_s);
        self.tcp_message_deadline_ms = f
            .tcp_message_deadline_ms
            .unwrap_or(self.tcp_message_deadline_ms);
        self.tcp_output_max_kb = f.tcp_output_max_kb.unwrap_or(self.tcp_output_max_kb);
        if let Some(list) = f.md5_only_user_agents {
            self.md5_only_user_agents = list;
        }
        if let Some(tables) = f.queues {
            queues::apply_queue_files(&mut self.queues, tables, file)?;
        }
        if let Some(tables) = f.mailboxes {
            mailboxes::apply_mailbox_files(&mut self.mailbox_routes, tables, file)?;
        }
        if let Some(sms) = f.sms {
            mailboxes::apply_sms_file(&mut self.sms, sms, file)?;
        }
        if let Some(format) = f.log_format {
            self.log_format = LogFormat::parse(format.get_ref()).ok_or_else(|| {
                let given = format.get_ref().clone();
                file.invalid(&format, "log_format", Problem::UnknownLogFormat { given })
            })?;
        }
        if let Some(n) = f.auth_max_failures {
            if *n.get_ref() == 0 {
                let problem = Problem::BelowOne { why: None };
                return Err(file.invalid(&n, "auth_max_failures", problem));
            }
            self.lockout.max_failures = n.into_inner();
        }
        if let Some(seconds) = f.auth_lockout_s {
            // 0 turns the lockout off (a failure's lock ends at once); fail2ban may do the job.
            self.lockout.lockout_ms = seconds.saturating_mul(1000);
        }
        let limits = &mut self.source_limits;
        if let Some(n) = f.max_unconfirmed_per_source {
            if *n.get_ref() == 0 {
                let problem = Problem::BelowOne { why: None };
                return Err(file.invalid(&n, "max_unconfirmed_per_source", problem));
            }
            limits.max_unconfirmed = n.into_inner();
        }
        if let Some(percent) = f.max_port_share_per_source {
            if !(1..=100).contains(percent.get_ref()) {
                let problem = Problem::NotPercent;
                return Err(file.invalid(&percent, "max_port_share_per_source", problem));
            }
            limits.max_port_share_percent = percent.into_inner();
        }
        self.apply_flood_limits(
            &f.flood_rate_per_source,
            &f.flood_burst_per_source,
            &f.flood_strikes,
            f.flood_block_s,
            f.trusted_sources,
            file,
        )
    }

    fn apply_flood_limits(
        &mut self,
        rate: &Option<u32>,
        burst: &Option<Spanned<u32>>,
        strikes: &Option<Spanned<u32>>,
        block_s: Option<u64>,
        trusted: Option<Vec<Spanned<String>>>,
        file: &FileSource<'_>,
    ) -> Result<(), ConfigError> {
        let flood = &mut self.flood_limits;
        if let Some(rate) = rate {
            flood.rate_per_s = *rate;
        }
        for (value, key, field) in [
            (burst, "flood_burst_per_source", &mut flood.burst),
            (strikes, "flood_strikes", &mut flood.strikes),
        ] {
            if let Some(n) = value {
                if *n.get_ref() == 0 {
                    return Err(file.invalid(n, key, Problem::BelowOne { why: None }));
                }
                *field = *n.get_ref();
            }
        }
        if let Some(seconds) = block_s {
            flood.block = std::time::Duration::from_secs(seconds);
        }
        if let Some(list) = trusted {
            flood.trusted = list
                .iter()
                .map(|entry| {
                    entry.get_ref().trim().parse().map_err(|_| {
                        let given = entry.get_ref().clone();
                        file.invalid(entry, "trusted_sources", Problem::IpAddress { given })
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }

    fn apply_flags(&mut self, o: &Overrides) -> Result<(), ConfigError> {
        if let Some(cert) = &o.tls_cert {
            self.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &o.tls_key {
            self.tls_key = Some(key.clone());
        }
        if let Some(v) = &o.rtp_ports {
            self.rtp_ports = parse_port_range(v).map_err(|e| ConfigError::Invalid {
                at: Origin::Flag("--rtp-ports"),
                queue: None,
                key: "rtp_ports",
                problem: Problem::PortRange(e),
            })?;
        }
        self.sip = o.sip.unwrap_or(self.sip);
        self.http = o.http.unwrap_or(self.http);
        if let Some(d) = &o.data {
            self.data = d.clone();
        }
        self.demo |= o.demo;
        self.answer_delay_ms = o.answer_delay_ms.unwrap_or(self.answer_delay_ms);
        self.extra_lines.extend(o.extra_lines.iter().cloned());
        if let Some(p) = &o.prompts {
            self.prompts = p.clone();
        }
        if let Some(f) = &o.flows {
            self.flows = f.clone();
        }
        if let Some((origin, text)) = &o.log_format {
            self.log_format = LogFormat::parse(text).ok_or_else(|| ConfigError::Invalid {
                at: origin.clone(),
                queue: None,
                key: "log_format",
                problem: Problem::UnknownLogFormat {
                    given: text.clone(),
                },
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_needs_both_the_certificate_and_its_key() {
        let flags = |cert: Option<&str>, key: Option<&str>| Overrides {
            tls_cert: cert.map(PathBuf::from),
            tls_key: key.map(PathBuf::from),
            ..Overrides::default()
        };
        let both = Config::load(None, &flags(Some("c.pem"), Some("k.pem")))
            .map_err(|e| e.to_string())
            .map(|c| c.tls());
        assert_eq!(
            both,
            Ok(Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            }))
        );
        assert_eq!(
            Config::load(None, &flags(None, None)).map(|c| c.tls()).ok(),
            Some(None)
        );
        let Err(half) = Config::load(None, &flags(Some("c.pem"), None)) else {
            panic!("a certificate without its key was accepted");
        };
        let text = half.to_string();
        assert!(text.contains("--tls-cert"), "{text}");
        assert!(text.contains("without tls_key"), "{text}");
        let Err(half) = Config::load(None, &flags(None, Some("k.pem"))) else {
            panic!("a key without its certificate was accepted");
        };
        assert!(half.to_string().contains("without tls_cert"), "{half}");
    }

    #[test]
    fn source_limits_are_read_and_checked() {
        let parse = |text: &str| {
            let file: FileConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            let mut config = Config::default();
            config
                .apply_file(file, &test_source(text))
                .map(|()| config.source_limits)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse(""), Ok(crate::engine::SourceLimits::default()));
        let limits = parse("max_unconfirmed_per_source = 7\nmax_port_share_per_source = 100");
        assert_eq!(
            limits,
            Ok(crate::engine::SourceLimits {
                max_unconfirmed: 7,
                max_port_share_percent: 100
            })
        );
        assert!(parse("max_port_share_per_source = 0").is_err());
        assert!(parse("max_port_share_per_source = 101").is_err());
        assert!(parse("max_unconfirmed_per_source = 0").is_err());
    }

    #[test]
    fn flood_limits_are_read_and_checked() {
        let parse = |text: &str| {
            let file: FileConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            let mut config = Config::default();
            config
                .apply_file(file, &test_source(text))
                .map(|()| config.flood_limits)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse(""), Ok(crate::engine::FloodLimits::default()));
        let limits = parse(
            "flood_rate_per_source = 5\nflood_burst_per_source = 9\nflood_strikes = 3\n\
             flood_block_s = 7\ntrusted_sources = [\"192.0.2.1\", \"2001:db8::1\"]",
        );
        assert_eq!(
            limits,
            Ok(crate::engine::FloodLimits {
                rate_per_s: 5,
                burst: 9,
                strikes: 3,
                block: std::time::Duration::from_secs(7),
                trusted: vec![
                    "192.0.2.1".parse().expect("address"),
                    "2001:db8::1".parse().expect("address")
                ],
            })
        );
        assert!(parse("flood_burst_per_source = 0").is_err());
        assert!(parse("flood_strikes = 0").is_err());
        let error = parse("trusted_sources = [\"the proxy\"]").expect_err("not an address");
        assert!(
            error.contains("trusted_sources") && error.contains("not an IP address"),
            "{error}"
        );
        // An empty list trusts nobody, loopback included.
        assert_eq!(
            parse("trusted_sources = []").map(|l| l.trusted.len()),
            Ok(0)
        );
    }

    #[test]
    fn port_ranges_are_checked() {
        assert_eq!(parse_port_range("20000-29999"), Ok((20000, 29999)));
        assert!(parse_port_range("30000-20000").is_err());
        assert!(parse_port_range("0-10").is_err());
        assert!(parse_port_range("abc").is_err());
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("pasokh-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("pasokh.toml");
        let written = std::fs::write(
            &path,
            "sip = \"127.0.0.1:5070\"\nhttp = \"127.0.0.1:9090\"\nrtp_ports = \"30000-30100\"\n",
        );
        assert!(written.is_ok());
        let flags = Overrides {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 9999))),
            ..Overrides::default()
        };
        let config = Config::load(Some(&path), &flags);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        assert_eq!(config.sip.port(), 5070);
        assert_eq!(config.http.port(), 9999);
        assert_eq!(config.rtp_ports, (30000, 30100));
        assert_eq!(config.data, PathBuf::from("./data"));
    }

    fn test_source(text: &str) -> FileSource<'_> {
        FileSource {
            path: Path::new("pasokh.toml"),
            text,
        }
    }

    fn from_toml(text: &str) -> Result<Config, String> {
        let parsed: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut config = Config::default();
        config
            .apply_file(parsed, &test_source(text))
            .map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn queue_tables_tune_the_standard_queues_and_add_others() {
        let text = "[queues.1888]\nstrategy = \"ring-all\"\nwrap_up_s = 30\nrecord = true\n\
                    [queues.complaints]\nmax_wait_s = 120\n";
        let config = from_toml(text);
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        let names: Vec<&str> = config.queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["137", "1888", "zoning", "complaints"]);
        let q1888 = &config.queues[1];
        assert_eq!(q1888.strategy, crate::acd::Strategy::RingAll);
        assert_eq!(q1888.wrap_up.as_secs(), 30);
        assert!(q1888.record);
        assert_eq!(
            q1888.ring_timeout.as_secs(),
            15,
            "untouched keys keep their defaults"
        );
        assert!(!config.queues[0].record);
        assert_eq!(config.queues[3].max_wait.as_secs(), 120);
    }

    #[test]
    fn bad_queue_settings_are_errors_naming_the_queue() {
        let bad = [
            ("[queues.137]\nstrategy = \"random\"\n", "strategy"),
            ("[queues.137]\nmax_wait_s = 0\n", "max_wait_s"),
            ("[queues.137]\nring_timeout_s = 0\n", "ring_timeout_s"),
            ("[queues.137]\nwrapup = 3\n", "wrapup"),
        ];
        for (text, word) in bad {
            let error = from_toml(text).err().unwrap_or_default();
            assert!(error.contains(word), "{text}: {error}");
        }
    }

    #[test]
    fn tcp_limits_are_toml_keys() -> Result<(), String> {
        let defaults = Config::default();
        assert_eq!(
            (defaults.tcp_message_deadline_ms, defaults.tcp_output_max_kb),
            (5000, 1024)
        );
        let config = from_toml("tcp_message_deadline_ms = 250\ntcp_output_max_kb = 64\n")?;
        assert_eq!(
            (config.tcp_message_deadline_ms, config.tcp_output_max_kb),
            (250, 64)
        );
        Ok(())
    }

    #[test]
    fn value_errors_name_the_file_line_and_key() {
        let cases = [
            (
                "sip = \"127.0.0.1:5070\"\n\n[queues.1888]\nwrap_up_s = 3\nmax_wait_s = 0\n",
                "config pasokh.toml:5: queue \"1888\": max_wait_s must be at least 1: nobody \
                 waits forever",
            ),
            (
                "realm = \"x\"\nrtp_ports = \"30000-20000\"\n",
                "config pasokh.toml:2: port range \"30000-20000\" must be LOW-HIGH with \
                 0 < LOW < HIGH",
            ),
            (
                "\nmax_port_share_per_source = 0\n",
                "config pasokh.toml:2: max_port_share_per_source is a percent, 1 to 100",
            ),
            (
                "[queues.137]\nstrategy = \"random\"\n",
                "config pasokh.toml:2: queue \"137\": strategy \"random\" is not one of \
                 longest-idle, ring-all, round-robin, fewest-calls",
            ),
            (
                "[queues.\"\"]\nrecord = true\n",
                "config pasokh.toml:1: queue name \"\" must be 1 to 32 characters",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(from_toml(text).err().as_deref(), Some(expected), "{text}");
        }
    }

    #[test]
    fn load_errors_say_where_to_look() {
        let flags = Overrides {
            rtp_ports: Some("5-1".into()),
            ..Overrides::default()
        };
        let error = Config::load(None, &flags).err();
        assert!(
            matches!(
                &error,
                Some(ConfigError::Invalid {
                    at: Origin::Flag("--rtp-ports"),
                    key: "rtp_ports",
                    ..
                })
            ),
            "{error:?}"
        );
        let text = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            text,
            "--rtp-ports: port range \"5-1\" must be LOW-HIGH with 0 < LOW < HIGH"
        );

        let dir = std::env::temp_dir().join(format!("pasokh-config-err-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let missing = dir.join("absent.toml");
        let error = Config::load(Some(&missing), &Overrides::default()).err();
        assert!(
            matches!(&error, Some(ConfigError::Read { path, .. }) if *path == missing),
            "{error:?}"
        );
        let path = dir.join("pasokh.toml");
        let written = std::fs::write(&path, "sip = \"127.0.0.1:5070\"\n\nsipp = 1\n");
        assert!(written.is_ok());
        let error = Config::load(Some(&path), &Overrides::default()).err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(&error, Some(ConfigError::Syntax { line: Some(3), .. })),
            "{error:?}"
        );
        let text = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.starts_with(&format!("config {}: ", path.display())) && text.contains("sipp"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_are_an_error_not_ignored() {
        let parsed: Result<FileConfig, _> = toml::from_str("sipp = \"x\"");
        assert!(parsed.is_err());
    }
}
