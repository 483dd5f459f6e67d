//! High availability on the real cluster: two replicas elect a leader on a Lease; only the
//! leader makes keys and reconciles; a follower serves the HTTP API; a killed leader is replaced
//! within the lease; a rolling restart hands over without two replicas reconciling at once.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use support::*;
use tests::cluster::{self, wait_for};

/// The shipped lease, for the failover measurement.
const LEASE: &str = "--leader-elect-lease-duration=15s";

async fn pair(env: &Env, args: &[&str]) -> Result<(Unsealer, Unsealer)> {
    let (a, b) = tokio::join!(env.unsealer(args), env.unsealer(args));
    Ok((a?, b?))
}

/// Which of the two leads, once one does.
async fn leader_of(a: &Unsealer, b: &Unsealer) -> Result<bool> {
    wait_for("a leader", TIMEOUT, || async {
        Ok(match (a.leads(), b.leads()) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            (true, true) => anyhow::bail!("both replicas lead"),
            (false, false) => None,
        })
    })
    .await
}

#[tokio::test]
async fn two_replicas_started_at_once_make_one_key() -> Result<()> {
    let Some(env) = Env::start("uns-ha-key").await? else {
        return Ok(());
    };
    let (a, b) = pair(&env, &[]).await?;
    leader_of(&a, &b).await?;
    ensure!(
        env.key_secrets().await?.len() == 1,
        "{} keys",
        env.key_secrets().await?.len()
    );
    // Both serve the same certificate: the follower loaded the leader's key read-only.
    wait_for("the same certificate on both", TIMEOUT, || async {
        Ok((a.cert_pem().await? == b.cert_pem().await?).then_some(()))
    })
    .await?;
    drop((a, b));
    env.finish().await
}

/// Kill -9 the leader midway through syncing 500 objects: the follower takes over within the
/// lease, every Secret ends right, and while the leader is down the follower answers `seal`
/// (certificate and verify).
#[tokio::test]
async fn a_killed_leader_is_replaced_within_the_lease() -> Result<()> {
    let Some(env) = Env::start("uns-ha-kill").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let (a, b) = pair(&env, &[LEASE]).await?;
    let a_leads = leader_of(&a, &b).await?;
    let (leader, follower) = if a_leads { (a, b) } else { (b, a) };
    let cert = follower.cert().await?;
    const N: usize = 500;
    let mut want = BTreeMap::new();
    let mut objects = Vec::new();
    for i in 0..N {
        let name = format!("s-{i:03}");
        let value = env.plain(&name);
        objects.push(seal_items(&cert, &ns, &name, &[("v", &value)])?);
        want.insert(name, expected(&[("v", &value)]));
    }
    futures::future::try_join_all(objects.iter().map(|ss| env.create(ss))).await?;
    wait_for(
        "a fifth of the Secrets",
        Duration::from_secs(120),
        || async { Ok((env.unsealed_secrets(&ns).await?.len() >= N / 5).then_some(())) },
    )
    .await?;
    leader.kill().await?;
    let killed = Instant::now();

    // The follower still serves seal: the certificate and /v1/verify.
    ensure!(
        follower.cert_pem().await?
            == cluster::http_get(&follower.url("/v1/cert.pem"))
                .await
                .map(String::from_utf8)??
    );
    let body = serde_json::to_vec(&objects[0])?;
    let verify = reqwest_like_post(&follower.url("/v1/verify"), &body).await?;
    ensure!(verify == 200, "verify on the follower: {verify}");

    wait_for("the follower to lead", Duration::from_secs(60), || async {
        Ok(follower.leads().then_some(()))
    })
    .await?;
    let takeover = killed.elapsed();
    wait_for("every Secret right", Duration::from_secs(180), || async {
        let have: BTreeMap<String, BTreeMap<String, String>> = env
            .unsealed_secrets(&ns)
            .await?
            .iter()
            .map(|s| (s.metadata.name.clone().unwrap_or_default(), data(s)))
            .collect();
        Ok((have == want).then_some(()))
    })
    .await
    .context("after the failover")?;
    let done = killed.elapsed();
    eprintln!(
        "leader killed with {N} objects mid-sync: the follower led after {:.1} s, all Secrets right after {:.1} s",
        takeover.as_secs_f64(),
        done.as_secs_f64()
    );
    ensure!(
        takeover <= Duration::from_secs(15) + Duration::from_secs(2),
        "takeover took {takeover:?}"
    );
    drop(follower);
    env.finish().await
}

