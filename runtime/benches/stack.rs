//! The full request path against bare reqwest, on the same local server in
//! the same process: `cargo bench -p wharf-runtime --bench stack`.
//!
//! Four paths in interleaved rounds: bare reqwest (the baseline); the
//! peer stack, what a Rust engineer would otherwise assemble from popular
//! crates (`reqwest-middleware` with `reqwest-retry` and `reqwest-tracing`,
//! a concurrency limit, attempt and total timeouts, configured like
//! wharf's; see `Paths::peer`); a "floor", bare reqwest plus the least code
//! the stack's required features take, inline (see `Paths::floor`); and
//! wharf's stack. Prints throughput and client CPU per call of each and
//! their ratios to bare (goals: wharf ahead of the peer, stack/bare >=
//! 0.93x with one caller, <= 2.5 us of client CPU per call over bare), for
//! one caller making its calls in sequence (latency-bound) and for 16
//! callers in flight at once. With
//! valgrind installed and `WHARF_CALLGRIND=1`, also runs each path under
//! callgrind and prints instruction counts per call (repeatable whatever
//! the machine is doing).

use bytes::Bytes;
use http::Method;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf_runtime::call::{
    CallOptions, Integration, IntegrationConfig, OperationMeta, Request, ReqwestTransport,
};
use wharf_runtime::policy::bulkhead::BulkheadConfig;

/// Starts the server on its own thread and runtime, so its work is not
/// charged to the client being measured.
fn serve() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let _ = tx.send(listener.local_addr().unwrap());
            accept(listener).await;
        });
    });
    rx.recv().unwrap()
}

