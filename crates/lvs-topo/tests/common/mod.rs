//! The five scenarios of issue 10 as steps on one topology (one VM boot per mode).

use std::time::{Duration, Instant};

use lvs_testkit::wait_until;
use lvs_topo::client::{Report, Traffic};
use lvs_topo::{Binaries, Mode, Node, Topology};

const STEP: Duration = Duration::from_millis(50);

/// "No request fails for longer than one retry": either one request failed and the next one (its
/// retry) succeeded, or the failures spanned less than a TCP client's first SYN retry, which
/// comes after the initial retransmission timeout of 1 s (RFC 6298 §2.1): such an outage costs a
/// real client a delay, not an error.
const ONE_RETRY_MS: u128 = 1000;

/// Lets the client run for `d`, then returns the report of the requests started in that time.
fn window(traffic: &Traffic, d: Duration) -> Report {
    let from = traffic.now();
    std::thread::sleep(d);
    Report::of(&traffic.window(from, traffic.now()))
}

/// Waits (bounded) until a request started after `after` succeeded.
fn wait_success_after(traffic: &Traffic, after: Duration, timeout: Duration) -> bool {
    wait_until(timeout, STEP, || {
        traffic
            .requests()
            .iter()
            .any(|r| r.at > after && r.server.is_some())
    })
}

/// The requests from `from` up to the first success after now (waited for, bounded): every
/// outage in it has ended.
fn closed_window(traffic: &Traffic, from: Duration) -> Report {
    let now = traffic.now();
    wait_success_after(traffic, now, Duration::from_secs(10));
    let reqs = traffic.requests();
    let end = reqs
        .iter()
        .find(|r| r.at > now && r.server.is_some())
        .map_or(Duration::MAX, |r| r.at);
    let w: Vec<_> = reqs
        .into_iter()
        .filter(|r| r.at >= from && r.at <= end)
        .collect();
    Report::of(&w)
}

/// The share of `a` among the requests answered by `a` and `b`.
fn share(rep: &Report, a: &str, b: &str) -> f64 {
    let (x, y) = (rep.count(a) as f64, rep.count(b) as f64);
    x / (x + y).max(1.0)
}

/// Like assert!, with both lvsd logs and the directors' IPVS tables in the message.
macro_rules! ensure {
    ($topo:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            panic!("{}", $topo.failure(&format!($($fmt)+)));
        }
    };
}

fn check(topo: &Topology, ok: bool, what: &str) {
    if !ok {
        panic!("{}", topo.failure(what));
    }
}

