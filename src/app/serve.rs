//! `pasokh serve`: opens the store, loads prompts, binds the SIP sockets, starts the media workers,
//! the web server and the engine loop, and stops them cleanly on Ctrl-C / SIGTERM (pending call
//! records are flushed before exit).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

use super::error::CliError;
use crate::config::Config;
use crate::drivers::media::{load_prompts, sweep_recordings, MediaConfig, MediaRuntime};
use crate::drivers::sip_loop::{EngineLoop, LoopMsg, Sinks};
use crate::engine::{Engine, EngineConfig, Input};
use crate::sip::txn::TimerConfig;
use crate::store::{CallWriter, Store};

pub fn run(config: Config) -> Result<(), CliError> {
    super::logging::init(config.log_format);
    raise_open_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(serve(config))
}

/// Each call holds an RTP socket: thousands of calls need more than the usual 1,024 descriptors.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max.min(1 << 20);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A UDP socket with large kernel buffers, so bursts of thousands of calls a second are not lost.
fn bind_udp(addr: std::net::SocketAddr) -> Result<UdpSocket, CliError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .map_err(CliError::UdpSocket)?;
    let _ = socket.set_recv_buffer_size(8 << 20);
    let _ = socket.set_send_buffer_size(8 << 20);
    socket.bind(&addr.into()).map_err(|source| CliError::Bind {
        what: "SIP UDP",
        addr,
        source,
    })?;
    socket.set_nonblocking(true).map_err(CliError::UdpSocket)?;
    UdpSocket::from_std(socket.into()).map_err(CliError::UdpSocket)
}

