//! What can fail in the controller: [`Error`] for one reconcile, with the reasons used for
//! events, conditions and metrics, and [`StartError`] for the keys and start-up. Each error
//! says its cause once: API errors show the API server's message, not kube's debug output.

/// Why one SealedSecret could not be unsealed into its Secret. Messages never carry secret
/// values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid SealedSecret: {0}")]
    Invalid(String),
    #[error(transparent)]
    Unseal(#[from] shared::unseal::UnsealError),
    #[error("Resource \"{0}\" already exists and is not managed by SealedSecret")]
    ForeignSecret(String),
    /// The Secret changed under a write decided on what was known of it (it appeared, was
    /// deleted or was replaced), and a read found it gone: decided again once the watch has
    /// seen the change.
    #[error("Secret \"{0}\" changed while being written; trying again")]
    SecretChanging(String),
    /// The reference's text (tools and its suite match on it); the key is `namespace/name`.
    #[error(
        "Error updating {0}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret."
    )]
    Immutable(String),
    #[error("reading Secret: {}", api_text(.0))]
    ReadSecret(kube::Error),
    #[error("reading SealedSecret: {}", api_text(.0))]
    ReadSealedSecret(kube::Error),
    #[error("writing Secret: {}", api_text(.0))]
    WriteSecret(kube::Error),
    #[error("writing status: {}", api_text(.0))]
    WriteStatus(kube::Error),
    #[error("unseal task failed: {0}")]
    UnsealTask(String),
}

/// What can fail with the sealing keys: at start-up, on renewal.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("reading the key Secrets: {}", api_text(.0))]
    ReadKeys(kube::Error),
    #[error("storing a new key Secret: {}", api_text(.0))]
    StoreKey(kube::Error),
    #[error("unsupported --key-size {0}")]
    KeySize(u32),
    #[error("generating a key: {0}")]
    GenerateKey(String),
}

/// The API server's own message for an API error; kube's text for anything else. Escaped,
/// since it can quote object fields.
pub fn api_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => {
            shared::text::escape(&status.message)
        }
        other => shared::text::escape(&other.to_string()),
    }
}

/// Whether an API error is the API server refusing the request as such (bad input), which
/// sending it again cannot cure, rather than a conflict, a server error or no answer at all.
fn refused(e: &kube::Error) -> bool {
    match e {
        // Not 403: right after an API server restart, RBAC can refuse for a moment.
        kube::Error::Api(status) => matches!(status.code, 400 | 422),
        _ => false,
    }
}

/// Whether the API server refused a write because the Secret is not the one it was decided
/// on: it exists after all (create), is gone, or has another UID or version.
pub fn is_stale_write(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            matches!(s.code, 404 | 409)
                || (s.code == 422
                    && s.details
                        .iter()
                        .flat_map(|d| &d.causes)
                        .any(|c| c.field == "metadata.uid"))
        }
        _ => false,
    }
}

/// Whether the API server refused a write to an immutable Secret's data.
pub fn is_immutable_refusal(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 422
        && s.message.contains("immutable when `immutable` is set"))
}

impl Error {
    /// The condition message, as the reference words it (Argo CD and kubectl show it).
    pub fn status_text(&self) -> String {
        match self {
            Error::ForeignSecret(_) => format!("failed update: {self}"),
            _ => self.to_string(),
        }
    }

    /// The event note, as the reference words it.
    pub fn event_text(&self) -> String {
        match self {
            Error::Invalid(_) | Error::Unseal(_) | Error::UnsealTask(_) => {
                format!("Failed to unseal: {self}")
            }
            _ => self.to_string(),
        }
    }

    /// Short reason for metric labels (the reference's names).
    pub fn metric_reason(&self) -> &'static str {
        match self {
            Error::Invalid(_) | Error::Unseal(_) | Error::UnsealTask(_) => "unseal",
            Error::ForeignSecret(_) => "unmanaged",
            Error::Immutable(_)
            | Error::WriteSecret(_)
            | Error::ReadSecret(_)
            | Error::ReadSealedSecret(_)
            | Error::SecretChanging(_) => "update",
            Error::WriteStatus(_) => "status",
        }
    }

    /// Event reason, as the reference emits.
    pub fn event_reason(&self) -> &'static str {
        match self {
            Error::Invalid(_) | Error::Unseal(_) | Error::UnsealTask(_) => "ErrUnsealFailed",
            _ => "ErrUpdateFailed",
        }
    }

    /// Condition reason (the reference leaves it empty; kstatus and humans like one).
    pub fn condition_reason(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "InvalidSealedSecret",
            Error::Unseal(_) => "UnsealFailed",
            Error::ForeignSecret(_) => "SecretNotOwned",
            Error::Immutable(_) => "SecretImmutable",
            _ => "UpdateFailed",
        }
    }

    /// Failures that only a change of the object (or of the keys, which retries every object)
    /// can cure: not retried on a timer, so a bad object costs nothing while it stays bad.
    pub fn is_permanent(&self) -> bool {
        match self {
            Error::Invalid(_)
            | Error::Unseal(_)
            | Error::Immutable(_)
            | Error::ForeignSecret(_) => true,
            Error::WriteSecret(e) => refused(e),
            _ => false,
        }
    }

    /// Whether the API server refused the controller's credentials or role (401, 403).
    pub fn is_forbidden(&self) -> bool {
        match self {
            Error::ReadSecret(e)
            | Error::ReadSealedSecret(e)
            | Error::WriteSecret(e)
            | Error::WriteStatus(e) => {
                matches!(e, kube::Error::Api(s) if s.code == 401 || s.code == 403)
            }
            _ => false,
        }
    }

    /// Whether the API server could not be reached or answered with a server error: what an
    /// outage looks like, logged at a bounded rate rather than once per object.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::ReadSecret(e)
            | Error::ReadSealedSecret(e)
            | Error::WriteSecret(e)
            | Error::WriteStatus(e) => {
                !matches!(e, kube::Error::Api(s) if s.code < 500 && s.code != 429)
            }
            _ => false,
        }
    }
}