/// A rolling restart: the new replica starts, the old one is terminated (SIGTERM, as the
/// kubelet does) and releases the lease; the new one leads at once, and no replica ever leads
/// while the other does.
#[tokio::test]
async fn a_rolling_restart_hands_over_at_once() -> Result<()> {
    let Some(env) = Env::start("uns-ha-roll").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let old = env.unsealer(&[LEASE]).await?;
    wait_for("the first replica to lead", TIMEOUT, || async {
        Ok(old.leads().then_some(()))
    })
    .await?;
    let cert = old.cert().await?;
    for i in 0..20 {
        let name = format!("r-{i:02}");
        env.create(&seal_items(&cert, &ns, &name, &[("v", &env.plain(&name))])?)
            .await?;
    }
    for i in 0..20 {
        env.wait_secret(&ns, &format!("r-{i:02}")).await?;
    }
    let versions = |secrets: Vec<k8s_openapi::api::core::v1::Secret>| {
        secrets
            .into_iter()
            .map(|s| {
                (
                    s.metadata.name.unwrap_or_default(),
                    s.metadata.resource_version,
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let before = versions(env.unsealed_secrets(&ns).await?);
    ensure!(before.len() == 20, "{} Secrets", before.len());
    let new = env.unsealer(&[LEASE]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(!new.leads(), "the new replica leads beside the old one");
    let old_log = old.log_path.clone();
    let stopping = Instant::now();
    let status = old.terminate().await?;
    ensure!(status.success(), "the old replica exited with {status}");
    ensure!(
        std::fs::read_to_string(old_log)?.contains("lease released"),
        "the lease was not released on SIGTERM"
    );
    wait_for("the new replica to lead", TIMEOUT, || async {
        Ok(new.leads().then_some(()))
    })
    .await?;
    let handover = stopping.elapsed();
    eprintln!(
        "rolling restart: the new replica led {:.1} s after SIGTERM",
        handover.as_secs_f64()
    );
    // The follower looks again when the lease it saw would have run out (kube-lease-manager
    // sleeps until then), so the handover takes at most the lease; the old replica stopped
    // reconciling before it released.
    ensure!(
        handover <= Duration::from_secs(17),
        "handover took {handover:?}"
    );
    // The new leader looks at every object and writes none: all are current (counted by
    // resourceVersion, which every write changes).
    wait_for(
        "the new leader to look at every object",
        TIMEOUT,
        || async {
            let n = new
                .metric("sealed_secrets_controller_unseal_requests_total")
                .await?
                .unwrap_or(0.0);
            Ok((n >= 20.0).then_some(()))
        },
    )
    .await?;
    let after = versions(env.unsealed_secrets(&ns).await?);
    ensure!(after == before, "Secrets written again in the handover");
    // The new leader finds everything current and still works.
    let v = env.plain("after");
    env.create(&seal_items(&cert, &ns, "after", &[("v", &v)])?)
        .await?;
    ensure!(data(&env.wait_secret(&ns, "after").await?) == expected(&[("v", &v)]));
    drop(new);
    env.finish().await
}

/// POST `body` to `url`, returning the status code (curl, as `cluster::http_get` uses).
async fn reqwest_like_post(url: &str, body: &[u8]) -> Result<u16> {
    let dir = std::env::temp_dir().join(format!("ha-post-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("body.json");
    std::fs::write(&file, body)?;
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-binary",
        ])
        .arg(format!("@{}", file.display()))
        .args(["-H", "Content-Type: application/json", url])
        .output()
        .await?;
    std::fs::remove_dir_all(&dir)?;
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}
