//! The user's editor, run on a file as `kubectl edit` runs it: `$KUBE_EDITOR`, else `$EDITOR`,
//! else `vi`; the command split into words as a shell splits simple ones (`code --wait`,
//! `"/opt/My Editor/bin/edit" -w`), run without a shell, with the file's path as its last
//! argument. While the caller holds [`Signals`] (from before the file is written until it is
//! removed), SIGINT is the editor's to handle (vi takes Ctrl-C as a key; git leaves it to the
//! editor too), and SIGTERM or SIGHUP stop the editor and end the run with an error, so that
//! the file is removed before the process goes; afterwards each of the three does again what
//! it does by default.

use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::{SigId, flag, low_level};

/// Why the editor did not run to a successful end. Names the editor and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("{from} {command:?} cannot be split into words (an unclosed quote?)")]
    Unsplittable { from: &'static str, command: String },
    #[error("{from} is set to only blanks")]
    Empty { from: &'static str },
    #[error(
        "editor {program:?} not found ({from}; set KUBE_EDITOR or EDITOR to the editor to use)"
    )]
    NotFound { program: String, from: &'static str },
    #[error("editor {program:?} cannot be run: {reason}")]
    CannotRun { program: String, reason: String },
    #[error("the editor {program:?} exited with status {code}")]
    Failed { program: String, code: i32 },
    #[error("the editor {program:?} was stopped by signal {signal}")]
    Killed { program: String, signal: String },
    #[error("{signal} received while editing: the editor was stopped")]
    Interrupted { signal: &'static str },
    #[error("cannot catch {signal} for the editor's run: {reason}")]
    Signals {
        signal: &'static str,
        reason: String,
    },
    #[error("waiting for the editor {program:?}: {reason}")]
    Wait { program: String, reason: String },
}

/// The editor command, split into words.
#[derive(Debug)]
pub struct Editor {
    words: Vec<String>,
    /// Where it came from, for errors: `from KUBE_EDITOR`, `from EDITOR`, `the default`.
    from: &'static str,
}

/// How often the wait looks at the caught signals.
const POLL: Duration = Duration::from_millis(20);

impl Editor {
    /// kubectl's order: `KUBE_EDITOR`, `EDITOR`, then `vi`. An empty variable counts as unset.
    pub fn from_env() -> Result<Editor, EditorError> {
        let found = ["KUBE_EDITOR", "EDITOR"].into_iter().find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        });
        let (from, command) = match found {
            Some(("KUBE_EDITOR", v)) => ("from KUBE_EDITOR", v),
            Some((_, v)) => ("from EDITOR", v),
            None => ("the default", "vi".to_owned()),
        };
        Editor::parse(&command, from)
    }

    fn parse(command: &str, from: &'static str) -> Result<Editor, EditorError> {
        let words = shlex::split(command).ok_or_else(|| EditorError::Unsplittable {
            from,
            command: command.to_owned(),
        })?;
        if words.is_empty() {
            return Err(EditorError::Empty { from });
        }
        Ok(Editor { words, from })
    }

    fn program(&self) -> String {
        self.words[0].clone()
    }

    /// Runs the editor on `file` and waits for it. Ok only if it exits with status 0.
    pub fn run(&self, file: &Path, signals: &Signals) -> Result<(), EditorError> {
        signals.check()?;
        let mut child = Command::new(&self.words[0])
            .args(&self.words[1..])
            .arg(file)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => EditorError::NotFound {
                    program: self.program(),
                    from: self.from,
                },
                _ => EditorError::CannotRun {
                    program: self.program(),
                    reason: crate::io::go_reason(&e),
                },
            })?;
        let status = loop {
            if let Err(e) = signals.check() {
                // The editor holds the plaintext: it goes too, before the caller removes it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(EditorError::Wait {
                        program: self.program(),
                        reason: crate::io::go_reason(&e),
                    });
                }
            }
        };
        self.outcome(status)
    }

    fn outcome(&self, status: ExitStatus) -> Result<(), EditorError> {
        if status.success() {
            return Ok(());
        }
        if let Some(code) = status.code() {
            return Err(EditorError::Failed {
                program: self.program(),
                code,
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt as _;
            if let Some(signal) = status.signal() {
                return Err(EditorError::Killed {
                    program: self.program(),
                    signal: low_level::signal_name(signal)
                        .map_or_else(|| signal.to_string(), str::to_owned),
                });
            }
        }
        Err(EditorError::Failed {
            program: self.program(),
            code: -1,
        })
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught while a plaintext file exists. Dropped, each does its
/// default again (signal-hook cannot uninstall its handler; an action that runs the default,
/// armed on drop, stands in for it).
pub struct Signals {
    /// The number of the SIGTERM or SIGHUP that arrived, 0 for none.
    stop: Arc<AtomicUsize>,
    actions: Vec<SigId>,
    restore: Arc<AtomicBool>,
}

impl Signals {
    pub fn catch() -> Result<Signals, EditorError> {
        let mut caught = Signals {
            stop: Arc::new(AtomicUsize::new(0)),
            actions: Vec::new(),
            restore: Arc::new(AtomicBool::new(false)),
        };
        let failed = |signal: i32, e: std::io::Error| EditorError::Signals {
            signal: low_level::signal_name(signal).unwrap_or("a signal"),
            reason: e.to_string(),
        };
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // Registered first, and kept: once armed, the default action.
            flag::register_conditional_default(signal, Arc::clone(&caught.restore))
                .map_err(|e| failed(signal, e))?;
            let action = if signal == SIGINT {
                // Left to the editor: noted nowhere, only kept from ending this process.
                flag::register(signal, Arc::new(AtomicBool::new(false)))
            } else {
                flag::register_usize(signal, Arc::clone(&caught.stop), signal as usize)
            };
            caught.actions.push(action.map_err(|e| failed(signal, e))?);
        }
        Ok(caught)
    }

    /// An error if SIGTERM or SIGHUP arrived.
    pub fn check(&self) -> Result<(), EditorError> {
        match self.stop.load(Ordering::SeqCst) {
            0 => Ok(()),
            n => Err(EditorError::Interrupted {
                signal: i32::try_from(n)
                    .ok()
                    .and_then(low_level::signal_name)
                    .unwrap_or("a signal"),
            }),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.actions.drain(..) {
            low_level::unregister(id);
        }
        self.restore.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_as_a_shell_splits_simple_words() {
        let words = |c: &str| Editor::parse(c, "from EDITOR").map(|e| e.words);
        assert_eq!(words("vi").unwrap(), ["vi"]);
        assert_eq!(words("code --wait").unwrap(), ["code", "--wait"]);
        assert_eq!(
            words("\"/opt/My Editor/edit\" -w  'a b'").unwrap(),
            ["/opt/My Editor/edit", "-w", "a b"]
        );
        assert!(matches!(
            words("vim '"),
            Err(EditorError::Unsplittable { .. })
        ));
        assert!(matches!(words("  "), Err(EditorError::Empty { .. })));
    }
}
