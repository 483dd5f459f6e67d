//! What can fail in the controller, with the reason used for events, conditions and metrics.

/// A reconcile or start-up failure. Messages never carry secret values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid SealedSecret: {0}")]
    Invalid(String),
    #[error("{0}")]
    Unseal(#[from] shared::unseal::UnsealError),
    #[error("Resource \"{0}\" already exists and is not managed by SealedSecret")]
    ForeignSecret(String),
    #[error(
        "the target Secret {0:?} is immutable and its data differs: delete it and the controller will recreate it"
    )]
    Immutable(String),
    #[error("writing Secret: {0}")]
    Apply(#[source] kube::Error),
    #[error("writing status: {0}")]
    Status(#[source] kube::Error),
    #[error("key Secrets: {0}")]
    Keys(#[source] kube::Error),
    #[error("{0}")]
    Config(String),
    #[error("unseal task failed: {0}")]
    UnsealTask(String),
}

impl Error {
    /// Short reason for metric labels (the reference's names).
    pub fn metric_reason(&self) -> &'static str {
        match self {
            Error::Invalid(_) | Error::Unseal(_) | Error::UnsealTask(_) => "unseal",
            Error::ForeignSecret(_) => "unmanaged",
            Error::Immutable(_) | Error::Apply(_) => "update",
            Error::Status(_) => "status",
            Error::Keys(_) | Error::Config(_) => "fetch",
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

    /// Failures that only a change of the object (or of the keys) can cure: not retried on a
    /// timer, so a bad object costs nothing while it stays bad.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::Invalid(_) | Error::Immutable(_))
    }
}
