//! Events through kube's [`Recorder`], with its memory bounded. A recorder keeps every event it
//! published in the last 6 minutes, to turn a repeat into a series (a patch of the count); on a
//! first sync of 20,000 objects that is 20,000 events of about 4 KiB each in its cache, tens of
//! MiB. Here a recorder is replaced
//! by a fresh one after [`PER_RECORDER`] publishes, so at most that many are kept (twice that
//! while publishes of the old one finish); a repeat across a replacement becomes a new event
//! instead of a series entry. The controller publishes one event per change of state, so
//! repeats are rare anyway.

use std::sync::Mutex;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, Recorder, Reporter};

/// Publishes per recorder.
pub const PER_RECORDER: usize = 128;

pub struct Events {
    client: Client,
    reporter: Reporter,
    current: Mutex<(Recorder, usize)>,
}

impl Events {
    pub fn new(client: Client, reporter: Reporter) -> Events {
        let recorder = Recorder::new(client.clone(), reporter.clone());
        Events {
            client,
            reporter,
            current: Mutex::new((recorder, 0)),
        }
    }

    /// Publishes `event` about `reference`, as [`Recorder::publish`].
    pub async fn publish(
        &self,
        event: &Event,
        reference: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let recorder = {
            // A poisoned lock only held a recorder and a count; carry on with them.
            let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
            if current.1 >= PER_RECORDER {
                *current = (Recorder::new(self.client.clone(), self.reporter.clone()), 0);
            }
            current.1 += 1;
            current.0.clone()
        };
        recorder.publish(event, reference).await
    }
}