pub(crate) fn five_scenarios(mode: Mode, test: &str) {
    if lvs_lab::skip_unless_lab(test) || lvs_testkit::skip_unless(test, &["busybox", "ipvsadm"]) {
        return;
    }
    let t0 = Instant::now();
    let bins = Binaries::locate().expect("lvsd and lvs-realserver next to the test binary");
    let mut topo = Topology::build(mode, bins, 3).expect("build the topology");
    topo.start().expect("start both directors");
    let built = t0.elapsed();
    let traffic = Traffic::start(topo.client(), topo.service()).expect("start the client");
    ensure!(
        topo,
        wait_success_after(&traffic, Duration::ZERO, Duration::from_secs(10)),
        "no request through the VIP succeeded"
    );

    // 1. wrr 1:1, then 3:1 after a reload (SIGHUP to both directors).
    let even = window(&traffic, Duration::from_secs(2));
    eprintln!("{test} 1a weights 1:1: {even}");
    ensure!(topo, even.failures == 0, "{even}");
    ensure!(topo, even.served() >= 10, "too few requests: {even}");
    let s = share(&even, "rs1", "rs2");
    ensure!(
        topo,
        (0.4..=0.6).contains(&s),
        "1:1 gave rs1 a share of {s:.2}: {even}"
    );
    let from = traffic.now();
    topo.reload_pool(&[(0, 3), (1, 1)]).expect("reload to 3:1");
    let during = Report::of(&traffic.window(from, traffic.now()));
    ensure!(
        topo,
        during.failures == 0,
        "requests failed during the reload: {during}"
    );
    let skewed = window(&traffic, Duration::from_secs(2));
    eprintln!("{test} 1b weights 3:1 after reload: {skewed}");
    ensure!(topo, skewed.failures == 0, "{skewed}");
    let s = share(&skewed, "rs1", "rs2");
    ensure!(
        topo,
        (0.65..=0.85).contains(&s),
        "3:1 gave rs1 a share of {s:.2}: {skewed}"
    );

    // 2. The master dies under traffic: B takes the VIP, requests succeed again.
    let t_kill = traffic.now();
    topo.kill_director(Node::A).expect("kill director A");
    let took = wait_until(Duration::from_secs(10), STEP, || {
        topo.master() == Some(Node::B)
    });
    check(&topo, took, "B did not take the VIP within 10 s");
    let t_took = traffic.now() - t_kill;
    check(
        &topo,
        wait_success_after(&traffic, traffic.now(), Duration::from_secs(10)),
        "no request succeeded after B took over",
    );
    let after = window(&traffic, Duration::from_secs(1));
    ensure!(
        topo,
        after.failures == 0,
        "failures after the takeover: {after}"
    );
    let failover = Report::of(&traffic.window(t_kill, traffic.now()));
    let outage = failover.longest_outage_ms();
    eprintln!(
        "{test} 2 SIGKILL master: B holds the VIP after {} ms; outage window {outage} ms; {failover}",
        t_took.as_millis()
    );
    ensure!(topo, outage < 6000, "outage of {outage} ms: {failover}");

    // 3. A comes back and preempts: no request fails for longer than one retry.
    let t_back = traffic.now();
    topo.restart_director(Node::A).expect("restart director A");
    let preempted = wait_until(Duration::from_secs(20), STEP, || {
        topo.master() == Some(Node::A)
    });
    check(&topo, preempted, "A did not preempt within 20 s");
    std::thread::sleep(Duration::from_secs(1));
    let back = closed_window(&traffic, t_back);
    // NAT too: the sync group's two instances move together (their adverts go out before
    // either VIP is added), so the real servers' gateway follows the outer VIP at once.
    let retry_ms = ONE_RETRY_MS;
    eprintln!(
        "{test} 3 preemption: longest outage {} ms; {back}",
        back.longest_outage_ms()
    );
    ensure!(
        topo,
        back.outages
            .iter()
            .all(|o| o.to.is_some() && (o.failed == 1 || o.ms() < retry_ms)),
        "a request failed for longer than one retry ({retry_ms} ms) around the preemption: {back}"
    );

    // 4. A real server dies: the checker removes it; it returns and is added back.
    let rs2 = topo.servers()[1].addr();
    topo.server_mut(1).kill_httpd();
    let gone = wait_until(Duration::from_secs(10), STEP, || {
        !topo
            .director(Node::A)
            .ipvs_pool()
            .iter()
            .any(|&(a, w)| a == rs2 && w > 0)
    });
    check(&topo, gone, "the checker did not remove rs2 within 10 s");
    let t_detect = traffic.now();
    std::thread::sleep(Duration::from_secs(2));
    let after = Report::of(&traffic.window(t_detect, traffic.now()));
    eprintln!("{test} 4a rs2 down, after detection: {after}");
    ensure!(
        topo,
        after.failures == 0,
        "failures after the checker removed rs2: {after}"
    );
    ensure!(topo, after.count("rs2") == 0, "{after}");
    topo.server_mut(1)
        .start_httpd()
        .expect("restart rs2's httpd");
    let back = wait_until(Duration::from_secs(10), STEP, || {
        topo.director(Node::A)
            .ipvs_pool()
            .iter()
            .any(|&(a, w)| a == rs2 && w > 0)
    });
    check(&topo, back, "the checker did not add rs2 back within 10 s");
    let again = window(&traffic, Duration::from_secs(2));
    eprintln!("{test} 4b rs2 back: {again}");
    ensure!(topo, again.failures == 0, "{again}");
    ensure!(topo, again.count("rs2") > 0, "{again}");

    // 5. Reload with a third real server: no failed request.
    let from = traffic.now();
    topo.reload_pool(&[(0, 3), (1, 1), (2, 1)])
        .expect("reload with rs3");
    std::thread::sleep(Duration::from_secs(2));
    let added = Report::of(&traffic.window(from, traffic.now()));
    eprintln!("{test} 5 reload adding rs3: {added}");
    ensure!(topo, added.failures == 0, "{added}");
    ensure!(topo, added.count("rs3") > 0, "rs3 never answered: {added}");

    let run = traffic.stop().report();
    eprintln!(
        "{test}: built and started in {:.1} s, whole run {:.1} s; {run}",
        built.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
}