async fn serve(config: Config) -> Result<(), CliError> {
    let start = Instant::now();
    tracing::info!(version = %env!("CARGO_PKG_VERSION"), "pasokh starting");
    // Before anything is written to the folder: a second engine stops here, untouched.
    let _data_lock = super::data_lock::lock_data_folder(&config.data)?;
    let epoch_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let store = Store::open(&config.data).await?;
    match store.close_interrupted_calls(epoch_unix_ms).await {
        Ok(0) => {}
        Ok(closed) => tracing::warn!(
            calls = closed,
            "call records left in progress by a crash closed as interrupted"
        ),
        Err(error) => tracing::error!(%error, "interrupted call records not closed"),
    }
    let prompts = Arc::new(load_prompts(&config.prompts)?);
    super::flows::check_engine_prompts(&config)?;
    let flows = Arc::new(super::flows::load_flow_set(&config)?);
    let recordings = config.data.join("recordings");
    super::recovery::file_repaired(&store, sweep_recordings(&recordings)).await;
    super::recovery::file_orphans(&store, &recordings).await;
    let writer = CallWriter::spawn(store.clone());

    let udp = Arc::new(bind_udp(config.sip)?);
    let tcp = TcpListener::bind(config.sip)
        .await
        .map_err(|source| CliError::Bind {
            what: "SIP TCP",
            addr: config.sip,
            source,
        })?;
    let listener = TcpListener::bind(config.http)
        .await
        .map_err(|source| CliError::Bind {
            what: "HTTP",
            addr: config.http,
            source,
        })?;
    // Read now, so a wrong file stops the start instead of leaving the pages in plain HTTP.
    let tls = match config.tls() {
        Some(files) => {
            Some(crate::web::tls::acceptor(&files.cert, &files.key).map_err(CliError::Tls)?)
        }
        None => None,
    };
    // Every address is ours now: only a start that will succeed seeds the demo's data.
    if config.demo {
        super::demo::seed(&store, &config).await?;
    }
    let (to_loop, inbox) = mpsc::unbounded_channel::<LoopMsg>();

    let media_events = to_loop.clone();
    let media = MediaRuntime::start(
        MediaConfig {
            workers: config.media_workers,
            bind_ip: config.sip.ip(),
            recordings_dir: recordings,
            prompts,
            inactivity: Duration::from_secs(config.rtp_inactivity_s),
            seed: os_random_seed(),
        },
        move |event| {
            let _ = media_events.send(LoopMsg::Engine(Input::Media(event)));
        },
    )
    .map_err(CliError::MediaWorkers)?;

    let engine = Engine::new(EngineConfig {
        sip_addr: config.sip,
        media_ip: config.sip.ip(),
        rtp_ports: config.rtp_ports,
        realm: config.realm.clone(),
        seed: os_random_seed(),
        epoch_unix_ms,
        timers: TimerConfig::default(),
        answer_delay: Duration::from_millis(config.answer_delay_ms),
        extra_lines: config.extra_lines.clone(),
        md5_only_user_agents: config.md5_only_user_agents.clone(),
        queues: config.queues.clone(),
        source_limits: config.source_limits,
        flood_limits: config.flood_limits.clone(),
        lockout: config.lockout,
    })
    .with_flows(flows);
    tokio::spawn(super::agents_sync::run(store.clone(), to_loop.clone()));
    tokio::spawn(crate::drivers::sms::run(store.clone(), config.sms.clone()));
    let tcp_stats = Arc::new(crate::drivers::sip_tcp::TcpStats::default());
    let tcp_limits = crate::drivers::sip_tcp::TcpLimits {
        idle: Duration::from_secs(config.tcp_idle_s),
        first_message: Duration::from_secs(config.tcp_first_message_s),
        max_per_source: config.tcp_max_connections_per_source,
        trusted: Arc::from(config.flood_limits.trusted.clone()),
        message_deadline: Duration::from_millis(config.tcp_message_deadline_ms),
        output_bytes: usize::try_from(config.tcp_output_max_kb.saturating_mul(1024))
            .unwrap_or(usize::MAX),
    };
    tokio::spawn(crate::drivers::sip_tcp::accept_loop(
        tcp,
        to_loop.clone(),
        tcp_limits,
        tcp_stats.clone(),
    ));

    let metrics = Arc::new(Mutex::new(String::new()));
    let media_stats = media.stats();
    let web_metrics = metrics.clone();
    // Live statistics for the wallboard: the engine driver publishes snapshots into this channel
    // (keep the sender alive while serving) and carries out agent requests from the closure.
    let (live_snapshots, live_receiver) =
        tokio::sync::watch::channel(Arc::new(crate::engine::live::LiveSnapshot::default()));
    let actions_to_loop = to_loop.clone();
    let known_agents = live_receiver.clone();
    let agent_actions: crate::web::AgentActions = Arc::new(move |agent, action| {
        // Unknown agents are refused here (the snapshot lists every configured agent); the
        // engine applies the rest through the ACD, which refuses what the state does not allow.
        let known = known_agents.borrow().agents.iter().any(|a| a.id == agent);
        known
            && actions_to_loop
                .send(LoopMsg::Engine(Input::AgentAction { agent, action }))
                .is_ok()
    });
    // Browser phones: the agent page's WebSocket task sends its requests to the loop; the loop
    // hands the engine's events to the page through the hub.
    let phone_hub = crate::web::phone::PhoneHub::default();
    let phone_inputs = to_loop.clone();
    let phones = crate::web::phone::PhoneLink {
        hub: phone_hub.clone(),
        engine: Arc::new(move |input| phone_inputs.send(LoopMsg::Engine(input)).is_ok()),
        realm: config.realm.clone(),
    };
    let metrics_hub = phone_hub.clone();
    let web_state = crate::web::WebState {
        phones,
        live: crate::web::LiveFeed::new(live_receiver, agent_actions),
        store: store.clone(),
        metrics: Arc::new(move || {
            let engine = web_metrics.lock().map(|m| m.clone()).unwrap_or_default();
            let phones = format!(
                "# HELP pasokh_browser_phones_open Agent pages with their browser phone open.\n\
                 # TYPE pasokh_browser_phones_open gauge\n\
                 pasokh_browser_phones_open {}\n",
                metrics_hub.open_phones()
            );
            engine + &media_stats.render() + &tcp_stats.render() + &phones
        }),
        recordings_dir: config.data.join("recordings"),
        // The demo's managers 501-503 get the demo's suggestions unless the file names others.
        mailbox_routes: Arc::new(if config.demo && config.mailbox_routes.lines.is_empty() {
            crate::config::MailboxRoutes::demo()
        } else {
            config.mailbox_routes.clone()
        }),
        sign_in_limiter: crate::web::SignInLimiter::default(),
    };
    tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        if let Err(error) = crate::web::serve_on(listener, web_state, tls, forever).await {
            tracing::error!(%error, "web server stopped");
        }
    });

    let (store_commands, store_done) =
        crate::drivers::store_driver::spawn(store.clone(), writer.clone(), to_loop.clone());
    let sinks = Sinks {
        media: Box::new(move |command| media.command(command)),
        store: Box::new(move |batch| {
            let _ = store_commands.send(batch);
        }),
        phones: Box::new(move |phone, event| phone_hub.deliver(phone, event)),
    };
    tracing::info!(
        sip = %config.sip,
        http = %config.http,
        data = %config.data.display(),
        prompts = %config.prompts.display(),
        flows = %config.flows.display(),
        "{}",
        running_line(&config)
    );
    let engine_loop =
        EngineLoop::new(engine, udp, inbox, sinks, start, metrics).with_live(live_snapshots);
    let grace = Duration::from_secs(config.shutdown_grace_s);
    engine_loop.run_until(shutdown_signal(), grace).await;
    // The loop (and with it the store sink) is gone: wait for the filer to commit what it holds,
    // then for the call records, so every call is closed and every message filed before exit.
    if tokio::time::timeout(STORE_DRAIN_LIMIT, store_done)
        .await
        .is_err()
    {
        tracing::error!("the store did not finish the last filings in time");
    }
    writer.flush().await;
    store.close().await;
    tracing::info!(uptime_s = start.elapsed().as_secs(), "pasokh stopped");
    Ok(())
}

/// The start-up line's sentence: where to look first, and how to get in.
fn running_line(config: &Config) -> String {
    let data = config.data.display();
    let config_flag = if config.data == Config::default().data {
        String::new()
    } else {
        format!(" --data {data}")
    };
    let scheme = if config.tls().is_some() {
        "https"
    } else {
        "http"
    };
    format!(
        "pasokh is running: wallboard at {scheme}://{}/ (sign in with a token from \
         `pasokh token create --role supervisor{config_flag}`)",
        config.http
    )
}

/// How long shutdown waits for the last filings to commit (a stuck disk must not hang the exit
/// forever; what is not committed was never acknowledged to anyone).
const STORE_DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Seeds for the engine (RTP ports, tags, nonces) and the media workers (SSRCs, sequence
/// numbers) from the OS: a seed from the start time would let anyone who knows roughly when the
/// engine started predict them. Tests seed `EngineConfig` themselves.
fn os_random_seed() -> u64 {
    use rand::RngCore;
    rand::rngs::OsRng.next_u64()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("stop requested");
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
