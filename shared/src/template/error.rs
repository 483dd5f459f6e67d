//! The errors rendering reports and the limits it enforces.

/// Largest value, final or intermediate, that rendering builds: a Secret holds at most 1 MiB
/// in all, so a larger value could never be written.
pub const MAX_RENDERED_LEN: usize = 1 << 20;
/// Bytes that the templates of one object may build in all, every intermediate value counted:
/// what bounds the memory and time one hostile SealedSecret can cost.
pub const MAX_BUILT_PER_OBJECT: usize = 16 << 20;
/// Evaluation steps (commands and function calls) that the templates of one object may take.
pub const MAX_STEPS_PER_OBJECT: u64 = 100_000;
/// Deepest nesting accepted of parenthesised pipelines, and separately of control
/// structures (`if`, `range`, `with`).
pub const MAX_NESTING: usize = 64;
/// Deepest nesting of `template` (and `block`) calls. Go allows 100,000; a template that
/// recurses deeper than this is refused rather than rendered.
pub const MAX_TEMPLATE_DEPTH: usize = 32;
/// Most elements one list may have (`until`, `seq`, `append`, `splitList`, ...).
pub const MAX_LIST_LEN: usize = 1 << 16;

/// Why a template could not be rendered. Messages carry template positions (byte offsets),
/// construct, function and field names, never an item value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template is malformed (Go would not parse it either).
    #[error("template syntax error at offset {offset}: {reason}")]
    Syntax { offset: usize, reason: String },
    /// Another construct outside the supported subset.
    #[error("unsupported {construct} at offset {offset}")]
    Unsupported { construct: String, offset: usize },
    /// A name that is neither a Go builtin nor an available sprig function.
    #[error("unknown function {name:?} at offset {offset}")]
    UnknownFunction { name: String, offset: usize },
    /// A Go builtin or sprig function that this renderer does not implement.
    #[error("unsupported function {name:?} at offset {offset}")]
    UnsupportedFunction { name: String, offset: usize },
    /// A function called with too few or too many arguments.
    #[error("wrong number of args for {function} at offset {offset}: want {want} got {got}")]
    WrongArgCount {
        function: String,
        want: String,
        got: usize,
        offset: usize,
    },
    /// A function argument of the wrong type (or a missing value where a string is needed).
    #[error(
        "wrong type for argument of {function} at offset {offset}: expected {expected}, got {got}"
    )]
    WrongArgType {
        function: String,
        expected: String,
        got: String,
        offset: usize,
    },
    /// A function failed (Go would return an error or panic).
    #[error("error calling {function} at offset {offset}: {reason}")]
    CallFailed {
        function: String,
        reason: String,
        offset: usize,
    },
    /// Evaluation failed outside a function call.
    #[error("cannot execute template at offset {offset}: {reason}")]
    Exec { offset: usize, reason: String },
    /// A value would exceed [`MAX_RENDERED_LEN`].
    #[error("rendered value would exceed {limit} bytes")]
    TooLarge { limit: usize },
    /// Parentheses nested deeper than [`MAX_NESTING`].
    #[error("parentheses nested deeper than {limit} at offset {offset}")]
    TooDeep { limit: usize, offset: usize },
    /// The object's templates together would build more than [`MAX_BUILT_PER_OBJECT`] bytes.
    #[error("the templates of this object would build more than {limit} bytes")]
    TooMuchOutput { limit: usize },
    /// `template` calls nested deeper than [`MAX_TEMPLATE_DEPTH`].
    #[error("template calls nested deeper than {limit} at offset {offset}")]
    TooDeepCalls { limit: usize, offset: usize },
    /// `fail` was called: the template's own message.
    #[error("error calling fail at offset {offset}: {message}")]
    Fail { message: String, offset: usize },
    /// A function needs the clock or randomness, and the caller passed none.
    #[error("function {name:?} at offset {offset} needs {what}, which this renderer was not given")]
    NoEnvironment {
        name: String,
        what: &'static str,
        offset: usize,
    },
    /// The object's templates together would take more than [`MAX_STEPS_PER_OBJECT`] steps.
    #[error("the templates of this object would take more than {limit} evaluation steps")]
    TooManySteps { limit: u64 },
}

pub(super) fn syntax(offset: usize, reason: impl Into<String>) -> TemplateError {
    TemplateError::Syntax {
        offset,
        reason: reason.into(),
    }
}

pub(super) fn unsupported(offset: usize, construct: impl Into<String>) -> TemplateError {
    TemplateError::Unsupported {
        construct: construct.into(),
        offset,
    }
}

pub(super) fn exec_error(offset: usize, reason: impl Into<String>) -> TemplateError {
    TemplateError::Exec {
        offset,
        reason: reason.into(),
    }
}

pub(super) fn too_large() -> TemplateError {
    TemplateError::TooLarge {
        limit: MAX_RENDERED_LEN,
    }
}

/// How a function failed; turned into a [`TemplateError`] with its name and position.
pub(super) enum FnError {
    Failed(String),
    Unsupported(String),
    TooLarge,
    /// `fail`'s message (the template's text, never an item value).
    Fail(String),
    /// The environment lacks the clock (`"a clock"`) or randomness.
    NoEnv(&'static str),
    /// A budget ran out, or another error already complete.
    Template(TemplateError),
}

impl From<TemplateError> for FnError {
    fn from(e: TemplateError) -> Self {
        FnError::Template(e)
    }
}

impl FnError {
    pub(super) fn at(self, function: &str, offset: usize) -> TemplateError {
        match self {
            FnError::Failed(reason) => TemplateError::CallFailed {
                function: function.into(),
                reason,
                offset,
            },
            FnError::Unsupported(what) => unsupported(offset, what),
            FnError::TooLarge => too_large(),
            FnError::Fail(message) => TemplateError::Fail { message, offset },
            FnError::NoEnv(what) => TemplateError::NoEnvironment {
                name: function.into(),
                what,
                offset,
            },
            FnError::Template(e) => e,
        }
    }
}

pub(super) fn failed(reason: &str) -> FnError {
    FnError::Failed(reason.into())
}

pub(super) fn check_len(len: u128) -> Result<(), FnError> {
    if len > MAX_RENDERED_LEN as u128 {
        Err(FnError::TooLarge)
    } else {
        Ok(())
    }
}
