//! The chaos soak (issue 13): mosquitto, the simulated Anova cloud and the real daemon run
//! together for a given time while seeded random faults hit them and command traffic flows;
//! invariants are checked all along, a summary is printed at the end, and the exit code is
//! non-zero on any violation.
//!
//! ```text
//! cargo run --release --example soak -- --seconds 60 --seed 42 --cookers 4 --ovens 2
//! ```
//!
//! - `broker`: mosquitto on a free port, killed and restarted as a fault.
//! - the simulator runs in this process ([`anova2mqtt::simulator`]), for its fault controls
//!   and its record of the commands it received.
//! - `daemon`: the real `anova2mqtt` binary as a child process (its RSS and log lines are
//!   measured; the token and panics are looked for in every line).
//! - `mqtt`: an observer on `#` and several publishers; `traffic`: the commands;
//!   `faults`: the faults and recovery checks; `ledger`: the command invariants.

mod broker;
mod daemon;
mod faults;
mod ledger;
mod mqtt;
mod ovens;
mod report;
mod rng;
mod stats;
mod traffic;

use anova2mqtt::simulator::{
    ClientCommand, OvenSettings, SimCookerSpec, SimOvenSpec, Simulator, SimulatorConfig,
    SimulatorHandle, TemperatureUnit,
};
use anyhow::Context;
use clap::Parser;
use faults::{FaultStats, Injector};
use ledger::Ledger;
use report::Violations;
use rng::Rng;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The chaos soak: see the module docs.
#[derive(Debug, Parser)]
struct Args {
    /// How long to inject faults and send commands.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The seed of every random choice (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// How many simulated cookers (alternately `a7` and `pro`).
    #[arg(long, default_value_t = 4)]
    cookers: usize,
    /// How many simulated Precision Ovens (alternately `oven_v1` and `oven_v2`).
    #[arg(long, default_value_t = 2)]
    ovens: usize,
    /// The daemon binary (default: built next to this example, same profile).
    #[arg(long)]
    daemon: Option<PathBuf>,
    /// Only these faults (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    faults: Vec<faults::FaultKind>,
    /// Keep the working directory (daemon log, configs) even when the soak passes.
    #[arg(long)]
    keep: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Reads the simulator's received commands and hands them to the ledger.
fn drain_cloud_commands(sim: &SimulatorHandle, ledger: &Mutex<Ledger>, v: &Violations) {
    for received in sim.drain_commands() {
        let Ok(mut ledger) = ledger.lock() else {
            return;
        };
        match &received.frame.body {
            ClientCommand::Apc { command, .. } => {
                use anova2mqtt::simulator::ApcCommand as C;
                let target = match command {
                    C::Start {
                        target_temperature,
                        unit,
                        ..
                    }
                    | C::SetTargetTemp {
                        target_temperature,
                        unit,
                        ..
                    } => Some(match unit {
                        TemperatureUnit::F => (target_temperature - 32.0) * 5.0 / 9.0,
                        _ => *target_temperature,
                    }),
                    _ => None,
                };
                ledger.on_cloud_command(
                    &command.cooker().cooker_id,
                    command.name().as_str(),
                    target,
                    received.received_at,
                    v,
                );
            }
            ClientCommand::Apo(envelope) => {
                let target = ovens::check_sent(envelope, v);
                ledger.on_cloud_command(
                    &envelope.id,
                    &envelope.command_type,
                    target,
                    received.received_at,
                    v,
                );
            }
            ClientCommand::Invalid { reason } => v.add(format!(
                "the daemon sent {} that the cloud cannot read: {reason}",
                received.frame.command
            )),
            other => v.add(format!("the daemon sent an unexpected command: {other:?}")),
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let mut rng = Rng::new(seed);
    let token = format!("anova-soak-{:016x}", rng.next_u64());
    println!(
        "soak: seed {seed}, {} s, {} cookers, {} ovens (re-run: cargo run --release --example \
         soak -- --seconds {} --seed {seed} --cookers {} --ovens {})",
        args.seconds, args.cookers, args.ovens, args.seconds, args.cookers, args.ovens
    );
    let binary = daemon::locate(args.daemon.clone())?;
    let dir = tempfile::Builder::new()
        .prefix("anova2mqtt-soak-")
        .tempdir()?;
    let violations = Violations::new();

    let broker = broker::Mosquitto::start(dir.path())?;
    let cookers: Vec<String> = (0..args.cookers.max(1))
        .map(|i| format!("soak{i:03}cooker000{i:03}"))
        .collect();
    let specs = cookers
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 2 == 0 {
                SimCookerSpec::a7(id.clone(), format!("Soak cooker {i}"))
            } else {
                SimCookerSpec::pro(id.clone(), format!("Soak cooker {i}"))
            }
        })
        .collect();
    let ovens: Vec<String> = (0..args.ovens)
        .map(|i| format!("soak{i:03}ovenv{}00000{i:03}", 1 + i % 2))
        .collect();
    let oven_specs = ovens
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 2 == 0 {
                SimOvenSpec::v1(id.clone(), format!("Soak oven {i}"))
            } else {
                SimOvenSpec::v2(id.clone(), format!("Soak oven {i}"))
            }
        })
        .collect();
    let sim_config = SimulatorConfig {
        ovens: oven_specs,
        // The real cadence of a 1.0; a 2.0 pushes as a real one does while cooking, and every
        // 15 s while idle instead of every 10 minutes (within the daemon's limit for it, so the
        // soak sees more of them).
        oven: OvenSettings {
            v1_idle_push: Duration::from_secs(5),
            v1_cooking_push: Duration::from_secs(2),
            v2_idle_push: Duration::from_secs(15),
            v2_cooking_push: Duration::from_secs(5),
            ..OvenSettings::default()
        },
        idle_push_interval: Duration::from_secs(2),
        cooking_push_interval: Duration::from_secs(1),
        ping_interval: Duration::from_secs(2),
        response_delay: Duration::from_millis(50),
        // A long run must not keep every command: the soak drains them as it goes.
        command_log_limit: 100_000,
        ..SimulatorConfig::for_tests(specs).with_token(token.clone())
    };
    let sim = Simulator::start(([127, 0, 0, 1], 0).into(), sim_config)
        .await
        .context("simulator")?;
    let handle = sim.handle();

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let observed = mqtt::observe(
        broker.port,
        token.clone(),
        ledger.clone(),
        violations.clone(),
    );
    let mut daemon = daemon::Daemon::start(
        &binary,
        dir.path(),
        &sim.url(),
        &broker.url(),
        &token,
        violations.clone(),
    )?;
    println!(
        "soak: daemon pid {}, mosquitto on {}, cloud {}, log {}",
        daemon.pid(),
        broker.port,
        sim.url(),
        daemon.log_path.display()
    );

    let birth = mqtt::Publisher::connect("soak-homeassistant", broker.port);
    let mut injector = Injector {
        sim: handle.clone(),
        broker,
        observed: observed.clone(),
        ledger: ledger.clone(),
        violations: violations.clone(),
        cookers: cookers.iter().chain(&ovens).cloned().collect(),
        ovens: ovens.clone(),
        birth,
        rng: rng.fork(1),
        mix: faults::MIX
            .iter()
            .filter(|(kind, _)| args.faults.is_empty() || args.faults.contains(kind))
            .copied()
            .collect(),
        stats: FaultStats::default(),
        dropped_seq: 0,
    };
    if !injector.ready(Duration::from_secs(30)).await {
        violations
            .add("the daemon did not show every cooker online within 30 s of its start".into());
        if let Some(status) = daemon.exited() {
            violations.add(format!(
                "the daemon exited at its start: {status}; its last lines:\n{}",
                daemon.log_tail(10)
            ));
        }
    }
    let started = Instant::now();
    println!(
        "soak: ready after {:.1} s; faults and traffic start",
        violations.elapsed_s()
    );

    // Traffic and the cloud-side checks run beside the faults.
    let stop = Arc::new(AtomicBool::new(false));
    let topic_ids: Vec<String> = cookers
        .iter()
        .chain(&ovens)
        .map(|c| c.to_lowercase())
        .collect();
    let traffic = tokio::spawn(traffic::run(
        injector.broker.port,
        topic_ids,
        rng.fork(2),
        ledger.clone(),
        stop.clone(),
    ));
    let rss: Arc<Mutex<Vec<(Duration, u64)>>> = Arc::default();
    let checker = {
        let (handle, ledger, v, rss, stop) = (
            handle.clone(),
            ledger.clone(),
            violations.clone(),
            rss.clone(),
            stop.clone(),
        );
        let pid = daemon.pid();
        let ovens = ovens.clone();
        tokio::spawn(async move {
            let mut last_rss = Instant::now() - Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) {
                drain_cloud_commands(&handle, &ledger, &v);
                ovens::check_no_error(&handle, &ovens, &v);
                if let Ok(mut l) = ledger.lock() {
                    l.audit(Instant::now(), false, &v);
                }
                if last_rss.elapsed() >= Duration::from_secs(5) {
                    last_rss = Instant::now();
                    if let Some(kib) = daemon::rss_kib(pid) {
                        if let Ok(mut r) = rss.lock() {
                            r.push((started.elapsed(), kib));
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let deadline = started + Duration::from_secs(args.seconds);
    let mut next_report = started + Duration::from_secs(60);
    while Instant::now() < deadline {
        let gap = Duration::from_millis(injector.rng.range(1000, 6000));
        tokio::time::sleep(gap.min(deadline.saturating_duration_since(Instant::now()))).await;
        if Instant::now() >= deadline {
            break;
        }
        injector.one().await;
        if let Some(status) = daemon.exited() {
            violations.add(format!(
                "the daemon exited: {status}; its last lines:\n{}",
                daemon.log_tail(10)
            ));
            break;
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(60);
            let (sent, _) = ledger.lock().map(|l| l.sent_counts()).unwrap_or_default();
            println!(
                "soak: {:.0} s, {sent} commands, {} faults, {} violations, RSS {} KiB",
                started.elapsed().as_secs_f64(),
                injector.stats.injected.values().sum::<u64>(),
                violations.all().len(),
                daemon.rss_kib().unwrap_or(0)
            );
        }
    }

    // Wind down: no new commands; every one sent must be answered within its bound.
    stop.store(true, Ordering::Relaxed);
    let _ = traffic.await;
    let _ = checker.await;
    tokio::time::sleep(ledger::answer_bound() + Duration::from_secs(2)).await;
    drain_cloud_commands(&handle, &ledger, &violations);
    if let Ok(mut l) = ledger.lock() {
        l.audit(Instant::now(), true, &violations);
    }
    let end_rss = daemon.rss_kib();
    let log_stats = daemon.stats.clone();
    match daemon.stop(Duration::from_secs(10)) {
        Some(status) if status.success() => {}
        Some(status) => violations.add(format!("the daemon's exit after SIGTERM: {status}")),
        None => violations.add("the daemon did not stop within 10 s of SIGTERM".into()),
    }
    sim.shutdown().await;

    let rss = rss.lock().map(|r| r.clone()).unwrap_or_default();
    check_rss(&rss, &violations);
    // Issue 9: the cloud link is back within 10 s (p95) after each drop.
    if let Some((_, p95, _)) = stats::percentiles(&injector.stats.link_back) {
        if p95 > Duration::from_secs(10) {
            violations.add(format!(
                "the cloud link came back in {:.1} s (p95) after drops; at most 10 s",
                p95.as_secs_f64()
            ));
        }
    }
    let ledger = ledger
        .lock()
        .map_err(|_| anyhow::anyhow!("ledger poisoned"))?;
    print_summary(
        seed,
        started.elapsed(),
        &ledger,
        &injector.stats,
        &rss,
        end_rss,
        &log_stats,
    );
    let all = violations.all();
    if all.is_empty() {
        println!("soak: PASS (no invariant violated)");
        if args.keep {
            println!("soak: kept {}", dir.keep().display());
        }
        Ok(true)
    } else {
        println!("soak: FAIL, {} violation(s):", all.len());
        for v in all.iter().take(50) {
            println!("  {v}");
        }
        println!("soak: kept {} (daemon.log)", dir.keep().display());
        Ok(false)
    }
}

/// RSS must be flat after warm-up: the last sample may exceed the first one after warm-up
/// by at most 25 % plus 4 MiB.
fn check_rss(samples: &[(Duration, u64)], v: &Violations) {
    let Some(&(total, _)) = samples.last() else {
        return;
    };
    let warm_up = (total / 3).min(Duration::from_secs(120));
    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warm_up)
        .map(|(_, k)| *k)
        .collect();
    if let (Some(first), Some(last)) = (after.first(), after.last()) {
        if *last as f64 > *first as f64 * 1.25 + 4096.0 {
            v.add(format!("RSS grew after warm-up: {first} KiB → {last} KiB"));
        }
    }
}

fn print_summary(
    seed: u64,
    took: Duration,
    ledger: &Ledger,
    faults: &FaultStats,
    rss: &[(Duration, u64)],
    end_rss: Option<u64>,
    log: &daemon::LogStats,
) {
    println!(
        "=== soak summary (seed {seed}, {:.0} s) ===",
        took.as_secs_f64()
    );
    let (sent, with_id) = ledger.sent_counts();
    let (anon_sent, anon_answers) = ledger.anonymous();
    println!("commands sent: {sent} ({with_id} with an id, {anon_sent} without)");
    for (kind, n) in ledger.sent_by_kind() {
        println!("  {kind:?}: {n}");
    }
    println!("answers by kind and code:");
    for ((kind, code), n) in &ledger.codes {
        println!("  {kind:?} {code}: {n}");
    }
    println!("answers without a known id: {anon_answers}");
    for (code, n) in &ledger.anonymous_codes {
        println!("  {code}: {n}");
    }
    println!("answer latency: {}", stats::show(&ledger.latencies));
    println!(
        "excused (broker restart around them: lost, late or duplicated): {}",
        ledger.excused
    );
    println!("cloud commands received by the simulator:");
    for (name, n) in &ledger.cloud_commands {
        println!("  {name}: {n}");
    }
    println!(
        "faults injected: {} in all",
        faults.injected.values().sum::<u64>()
    );
    for (kind, n) in &faults.injected {
        let recovery = faults.recovery.get(kind).map(Vec::as_slice).unwrap_or(&[]);
        println!("  {kind:?}: {n}, recovery {}", stats::show(recovery));
    }
    println!(
        "cloud link back after drops: {}",
        stats::show(&faults.link_back)
    );
    let at_5min = rss
        .iter()
        .find(|(t, _)| *t >= Duration::from_secs(300))
        .map(|(_, k)| format!("{:.1} MiB", *k as f64 / 1024.0));
    let first = rss
        .first()
        .map(|(_, k)| format!("{:.1} MiB", *k as f64 / 1024.0));
    println!(
        "daemon RSS: first {} , at 5 min {}, at the end {}",
        first.unwrap_or_else(|| "-".into()),
        at_5min.unwrap_or_else(|| "- (run shorter than 5 min)".into()),
        end_rss.map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
    println!(
        "daemon log: {} lines ({} WARN, {} ERROR)",
        log.lines.load(Ordering::Relaxed),
        log.warnings.load(Ordering::Relaxed),
        log.errors.load(Ordering::Relaxed)
    );
}
