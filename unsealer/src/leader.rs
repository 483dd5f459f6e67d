//! Leader election on a `coordination.k8s.io` Lease in the controller's namespace, with
//! kube-lease-manager (the maintained crate on kube 5; kube-leader-election is still on kube 4).
//! Every replica serves the HTTP API with the keys loaded read-only; only the leader reconciles,
//! renews keys and generates them. The lease is released on shutdown, so a rolling restart hands
//! over at once instead of after the lease runs out, and never has two replicas reconciling.

use std::future::Future;
use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tracing::{info, warn};

/// How the replicas elect their leader.
#[derive(Clone, Debug)]
pub struct Election {
    /// Off: this replica always leads (one replica, as the reference).
    pub enabled: bool,
    pub lease_name: String,
    pub namespace: String,
    /// How long a lease holds without renewal: the longest a failover takes.
    pub lease_duration: Duration,
    /// Who this replica is (the Pod name where there is one).
    pub identity: String,
}

/// This replica's identity: `POD_NAME` or the host name, and a random suffix, so that two
/// processes on one host (tests) differ too.
pub fn identity() -> String {
    let base = std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unsealer".to_owned());
    format!("{base}-{:08x}", rand::random::<u32>())
}

/// Runs `work` while this replica holds the lease (again each time it gets it back), until
/// `shutdown`; then stops the work and releases the lease.
pub async fn run<W, F>(
    client: Client,
    election: Election,
    mut work: W,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), kube_lease_manager::LeaseManagerError>
where
    W: FnMut() -> F,
    F: Future<Output = ()>,
{
    if !election.enabled {
        tokio::select! {
            () = work() => {}
            () = shutdown => {}
        }
        return Ok(());
    }
    let seconds = election.lease_duration.as_secs().max(2);
    let manager = LeaseManagerBuilder::new(client, &election.lease_name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(seconds)
        // Renew a third of the way before expiry: well inside the lease on a slow API server.
        .with_grace((seconds / 3).max(1))
        .build()
        .await?;
    let (mut leading, task) = manager.watch().await;
    info!(lease = %election.lease_name, identity = %election.identity, "waiting for the lease");
    let mut shutdown = std::pin::pin!(shutdown);
    'outer: loop {
        while !*leading.borrow_and_update() {
            tokio::select! {
                changed = leading.changed() => if changed.is_err() { break 'outer },
                () = &mut shutdown => break 'outer,
            }
        }
        info!(identity = %election.identity, "leading: reconciling and managing keys");
        let lost = async {
            loop {
                if leading.changed().await.is_err() || !*leading.borrow_and_update() {
                    return;
                }
            }
        };
        tokio::select! {
            () = work() => break 'outer,
            () = lost => warn!("lost the lease: stopped reconciling"),
            () = &mut shutdown => break 'outer,
        }
    }
    // Closing the channel makes the manager release the lease.
    drop(leading);
    match tokio::time::timeout(Duration::from_secs(5), task).await {
        Ok(Ok(Ok(_))) => info!("lease released"),
        Ok(Ok(Err(e))) => warn!(error = %e, "releasing the lease failed"),
        Ok(Err(e)) => warn!(error = %e, "lease task failed"),
        Err(_) => warn!("releasing the lease timed out"),
    }
    Ok(())
}