async fn accept(listener: tokio::net::TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let service = service_fn(|_req| async {
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                    b"{\"id\":1,\"name\":\"wharf\"}",
                ))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// CPU time of the calling thread (the client). From the clock, not
/// `/proc/thread-self/schedstat`: that is only brought up to date when the
/// thread blocks or a scheduler tick (4 ms here) comes, so a thread kept
/// busy by many callers read it in whole ticks.
fn cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call's duration.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0;
    if failed {
        return None;
    }
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

struct Paths {
    floor: Floor,
    transport: ReqwestTransport,
    bare: reqwest::Client,
    peer: reqwest_middleware::ClientWithMiddleware,
    peer_limit: tokio::sync::Semaphore,
    stack: Integration,
    url: String,
}

impl Paths {
    async fn new() -> Paths {
        let addr = serve();
        let transport = ReqwestTransport::builder()
            .allow_plain_http_loopback(true)
            .build()
            .unwrap();
        let stack = Integration::builder("bench")
            .config(IntegrationConfig {
                bulkhead: Some(BulkheadConfig {
                    max_concurrent: 64,
                    max_queued: 1024,
                }),
                ..Default::default()
            })
            .transport(Arc::new(transport))
            .build()
            .unwrap();
        let direct = ReqwestTransport::builder()
            .allow_plain_http_loopback(true)
            .build()
            .unwrap();
        // The peer, configured like the stack: 3 attempts with exponential
        // backoff for transient errors, a 10 s attempt timeout, a span per
        // request, and (in `peer`) 64 calls at once and a 30 s deadline.
        let retries =
            reqwest_retry::policies::ExponentialBackoff::builder().build_with_max_retries(2);
        let peer = reqwest_middleware::ClientBuilder::new(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        )
        .with(reqwest_tracing::TracingMiddleware::default())
        .with(reqwest_retry::RetryTransientMiddleware::new_with_policy(
            retries,
        ))
        .build();
        Paths {
            floor: Floor::new(),
            transport: direct,
            bare: reqwest::Client::builder().build().unwrap(),
            peer,
            peer_limit: tokio::sync::Semaphore::new(64),
            stack,
            url: format!("http://{addr}/item"),
        }
    }

    async fn bare(&self, n: usize) {
        for _ in 0..n {
            let r = self.bare.get(&self.url).send().await.unwrap();
            assert!(r.status().is_success());
            std::hint::black_box(r.bytes().await.unwrap());
        }
    }

    /// The peer stack: a slot of the concurrency limit, a correlation id
    /// (OS random, as wharf's), the middleware client (tracing span, retry
    /// policy, attempt timeout), all inside the total deadline.
    async fn peer(&self, n: usize) {
        for _ in 0..n {
            let _slot = self.peer_limit.acquire().await.unwrap();
            let id = uuid::Uuid::new_v4().simple().to_string();
            let body = tokio::time::timeout(Duration::from_secs(30), async {
                let r = self
                    .peer
                    .get(&self.url)
                    .header("x-correlation-id", id)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                r.bytes().await.unwrap()
            })
            .await
            .unwrap();
            std::hint::black_box(body);
        }
    }

    /// Bare reqwest plus the least code the stack's required features take
    /// per call, written inline with nothing between them: the same
    /// bulkhead, breaker and retry budget types, a correlation id sent as a
    /// header, a deadline and an attempt timeout, a span per call and per
    /// attempt, the outcome classified, latency and outcome metrics, on a
    /// client whose own retries are off (as the transport's). No retry
    /// loop, options, error values or per-operation configuration: a bound
    /// no implementation of those features can beat by much.
    async fn floor(&self, n: usize) {
        use tracing::Instrument;
        let f = &self.floor;
        for _ in 0..n {
            let started = tokio::time::Instant::now();
            let deadline = started + Duration::from_secs(30);
            let id = f.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = hex_id(u128::from(id.wrapping_mul(0x9E37_79B9_7F4A_7C15)) << 64 | 1);
            let call_span =
                tracing::info_span!("floor.call", integration = "bench", correlation_id = ?id);
            let body = async {
                let slot = f.bulkhead.try_enter().unwrap();
                let permit = f.breaker.admit(started).unwrap();
                let now = tokio::time::Instant::now();
                assert!(deadline > now);
                let attempt = (deadline - now).min(Duration::from_secs(10));
                let send = f
                    .client
                    .get(&self.url)
                    .header(
                        http::HeaderName::from_static("x-correlation-id"),
                        http::HeaderValue::from_maybe_shared(Bytes::from_owner(id)).unwrap(),
                    )
                    .send();
                let (status, body) = tokio::time::timeout(attempt, async {
                    let r = send.await.unwrap();
                    (r.status(), r.bytes().await.unwrap())
                })
                .instrument(tracing::debug_span!("floor.attempt", attempt = 1))
                .await
                .unwrap();
                let after = tokio::time::Instant::now();
                let failed = !status.is_success();
                permit.record(failed, after);
                f.budget.earn();
                drop(slot);
                f.latency.record((after - started).as_secs_f64());
                f.calls[usize::from(failed)].increment(1);
                body
            };
            std::hint::black_box(body.instrument(call_span).await);
        }
    }

    /// Bare reqwest inside the same two timers the stack arms (attempt
    /// timeout, body stall timeout): separates timer cost from the rest.
    async fn bare_with_timers(&self, n: usize) {
        for _ in 0..n {
            let r = tokio::time::timeout(Duration::from_secs(10), async {
                let mut r = self.bare.get(&self.url).send().await.unwrap();
                let mut body = Vec::new();
                while let Some(c) = tokio::time::timeout(Duration::from_secs(10), r.chunk())
                    .await
                    .unwrap()
                    .unwrap()
                {
                    body.extend_from_slice(&c);
                }
                body
            })
            .await
            .unwrap();
            std::hint::black_box(r);
        }
    }

    /// wharf's transport alone, no policies.
    async fn transport_only(&self, n: usize) {
        use wharf_runtime::call::Transport;
        for _ in 0..n {
            let request = wharf_runtime::call::HttpRequest {
                method: Method::GET,
                url: self.url.clone(),
                headers: http::HeaderMap::new(),
                body: Bytes::new().into(),
            };
            std::hint::black_box(self.transport.send(request).await.unwrap());
        }
    }

    async fn stack(&self, n: usize) {
        for _ in 0..n {
            let request = Request::new(
                OperationMeta::new("getItem", Method::GET, "/item"),
                self.url.clone(),
            );
            let r = self
                .stack
                .call(request, CallOptions::default())
                .await
                .unwrap();
            std::hint::black_box(r.body);
        }
    }

    /// The stack's calls one by one, each followed by [`code_pad`] when
    /// `pad` (apart from [`Paths::stack`], whose code it leaves as is).
    async fn stack_padded(&self, n: usize, pad: bool) {
        for k in 0..n {
            self.stack(1).await;
            if pad {
                std::hint::black_box(code_pad(k as u64));
            }
        }
    }
}

/// `id` as 32 hex digits, in place.
fn hex_id(mut id: u128) -> [u8; 32] {
    let mut out = [0; 32];
    for digit in out.iter_mut().rev() {
        *digit = b"0123456789abcdef"[(id & 15) as usize];
        id >>= 4;
    }
    out
}

/// The guards the floor path uses (see [`Paths::floor`]).
struct Floor {
    /// reqwest with its own retries off, as the stack's transport has them:
    /// the default client copies every request in case it retries.
    client: reqwest::Client,
    bulkhead: wharf_runtime::policy::bulkhead::Bulkhead,
    breaker: wharf_runtime::policy::breaker::Breaker,
    budget: wharf_runtime::policy::budget::RetryBudget,
    /// Registered once, as the stack's are.
    latency: metrics::Histogram,
    /// Calls by outcome: succeeded, failed.
    calls: [metrics::Counter; 2],
    ids: std::sync::atomic::AtomicU64,
}

impl Floor {
    fn new() -> Floor {
        Floor {
            client: reqwest::Client::builder()
                .retry(reqwest::retry::never().max_retries_per_request(0))
                .build()
                .unwrap(),
            bulkhead: wharf_runtime::policy::bulkhead::Bulkhead::new(BulkheadConfig {
                max_concurrent: 64,
                max_queued: 1024,
            }),
            breaker: wharf_runtime::policy::breaker::Breaker::new(Default::default()),
            budget: wharf_runtime::policy::budget::RetryBudget::new(Default::default()),
            latency: metrics::histogram!("floor_latency_seconds", "integration" => "bench"),
            calls: ["ok", "error"].map(|outcome| {
                metrics::counter!("floor_calls_total", "integration" => "bench", "outcome" => outcome)
            }),
            ids: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

/// Extra client CPU per call (us) of the stack's calls with [`code_pad`]
/// over the same calls without it: median of paired rounds whose order
/// alternates.
async fn code_pad_cost(p: &Paths) -> Option<f64> {
    let n = 500;
    let mut extra = Vec::new();
    for round in 0..31 {
        let mut cpu = [0.0; 2];
        for pad in [round % 2 == 0, round % 2 != 0] {
            let c = cpu_time()?;
            p.stack_padded(n, pad).await;
            cpu[usize::from(pad)] = (cpu_time()? - c).as_secs_f64();
        }
        extra.push((cpu[1] - cpu[0]) * 1e6 / n as f64);
    }
    Some(quartiles(&mut extra).0)
}

/// Four copies of the tokens given.
macro_rules! four {
    ($($t:tt)*) => { $($t)* $($t)* $($t)* $($t)* };
}

/// 1,024 steps of straight-line arithmetic: no branches, calls or memory
/// beyond one stack slot. Run once per call in the calibration rounds, it
/// adds little but code to fetch, so the time it adds is the price of the
/// code lines it covers (callgrind counts them).
#[inline(never)]
fn code_pad(mut a: u64) -> u64 {
    four! { four! { four! { four! { four! {
        a = std::hint::black_box(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x632B_E59B_D9B4_E019);
    } } } } }
    a
}

/// A transport that answers at once: the stack's own cost per call.
#[derive(Debug)]
struct Instant200;

impl wharf_runtime::call::Transport for Instant200 {
    fn send(&self, _request: wharf_runtime::call::HttpRequest) -> wharf_runtime::call::SendFuture {
        Box::pin(async {
            Ok(wharf_runtime::call::Response {
                status: http::StatusCode::OK,
                headers: http::HeaderMap::new(),
                body: Bytes::from_static(b"{}"),
            })
        })
    }
}

async fn overhead_only(n: usize) -> Duration {
    let api = Integration::builder("overhead")
        .transport(Arc::new(Instant200))
        .build()
        .unwrap();
    let t = Instant::now();
    for _ in 0..n {
        let request = Request::new(
            OperationMeta::new("getItem", Method::GET, "/item"),
            "https://x.test/item",
        );
        std::hint::black_box(api.call(request, CallOptions::default()).await.unwrap());
    }
    t.elapsed()
}

/// The stack's own cost (instant transport) when each call runs between
/// two real exchanges, as in use: caches and branch predictors are then
/// cold, unlike in [`overhead_only`]'s tight loop. Extra client CPU per
/// call over the bare calls alone, median of paired rounds: the stack's,
/// and, for scale, that of the least a call can do (one header, a timeout,
/// the same instant transport).
async fn overhead_between_calls(p: &Paths) -> Option<(f64, f64)> {
    use wharf_runtime::call::Transport;
    let api = Integration::builder("overhead")
        .transport(Arc::new(Instant200))
        .build()
        .unwrap();
    let n = 500;
    let (mut stack, mut least) = (Vec::new(), Vec::new());
    for _ in 0..31 {
        let c = cpu_time()?;
        p.bare(n).await;
        let bare = cpu_time()? - c;
        let c = cpu_time()?;
        for _ in 0..n {
            p.bare(1).await;
            let request = Request::new(
                OperationMeta::new("getItem", Method::GET, "/item"),
                "https://x.test/item",
            );
            std::hint::black_box(api.call(request, CallOptions::default()).await.unwrap());
        }
        let with_stack = cpu_time()? - c;
        let c = cpu_time()?;
        for _ in 0..n {
            p.bare(1).await;
            let mut headers = http::HeaderMap::new();
            headers.insert(
                "x-correlation-id",
                http::HeaderValue::from_static("0123456789abcdef0123456789abcdef"),
            );
            let request = wharf_runtime::call::HttpRequest {
                method: Method::GET,
                url: "https://x.test/item".to_owned(),
                headers,
                body: Bytes::new().into(),
            };
            let sent = tokio::time::timeout(Duration::from_secs(10), Instant200.send(request));
            std::hint::black_box(sent.await.unwrap().unwrap());
        }
        let with_least = cpu_time()? - c;
        let per_call = |d: Duration| (d.as_secs_f64() - bare.as_secs_f64()) * 1e6 / n as f64;
        stack.push(per_call(with_stack));
        least.push(per_call(with_least));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some((median(&mut stack), median(&mut least)))
}

/// Callers in flight at once in the concurrent rounds.
const CALLERS: usize = 16;

/// `CALLERS` tasks share one client, each making its calls back to back:
/// the throughput of an app with many requests in flight (a service
/// handling its own traffic), where the sequential rounds measure one
/// caller's latency. Wall and client CPU time for `n` calls in all.
async fn concurrent(p: &Arc<Paths>, stack: bool, n: usize) -> (Duration, Option<Duration>) {
    let (t, c) = (Instant::now(), cpu_time());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let p = p.clone();
        tasks.spawn(async move {
            if stack {
                p.stack(n / CALLERS).await
            } else {
                p.bare(n / CALLERS).await
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    (t.elapsed(), cpu_time().zip(c).map(|(a, b)| a - b))
}

/// Paired concurrent rounds, alternating which path runs first: the
/// median throughput ratio stack/bare and client CPU ratio bare/stack.
async fn concurrent_rounds(p: &Arc<Paths>) -> (Vec<f64>, Vec<f64>) {
    let n = 2000;
    concurrent(p, false, n).await;
    concurrent(p, true, n).await;
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for round in 0..31 {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        let mut runs = [(Duration::ZERO, None); 2];
        for stack in order {
            runs[usize::from(stack)] = concurrent(p, stack, n).await;
        }
        let [(bare_wall, bare_cpu), (stack_wall, stack_cpu)] = runs;
        wall.push(bare_wall.as_secs_f64() / stack_wall.as_secs_f64());
        if let (Some(b), Some(s)) = (bare_cpu, stack_cpu) {
            cpu.push(b.as_secs_f64() / s.as_secs_f64());
        }
    }
    (wall, cpu)
}

/// Median and quartiles of ratios, sorted in place.
fn quartiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: usize| v.get(v.len() * q / 4).copied().unwrap_or(f64::NAN);
    (at(2), at(1), at(3))
}

/// The paths each interleaved round runs in turn.
#[derive(Clone, Copy)]
enum Path {
    Bare = 0,
    Stack = 1,
    Floor = 2,
    Peer = 3,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    // The bare client needs a process-wide crypto provider; wharf's transport
    // brings its own configuration.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    // `--only bare|stack N`: one path only (used under callgrind).
    if let Some(i) = args.iter().position(|a| a == "--overhead") {
        let n: usize = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1000);
        runtime().block_on(overhead_only(n));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let which = args.get(i + 1).cloned().unwrap_or_default();
        let n: usize = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(200);
        runtime().block_on(async {
            let p = Paths::new().await;
            p.bare(20).await;
            p.stack(20).await;
            p.floor(20).await;
            match which.as_str() {
                "bare" => p.bare(n).await,
                "transport" => p.transport_only(n).await,
                "padded" => p.stack_padded(n, true).await,
                "floor" => p.floor(n).await,
                "peer" => p.peer(n).await,
                _ => p.stack(n).await,
            }
        });
        return;
    }
    // Many short rounds: the shared host's speed drifts over seconds, and
    // a ratio of neighbouring short runs cancels more of that drift.
    let n = 500;
    let rounds = 61;
    let (mut bare_wall, mut stack_wall, mut bare_cpu, mut stack_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut timers_wall = Vec::new();
    let mut transport_wall = Vec::new();
    let mut floor_pairs = Vec::new();
    let (mut peer_pairs, mut stack_over_peer, mut peer_cpu) = (Vec::new(), Vec::new(), Vec::new());
    let mut cold = None;
    let mut pad_cost = None;
    let mut concurrent_ratios = None;
    runtime().block_on(async {
        let p = Paths::new().await;
        p.bare(200).await;
        p.stack(200).await;
        p.floor(200).await;
        p.peer(200).await;
        for round in 0..rounds {
            // Bare, stack, peer, floor, then the other way round in odd
            // rounds: the stack is always next to bare and to the peer, and
            // no path always runs on a machine warmed (or disturbed) by
            // another.
            let mut order = [Path::Bare, Path::Stack, Path::Peer, Path::Floor];
            if round % 2 == 1 {
                order.reverse();
            }
            // Wall and client CPU time of each path, by `Path as usize`.
            let mut took = [(Duration::ZERO, None); 4];
            for path in order {
                let (t, c) = (Instant::now(), cpu_time());
                match path {
                    Path::Bare => p.bare(n).await,
                    Path::Stack => p.stack(n).await,
                    Path::Floor => p.floor(n).await,
                    Path::Peer => p.peer(n).await,
                }
                took[path as usize] = (t.elapsed(), cpu_time().zip(c).map(|(a, b)| a - b));
            }
            let [(bare, bare_c), (stack, stack_c), (floor, _), (peer, peer_c)] = took;
            peer_pairs.push(bare.as_secs_f64() / peer.as_secs_f64());
            stack_over_peer.push(peer.as_secs_f64() / stack.as_secs_f64());
            peer_cpu.push(peer_c);
            bare_wall.push(bare);
            bare_cpu.push(bare_c);
            stack_wall.push(stack);
            stack_cpu.push(stack_c);
            floor_pairs.push(bare.as_secs_f64() / floor.as_secs_f64());
            let t = Instant::now();
            p.bare_with_timers(n).await;
            timers_wall.push(t.elapsed());
            let t = Instant::now();
            p.transport_only(n).await;
            transport_wall.push(t.elapsed());
        }
        cold = overhead_between_calls(&p).await;
        pad_cost = code_pad_cost(&p).await;
        let p = Arc::new(p);
        concurrent_ratios = Some(concurrent_rounds(&p).await);
    });
    // Each round's bare and stack runs are neighbours in time: their ratio
    // cancels the slow drifts of a shared machine that separate medians
    // keep. The median of those ratios is the figure.
    let mut paired: Vec<f64> = bare_wall
        .iter()
        .zip(&stack_wall)
        .map(|(b, s)| b.as_secs_f64() / s.as_secs_f64())
        .collect();
    let (m, q1, q3) = quartiles(&mut paired);
    println!(
        "1 caller, paired rounds: throughput ratio stack/bare median {m:.3}x (quartiles {q1:.3}-{q3:.3}; goal >= 0.93x)"
    );
    let (pm, pq1, pq3) = quartiles(&mut peer_pairs);
    println!(
        "1 caller, paired rounds: peer/bare median {pm:.3}x (quartiles {pq1:.3}-{pq3:.3}): \
         reqwest-middleware + reqwest-retry + reqwest-tracing, a concurrency limit, timeouts"
    );
    let (sm, sq1, sq3) = quartiles(&mut stack_over_peer);
    println!(
        "1 caller, paired rounds: stack/peer median {sm:.3}x (quartiles {sq1:.3}-{sq3:.3}; goal > 1: wharf ahead)"
    );
    let (fm, fq1, fq3) = quartiles(&mut floor_pairs);
    println!(
        "1 caller, paired rounds: floor/bare median {fm:.3}x (quartiles {fq1:.3}-{fq3:.3}): \
         bare reqwest plus the least code the stack's required features take, inline"
    );
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    // Best round of each path: interference on a shared machine only ever
    // slows a round down, so the minimum is the least noisy estimate.
    let best = |v: &[Duration]| v.iter().copied().min().unwrap_or_default();
    let (bb, sb) = (best(&bare_wall), best(&stack_wall));
    let (bw, sw) = (median(&mut bare_wall), median(&mut stack_wall));
    println!("{n} sequential GETs over loopback keep-alive, {rounds} interleaved rounds");
    println!(
        "best rounds  : bare {:.0}/s, stack {:.0}/s, ratio {:.3}x (goal >= 0.93x)",
        n as f64 / bb.as_secs_f64(),
        n as f64 / sb.as_secs_f64(),
        bb.as_secs_f64() / sb.as_secs_f64()
    );
    println!(
        "best rounds  : transport alone {:.0}/s, ratio {:.3}x",
        n as f64 / best(&transport_wall).as_secs_f64(),
        bb.as_secs_f64() / best(&transport_wall).as_secs_f64()
    );
    println!("medians:");
    println!("bare reqwest : {:8.0} calls/s", n as f64 / bw.as_secs_f64());
    let tw = median(&mut timers_wall);
    let trw = median(&mut transport_wall);
    println!(
        "transport    : {:8.0} calls/s  ratio {:.3}x (wharf's transport, no policies)",
        n as f64 / trw.as_secs_f64(),
        bw.as_secs_f64() / trw.as_secs_f64()
    );
    println!(
        "bare + timers: {:8.0} calls/s  ratio {:.3}x (the two timeouts alone)",
        n as f64 / tw.as_secs_f64(),
        bw.as_secs_f64() / tw.as_secs_f64()
    );
    println!(
        "wharf stack  : {:8.0} calls/s  ratio {:.3}x (goal >= 0.93x)",
        n as f64 / sw.as_secs_f64(),
        bw.as_secs_f64() / sw.as_secs_f64()
    );
    let mut bc: Vec<Duration> = bare_cpu.into_iter().flatten().collect();
    let mut sc: Vec<Duration> = stack_cpu.into_iter().flatten().collect();
    let mut pc: Vec<Duration> = peer_cpu.into_iter().flatten().collect();
    if !bc.is_empty() && !sc.is_empty() && !pc.is_empty() {
        let (b, s, pe) = (median(&mut bc), median(&mut sc), median(&mut pc));
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        println!(
            "client CPU per call: bare {:.2} us, stack {:.2} us, overhead {:.2} us ({:.3}x of bare; goal <= 2.5 us)",
            per(b),
            per(s),
            per(s) - per(b),
            s.as_secs_f64() / b.as_secs_f64()
        );
        println!(
            "client CPU per call: peer {:.2} us, overhead {:.2} us ({:.3}x of bare)",
            per(pe),
            per(pe) - per(b),
            pe.as_secs_f64() / b.as_secs_f64()
        );
    }
    if let Some((mut wall, mut cpu)) = concurrent_ratios {
        let (w, w1, w3) = quartiles(&mut wall);
        println!(
            "{CALLERS} concurrent callers, paired rounds: throughput ratio stack/bare median {w:.3}x \
             (quartiles {w1:.3}-{w3:.3})"
        );
        if !cpu.is_empty() {
            let (c, c1, c3) = quartiles(&mut cpu);
            println!(
                "{CALLERS} concurrent callers: client CPU per call, bare/stack median {c:.3}x \
                 (quartiles {c1:.3}-{c3:.3})"
            );
        }
    }
    let n_over = 100_000;
    let over = runtime().block_on(overhead_only(n_over));
    println!(
        "stack alone (instant in-memory transport): {:.2} us per call",
        over.as_secs_f64() * 1e6 / n_over as f64
    );
    if let Some((stack, least)) = cold {
        println!(
            "stack alone between real calls (cold caches, as in use): {stack:.2} us per call; \
             a send with one header and a timeout there: {least:.2} us"
        );
    }
    if let Some(us) = pad_cost {
        println!("code pad (straight-line arithmetic) after each stack call: {us:.2} us per call");
    }
    if std::env::var_os("WHARF_CALLGRIND").is_some() {
        callgrind(&args[0], pad_cost);
    }
}

/// Instruction counts of each path under callgrind (same binary, inputs),
/// and the code each call runs: distinct 64-byte lines of machine code
/// executed per call. On a host where every call's code is cold (after
/// its syscalls), the time a call costs follows that figure more closely
/// than its instruction count.
///
/// With the code pad's cost per call (`pad_cost`, us), also prints what
/// one line of code costs per call here: the pad's time over its lines.
fn callgrind(exe: &str, pad_cost: Option<f64>) {
    let (short, long) = (300_u32, 600_u32);
    let mut paths = Vec::new();
    for which in ["bare", "transport", "floor", "stack", "padded"] {
        let runs = [short, long].map(|calls| profile(exe, which, calls));
        let [Some(a), Some(b)] = runs else {
            println!("callgrind: valgrind not available or its output unreadable");
            return;
        };
        paths.push((which, a, b));
    }
    let calls = f64::from(long - short);
    let (_, bare_short, bare_long) = &paths[0];
    let bare_per_call = (bare_long.total - bare_short.total) / calls;
    println!("callgrind, per call after warm-up (whole process: client and server):");
    let mut lines_of = std::collections::HashMap::new();
    for (which, a, b) in &paths {
        let per_call = (b.total - a.total) / calls;
        let lines = code_lines_per_call(a, b, long - short);
        lines_of.insert(*which, lines);
        println!(
            "  {which:9}: {per_call:7.0} Ir ({:+6.0} vs bare), code on {lines} distinct 64-byte lines",
            per_call - bare_per_call
        );
    }
    // "padded" is the stack plus the code pad: the pad's own lines.
    let pad_lines = lines_of["padded"].saturating_sub(lines_of["stack"]);
    if let (Some(us), true) = (pad_cost, pad_lines > 0) {
        let per_line = us * 1000.0 / pad_lines as f64;
        let extra = lines_of["stack"].saturating_sub(lines_of["bare"]);
        println!(
            "  one more 64-byte line of code per call costs about {per_line:.1} ns here \
             (the code pad: {us:.2} us over {pad_lines} lines); at that price the stack's \
             {extra} lines beyond bare come to {:.2} us per call",
            per_line * extra as f64 / 1000.0
        );
    }
}

/// One callgrind run's counts: the total, and instructions per address.
struct Profile {
    total: f64,
    by_address: std::collections::HashMap<(String, u64), u64>,
}

fn profile(exe: &str, which: &str, calls: u32) -> Option<Profile> {
    let out_file = std::env::temp_dir().join(format!(
        "wharf-bench-{}-{which}-{calls}.cg",
        std::process::id()
    ));
    let status = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--dump-instr=yes",
            "--compress-pos=no",
            "--compress-strings=no",
        ])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .args([exe, "--only", which, &calls.to_string()])
        .output()
        .ok()?
        .status;
    let text = std::fs::read_to_string(&out_file);
    let _ = std::fs::remove_file(&out_file);
    if !status.success() {
        return None;
    }
    parse_profile(&text.ok()?)
}

/// Reads `--dump-instr=yes --compress-pos=no` output: cost lines are
/// `0xADDR LINE IR`; the line after `calls=` is a call's inclusive cost,
/// not the call instruction's own, and is skipped.
fn parse_profile(text: &str) -> Option<Profile> {
    let mut by_address = std::collections::HashMap::new();
    let (mut object, mut after_call, mut total) = ("", false, None);
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("ob=") {
            object = name;
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if let Some(rest) = line.strip_prefix("0x") {
            if std::mem::take(&mut after_call) {
                continue;
            }
            let mut fields = rest.split_whitespace();
            let address = u64::from_str_radix(fields.next()?, 16).ok()?;
            let ir: u64 = fields.nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            *by_address.entry((object.to_owned(), address)).or_insert(0) += ir;
        } else if let Some(n) = line.strip_prefix("summary:") {
            total = n.trim().parse::<f64>().ok();
        }
    }
    Some(Profile {
        total: total?,
        by_address,
    })
}

/// Lines of code run on (at least half of) the calls: addresses whose
/// count grew with the number of calls between the short and long run.
fn code_lines_per_call(short: &Profile, long: &Profile, extra_calls: u32) -> usize {
    let most_calls = u64::from(extra_calls / 2);
    long.by_address
        .iter()
        .filter(|(key, n)| {
            *n - short.by_address.get(*key).copied().unwrap_or(0).min(**n) >= most_calls
        })
        .map(|((object, address), _)| (object, address >> 6))
        .collect::<std::collections::HashSet<_>>()
        .len()
}
