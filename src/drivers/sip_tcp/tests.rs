//! The connection driver against real sockets on 127.0.0.1; the test plays the engine's loop.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const REQUEST: &[u8] = b"OPTIONS sip:137@127.0.0.1 SIP/2.0\r\nl: 0\r\n\r\n";

struct Harness {
    addr: SocketAddr,
    inbox: mpsc::UnboundedReceiver<LoopMsg>,
    stats: Arc<TcpStats>,
}

async fn start(limits: TcpLimits) -> Result<Harness, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (to_loop, inbox) = mpsc::unbounded_channel();
    let stats = Arc::new(TcpStats::default());
    tokio::spawn(accept_loop(listener, to_loop, limits, stats.clone()));
    Ok(Harness { addr, inbox, stats })
}

impl Harness {
    async fn next(&mut self) -> Result<LoopMsg, Box<dyn std::error::Error>> {
        let message = timeout(Duration::from_secs(20), self.inbox.recv()).await?;
        message.ok_or_else(|| "the accept loop stopped".into())
    }

    async fn opened(&mut self) -> Result<TcpOutput, Box<dyn std::error::Error>> {
        match self.next().await? {
            LoopMsg::TcpOpened(_, output) => Ok(output),
            other => Err(format!("expected TcpOpened, got {other:?}").into()),
        }
    }
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_its_queue_stays_bounded() -> TestResult {
    let limits = TcpLimits {
        output_bytes: 64 * 1024,
        ..TcpLimits::default()
    };
    let mut harness = start(limits.clone()).await?;
    let client = TcpStream::connect(harness.addr).await?;
    let (mut client_reader, mut client_writer) = client.into_split();
    // Pipelines requests and never reads the answers.
    let flood = tokio::spawn(async move {
        for _ in 0..100_000 {
            if client_writer.write_all(REQUEST).await.is_err() {
                break;
            }
        }
    });
    let output = harness.opened().await?;
    let answer = vec![b'x'; 16 * 1024];
    let (mut most_queued, mut requests) = (0, 0);
    loop {
        match harness.next().await? {
            LoopMsg::Engine(Input::Sip { .. }) => {
                requests += 1;
                output.handled();
                let _ = output.send(answer.clone());
                most_queued = most_queued.max(output.queued_bytes());
            }
            LoopMsg::TcpClosed(_) => break,
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    assert!(
        most_queued <= limits.output_bytes,
        "queued {most_queued} bytes"
    );
    assert!(requests > 4, "closed after only {requests} requests");
    assert_eq!(harness.stats.closed_for(CloseReason::NotReading), 1);
    assert!(harness
        .stats
        .render()
        .contains("pasokh_sip_tcp_closed_total{reason=\"not_reading\"} 1\n"));
    assert!(
        output.is_closed(),
        "the closed connection's queue is still held"
    );
    assert_eq!(output.send(answer), Err(Refused::Full));
    let mut sink = vec![0u8; 64 * 1024];
    let drained = timeout(Duration::from_secs(10), async {
        while matches!(client_reader.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    assert!(
        drained.await.is_ok(),
        "the client's connection was not closed"
    );
    flood.abort();
    Ok(())
}

#[tokio::test]
async fn a_header_dribbled_past_its_deadline_closes_the_connection() -> TestResult {
    let limits = TcpLimits {
        message_deadline: Duration::from_millis(300),
        ..TcpLimits::default()
    };
    let mut harness = start(limits.clone()).await?;
    let mut client = TcpStream::connect(harness.addr).await?;
    client.set_nodelay(true)?;
    let _output = harness.opened().await?;
    let (mut reader, mut writer) = client.split();
    let dribble = async {
        // One byte every 20 ms: the idle timer never fires, the header never ends.
        for byte in b"OPTIONS sip:137@127.0.0.1 SIP/2.0\r\nVia: ".iter().cycle() {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let closed_after = tokio::select! {
        closed = wait_closed_by_engine(&mut reader, Duration::from_secs(10)) => closed?,
        () = dribble => return Err("the client could write forever".into()),
    };
    assert!(
        closed_after >= Duration::from_millis(250),
        "closed after {closed_after:?}"
    );
    assert!(
        closed_after < Duration::from_secs(5),
        "closed after {closed_after:?}"
    );
    assert!(matches!(harness.next().await?, LoopMsg::TcpClosed(_)));
    assert_eq!(harness.stats.closed_for(CloseReason::SlowMessage), 1);
    Ok(())
}

#[tokio::test]
async fn the_deadline_is_per_message() -> TestResult {
    let limits = TcpLimits {
        message_deadline: Duration::from_millis(1500),
        ..TcpLimits::default()
    };
    let mut harness = start(limits.clone()).await?;
    let mut client = TcpStream::connect(harness.addr).await?;
    client.set_nodelay(true)?;
    let _output = harness.opened().await?;
    // Three messages, each dribbled over about 600 ms: 1.8 s in all, each within its deadline.
    let pause = Duration::from_millis(600) / REQUEST.len() as u32;
    for _ in 0..3 {
        for byte in REQUEST {
            client.write_all(&[*byte]).await?;
            tokio::time::sleep(pause).await;
        }
    }
    for _ in 0..3 {
        let message = harness.next().await?;
        assert!(
            matches!(&message, LoopMsg::Engine(Input::Sip { bytes, .. }) if bytes == REQUEST),
            "got {message:?}"
        );
    }
    assert_eq!(harness.stats.closed_for(CloseReason::SlowMessage), 0);
    Ok(())
}

/// Reads (and discards) until the engine's side is closed; how long that took.
async fn wait_closed_by_engine(
    reader: &mut tokio::net::tcp::ReadHalf<'_>,
    within: Duration,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut sink = [0u8; 1024];
    loop {
        match timeout(within, reader.read(&mut sink)).await? {
            Ok(0) | Err(_) => return Ok(start.elapsed()),
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn a_connection_hands_the_engine_only_a_few_messages_ahead() -> TestResult {
    let mut harness = start(TcpLimits::default()).await?;
    let mut client = TcpStream::connect(harness.addr).await?;
    let output = harness.opened().await?;
    client.write_all(&REQUEST.repeat(3 * IN_FLIGHT)).await?;
    let mut received = 0;
    // The engine handles nothing: the connection stops after IN_FLIGHT messages.
    while let Ok(Some(message)) = timeout(Duration::from_millis(300), harness.inbox.recv()).await {
        assert!(
            matches!(message, LoopMsg::Engine(Input::Sip { .. })),
            "got {message:?}"
        );
        received += 1;
    }
    assert_eq!(received, IN_FLIGHT);
    // Each message handled lets one more through.
    for _ in 0..2 * IN_FLIGHT {
        output.handled();
        assert!(matches!(
            harness.next().await?,
            LoopMsg::Engine(Input::Sip { .. })
        ));
    }
    Ok(())
}

#[tokio::test]
async fn a_header_dribbled_one_byte_per_segment_costs_few_reads() -> TestResult {
    let harness = start(TcpLimits::default()).await?;
    let addr = harness.addr;
    let mut message = b"OPTIONS sip:137@127.0.0.1 SIP/2.0\r\n".to_vec();
    while message.len() < 2000 {
        message.extend_from_slice(b"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdribble\r\n");
    }
    message.extend_from_slice(b"l: 0\r\n\r\n");
    let bytes = message.len();
    // A plain thread, to pace the bytes finer than the runtime's 1 ms timer.
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        let mut client = std::net::TcpStream::connect(addr)?;
        client.set_nodelay(true)?;
        for byte in &message {
            std::io::Write::write_all(&mut client, &[*byte])?;
            std::thread::sleep(Duration::from_micros(100));
        }
        std::thread::sleep(Duration::from_millis(200));
        Ok(())
    });
    let mut harness = harness;
    let output = harness.opened().await?;
    let delivered = harness.next().await?;
    assert!(
        matches!(delivered, LoopMsg::Engine(Input::Sip { .. })),
        "got {delivered:?}"
    );
    output.handled();
    let reads = harness.stats.reads();
    let _ = tokio::task::spawn_blocking(move || sender.join()).await;
    assert!(reads < bytes as u64 / 5, "{reads} reads for {bytes} bytes");
    Ok(())
}

/// Loopback held to the limits like any other source.
fn untrusted(limits: TcpLimits) -> TcpLimits {
    TcpLimits {
        trusted: Arc::from(Vec::<std::net::IpAddr>::new()),
        ..limits
    }
}

#[tokio::test]
async fn one_source_holds_only_so_many_connections() -> TestResult {
    let limits = untrusted(TcpLimits {
        max_per_source: 3,
        ..TcpLimits::default()
    });
    let mut harness = start(limits.clone()).await?;
    let mut kept = Vec::new();
    for _ in 0..3 {
        kept.push(TcpStream::connect(harness.addr).await?);
        harness.opened().await?;
    }
    // The fourth is closed at once: its first read sees the end of the stream.
    let mut fourth = TcpStream::connect(harness.addr).await?;
    let mut buf = [0u8; 16];
    let n = timeout(Duration::from_secs(5), fourth.read(&mut buf)).await??;
    assert_eq!(n, 0, "the connection over the limit is closed");
    assert_eq!(harness.stats.closed_for(CloseReason::TooManyFromSource), 1);
    // One closes: its place is given back (the engine hears of it first).
    drop(kept.pop());
    assert!(matches!(harness.next().await?, LoopMsg::TcpClosed(_)));
    let mut again = TcpStream::connect(harness.addr).await?;
    harness.opened().await?;
    again.write_all(REQUEST).await?;
    assert!(matches!(harness.next().await?, LoopMsg::Engine(_)));
    Ok(())
}

#[tokio::test]
async fn a_trusted_source_is_not_capped() -> TestResult {
    let limits = TcpLimits {
        max_per_source: 2,
        ..TcpLimits::default()
    };
    let mut harness = start(limits.clone()).await?;
    let mut kept = Vec::new();
    for _ in 0..5 {
        kept.push(TcpStream::connect(harness.addr).await?);
        harness.opened().await?;
    }
    assert_eq!(harness.stats.closed_for(CloseReason::TooManyFromSource), 0);
    Ok(())
}

#[tokio::test]
async fn a_connection_that_says_nothing_is_closed_sooner_than_an_idle_one() -> TestResult {
    let limits = TcpLimits {
        first_message: Duration::from_millis(300),
        idle: Duration::from_secs(60),
        ..TcpLimits::default()
    };
    let mut harness = start(limits.clone()).await?;
    let mut silent = TcpStream::connect(harness.addr).await?;
    harness.opened().await?;
    let mut talking = TcpStream::connect(harness.addr).await?;
    harness.opened().await?;
    talking.write_all(REQUEST).await?;
    assert!(matches!(harness.next().await?, LoopMsg::Engine(_)));
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = timeout(Duration::from_secs(5), silent.read(&mut buf)).await??;
    assert_eq!(n, 0, "closed");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The close is counted before the engine hears of it.
    assert!(matches!(harness.next().await?, LoopMsg::TcpClosed(_)));
    assert_eq!(harness.stats.closed_for(CloseReason::Silent), 1);
    // The one that spoke is held to the ordinary idle time, so it is still open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    talking.write_all(REQUEST).await?;
    assert!(matches!(harness.next().await?, LoopMsg::Engine(_)));
    Ok(())
}
