//! All file and terminal I/O of the CLI (the certificate's URL fetch aside, in `cert`): where
//! the input comes from ([`Source`]) and where the document goes ([`Sink`]), reads capped by
//! size ([`Limit`]), atomic replacement of output files through symlinks (one file, or a set
//! written all or none: [`write_files`]), and I/O errors in Go's words. What is read is
//! decoded by `decode`, what is written was printed by `print`; neither does I/O. Imports no
//! other module of the crate.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};

/// Where the input comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// Reads the whole input, refusing more than `limit`.
    pub fn read(&self, limit: Limit) -> Result<Vec<u8>> {
        match self {
            Source::Stdin => {
                if io::stdin().is_terminal() {
                    // As kubeseal does: a prompt-less wait on a terminal looks like a hang.
                    eprintln!("(tty detected: expecting json/yaml k8s resource in stdin)");
                }
                read_capped(io::stdin().lock(), limit)
                    .context("read stdin")?
                    .ok_or_else(|| too_large("stdin", limit))
            }
            Source::File(path) => read_file(path, limit),
        }
    }
}

/// Where the document goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    /// Replaced atomically, only once the whole document exists.
    File(PathBuf),
}

/// File permissions for what is written: sealed output is public, decrypted output is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    Public,
    Private,
}

impl Sink {
    /// Writes the whole document. A closed stdout (`seal ... | head`) comes back as a
    /// `BrokenPipe` error, which `main` treats as success.
    pub fn write(&self, bytes: &[u8], sensitivity: Sensitivity) -> Result<()> {
        match self {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()?;
                Ok(())
            }
            Sink::File(path) => write_atomic(path, bytes, sensitivity),
        }
    }
}

/// An I/O error in Go's words, e.g. `open x.pem: no such file or directory`: one line that
/// names the path and no `(os error 2)`.
pub fn io_error(op: &str, path: &Path, e: &io::Error) -> anyhow::Error {
    anyhow!("{op} {}: {}", path.display(), go_reason(e))
}

/// What went wrong, as Go words it: `no such file or directory`, without `(os error 2)`.
pub fn go_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text.to_lowercase(),
            }
        }
    }
}

/// A size cap on something read whole. Every cap sits far above any legitimate input: it is
/// there so that a wrong path (`--cert /dev/zero`, a log file, a disk image) fails at once
/// with a clear error instead of reading until memory runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    /// What is limited, for the error: "... the limit for {what}".
    pub what: &'static str,
}

const MIB: u64 = 1024 * 1024;

impl Limit {
    /// `--cert` (file, `file://` URL or http(s) body): a PEM certificate is 1-3 KiB, a
    /// bundle a few of those.
    pub const CERT: Limit = Limit {
        bytes: MIB,
        what: "a certificate",
    };
    /// A `--recovery-private-key` file: a PEM key is about 3 KiB and a key backup (a `List`
    /// of key Secrets, as `kubectl get -o yaml` prints it) about 8 KiB per key, so 16 MiB
    /// holds some 2,000 keys: decades of monthly key renewals.
    pub const PRIVATE_KEY: Limit = Limit {
        bytes: 16 * MIB,
        what: "a private key file",
    };
    /// `-f` / stdin: a Secret holds at most 1 MiB, and a file of 1,000 Secrets is a real use
    /// case, so 64 MiB.
    pub const INPUT: Limit = Limit {
        bytes: 64 * MIB,
        what: "the input",
    };
    /// `--merge-into`: one SealedSecret, at most about 1.4 times its Secret's 1 MiB once
    /// sealed and base64-encoded, plus about 700 bytes per item; the input's cap is ample.
    pub const MERGE_INTO: Limit = Limit {
        bytes: 64 * MIB,
        what: "a --merge-into file",
    };
    /// A kubeconfig: kubectl's are a few KiB, large ones with embedded certificates a few
    /// hundred.
    pub const KUBECONFIG: Limit = Limit {
        bytes: 16 * MIB,
        what: "a kubeconfig",
    };
    /// The value `--raw` seals (`--from-file`, or `-f` / stdin): a Secret holds at most
    /// 1 MiB, so a larger value could never be unsealed.
    pub const RAW_VALUE: Limit = Limit {
        bytes: shared::seal::MAX_SECRET_SIZE as u64,
        what: "a Secret value",
    };
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.bytes.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.bytes / MIB)
        } else {
            write!(f, "{} bytes", self.bytes)
        }
    }
}

/// The error for `source` (a path, `stdin` or a URL) over `limit`.
pub fn too_large(source: &str, limit: Limit) -> anyhow::Error {
    anyhow!(
        "read {source}: larger than {limit}, the limit for {}",
        limit.what
    )
}

/// Reads at most `limit` bytes; `None` if there is more.
fn read_capped(reader: impl io::Read, limit: Limit) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(limit.bytes + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit.bytes).then_some(buf))
}

/// Reads a whole file, refusing one larger than `limit`.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| io_error("open", path, &e))?;
    let meta = file.metadata().map_err(|e| io_error("read", path, &e))?;
    if meta.is_dir() {
        bail!("read {}: is a directory", path.display());
    }
    // A regular file says its size up front; devices and pipes are read up to the cap.
    if meta.is_file() && meta.len() > limit.bytes {
        return Err(too_large(&path.display().to_string(), limit));
    }
    read_capped(file, limit)
        .map_err(|e| io_error("read", path, &e))?
        .ok_or_else(|| too_large(&path.display().to_string(), limit))
}

/// One line for the user on stderr (a summary), beside the logs.
pub fn tell(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// A file to look at, and whether it was named on the command line (rather than found in a
/// directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub named: bool,
}

/// The files of `paths`: each file as given, and in each directory (recursively, in name
/// order) the `*.yaml`, `*.yml` and `*.json` files, skipping names that start with a dot
/// (`.git`) and symlinked directories (which could loop).
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<Found>> {
    fn walk(dir: &Path, out: &mut Vec<Found>) -> Result<()> {
        let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
            .map_err(|e| io_error("open", dir, &e))?
            .collect::<io::Result<_>>()
            .map_err(|e| io_error("read", dir, &e))?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io_error("stat", &path, &e))?;
            if kind.is_dir() {
                walk(&path, out)?;
            } else if (kind.is_file() || kind.is_symlink() && path.is_file())
                && path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(Found { path, named: false });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| io_error("stat", path, &e))?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(Found {
                path: path.clone(),
                named: true,
            });
        }
    }
    Ok(out)
}

/// Temp file in the target's directory, fsync, rename: a reader sees the old file or the new
/// one, never a torn one, and a failure leaves the old file as it was (renameio's guarantee).
///
/// A symlink is followed, as opening it for writing would: the file it points to is
/// replaced, in that file's directory, and the link stays a link. A dangling link creates
/// the file it names, provided that file's directory exists. A device, FIFO or socket
/// (`-w /dev/stdout`, `/dev/null`) cannot be replaced, and is written to as it is.
pub fn write_atomic(path: &Path, bytes: &[u8], sensitivity: Sensitivity) -> Result<()> {
    if let Ok(meta) = fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| io_error("write", path, &e));
    }
    let target = resolve_symlinks(path).map_err(|e| io_error("write", path, &e))?;
    replace_file(&target, bytes, sensitivity).map_err(|e| {
        if target == path {
            io_error("write", path, &e)
        } else {
            let named = format!("{} (symlink to {})", path.display(), target.display());
            io_error("write", Path::new(&named), &e)
        }
    })
}

/// Most links followed in a chain, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// The file `path` ends up naming once its last component is followed through every
/// symlink. A relative link target is relative to the link's directory; directory
/// components are left to the kernel, which resolves them the same way on every open.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            // Not a link, or nothing there (yet): this is the file to write.
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

fn replace_file(path: &Path, bytes: &[u8], sensitivity: Sensitivity) -> io::Result<()> {
    let tmp = stage(path, bytes, sensitivity)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// `bytes` in a synced temp file beside `path`, with `path`'s permissions, ready to be
/// renamed over it. On failure nothing is left behind.
fn stage(path: &Path, bytes: &[u8], sensitivity: Sensitivity) -> io::Result<PathBuf> {
    let dir = parent_dir(path);
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let (tmp_path, mut tmp) = create_temp(&dir, &file_name.to_string_lossy())?;
    let result = (|| -> io::Result<()> {
        tmp.write_all(bytes)?;
        set_permissions(&tmp, path, sensitivity)?;
        tmp.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp_path),
        Err(e) => {
            drop(tmp);
            let _ = fs::remove_file(&tmp_path);
            Err(e)
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Why a set of files ([`write_files`]) was not written.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WriteFilesError {
    /// Before any file was replaced: nothing was written.
    #[error("write {path}: {reason}; no file was written")]
    Staging { path: String, reason: String },
    #[error("write {path}: the same file as {other}; no file was written")]
    SameFile { path: String, other: String },
    /// A rename failed: the files before it are new, the others as they were.
    #[error("write {path}: {reason}; already replaced: {replaced}; the others are unchanged")]
    Renaming {
        path: String,
        reason: String,
        replaced: String,
    },
}

/// A temp file ready to be renamed over `target`; `shown` names it in errors.
struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    shown: String,
}

/// Several files written all or none: every one is first written and synced to a temp file in
/// its target's directory (missing parent directories are made), and only once all are ready
/// are they renamed into place. A failure before the renames removes the temps and the
/// directories made for them, so nothing is written. Symlinks are followed as by
/// [`write_atomic`]; an existing target that is not a regular file (a directory, a device) is
/// refused, since a rename cannot replace it.
///
/// Residual window: the renames are separate syscalls, so for the moment they take a reader
/// can see some files new and others old, and a crash, or a rename failing (the directory
/// removed or made read-only meanwhile), leaves the set mixed; the error then says which
/// files were replaced. To keep that window small, everything that can fail (making
/// directories, writing, syncing, checking the targets) happens before, and the renames run
/// back to back with nothing in between.
pub fn write_files(
    files: &[(PathBuf, Vec<u8>)],
    sensitivity: Sensitivity,
) -> Result<(), WriteFilesError> {
    let mut staged = Vec::with_capacity(files.len());
    let mut made_dirs = Vec::new();
    if let Err(e) = stage_all(files, sensitivity, &mut staged, &mut made_dirs) {
        for s in &staged {
            let _ = fs::remove_file(&s.tmp);
        }
        // Deepest first; one that is not empty (someone else's file) stays.
        for dir in made_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        return Err(e);
    }
    for (i, s) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(&s.tmp, &s.target) {
            for rest in &staged[i..] {
                let _ = fs::remove_file(&rest.tmp);
            }
            let replaced: Vec<&str> = staged[..i].iter().map(|s| s.shown.as_str()).collect();
            return Err(WriteFilesError::Renaming {
                path: s.shown.clone(),
                reason: go_reason(&e),
                replaced: if replaced.is_empty() {
                    "none".to_owned()
                } else {
                    replaced.join(", ")
                },
            });
        }
    }
    Ok(())
}

fn stage_all(
    files: &[(PathBuf, Vec<u8>)],
    sensitivity: Sensitivity,
    staged: &mut Vec<Staged>,
    made_dirs: &mut Vec<PathBuf>,
) -> Result<(), WriteFilesError> {
    // Where each file really lands, so that two paths naming one file (through `..` or a
    // symlink) are refused rather than one silently replacing the other.
    let mut landing: Vec<(PathBuf, String)> = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let failed = |shown: &str, e: &io::Error| WriteFilesError::Staging {
            path: shown.to_owned(),
            reason: go_reason(e),
        };
        let shown = path.display().to_string();
        make_parents(path, made_dirs).map_err(|e| failed(&shown, &e))?;
        let target = resolve_symlinks(path).map_err(|e| failed(&shown, &e))?;
        let shown = if target == *path {
            shown
        } else {
            format!("{shown} (symlink to {})", target.display())
        };
        if let Ok(meta) = fs::metadata(&target)
            && !meta.is_file()
        {
            return Err(WriteFilesError::Staging {
                path: shown,
                reason: if meta.is_dir() {
                    "is a directory"
                } else {
                    "not a regular file"
                }
                .to_owned(),
            });
        }
        let lands = fs::canonicalize(parent_dir(&target))
            .map(|dir| dir.join(target.file_name().unwrap_or_default()))
            .map_err(|e| failed(&shown, &e))?;
        if let Some((_, other)) = landing.iter().find(|(l, _)| *l == lands) {
            return Err(WriteFilesError::SameFile {
                path: shown,
                other: other.clone(),
            });
        }
        landing.push((lands, shown.clone()));
        let tmp = stage(&target, bytes, sensitivity).map_err(|e| failed(&shown, &e))?;
        staged.push(Staged { tmp, target, shown });
    }
    Ok(())
}

/// Makes the missing directories above `path`, outermost first, noting each one made.
fn make_parents(path: &Path, made: &mut Vec<PathBuf>) -> io::Result<()> {
    let missing: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .take_while(|dir| !dir.as_os_str().is_empty() && fs::metadata(dir).is_err())
        .collect();
    for dir in missing.into_iter().rev() {
        match fs::create_dir(dir) {
            Ok(()) => made.push(dir.to_path_buf()),
            // Made by someone else meanwhile: theirs, not to remove.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn create_temp(dir: &Path, file_name: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(".{file_name}.seal-{pid}-{attempt}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Private until the final permissions are set, so plaintext is never exposed.
            options.mode(0o600);
        }
        match options.open(&candidate) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Keeps an existing file's mode; a new public file gets 0644 less the umask-free default,
/// a new private one 0600.
fn set_permissions(tmp: &File, target: &Path, sensitivity: Sensitivity) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = match (sensitivity, fs::metadata(target)) {
            (Sensitivity::Private, _) => 0o600,
            (Sensitivity::Public, Ok(meta)) => meta.permissions().mode() & 0o7777,
            (Sensitivity::Public, Err(_)) => 0o644,
        };
        tmp.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (tmp, target, sensitivity);
    Ok(())
}

/// A directory only its owner can enter (0700) for plaintext that has to touch a disk: the
/// file `seal edit` opens in the editor. In memory where possible: under `$XDG_RUNTIME_DIR`,
/// else `/dev/shm`, when it exists and is writable; else under the system's temp directory.
/// Removed with everything in it (an editor's swap and backup files too) when dropped, so
/// also on an error or a panic.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    pub fn create() -> Result<PrivateDir> {
        let mut bases = Vec::new();
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            bases.push(PathBuf::from(dir));
        }
        bases.push(PathBuf::from("/dev/shm"));
        bases.push(std::env::temp_dir());
        let mut last = None;
        for base in bases {
            if !base.is_dir() {
                continue;
            }
            match Self::create_in(&base) {
                Ok(dir) => return Ok(dir),
                Err(e) => last = Some((base, e)),
            }
        }
        Err(match last {
            Some((base, e)) => io_error("create a private directory in", &base, &e),
            None => anyhow!("no directory to create a private directory in"),
        })
    }

    fn create_in(base: &Path) -> io::Result<PrivateDir> {
        let mut last = None;
        for _ in 0..100 {
            let path = base.join(format!("seal-edit-{:016x}", rand::random::<u64>()));
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt as _;
                builder.mode(0o700);
            }
            // Never an existing directory (or a link someone planted): a fresh one, or an error.
            match builder.create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free directory name")))
    }

    /// Creates `name` in the directory, mode 0600, holding `bytes`.
    pub fn write_new(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.path.join(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options
            .open(&path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| io_error("write", &path, &e))?;
        Ok(path)
    }

    /// Reads a file of the directory whole, into one buffer that is wiped when dropped.
    pub fn read(&self, path: &Path, limit: Limit) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut file = File::open(path).map_err(|e| io_error("open", path, &e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error("read", path, &e))?
            .len();
        if len > limit.bytes {
            return Err(too_large(&path.display().to_string(), limit));
        }
        // One allocation: a buffer that grew would leave copies of the plaintext behind.
        let size = usize::try_from(len).unwrap_or(usize::MAX);
        let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(size.saturating_add(1)));
        (&mut file)
            .take(limit.bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| io_error("read", path, &e))?;
        if buf.len() as u64 > limit.bytes {
            return Err(too_large(&path.display().to_string(), limit));
        }
        Ok(buf)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        // Overwritten first, where that is cheap: a disk-backed temp directory keeps the
        // blocks of a file that is only unlinked.
        if let Ok(entries) = fs::read_dir(&self.path) {
            for entry in entries.flatten() {
                let path = entry.path();
                if let Ok(meta) = fs::symlink_metadata(&path)
                    && meta.is_file()
                    && meta.len() <= Limit::INPUT.bytes
                    && let Ok(mut f) = OpenOptions::new().write(true).open(&path)
                {
                    let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
                    let _ = f.write_all(&zeros).and_then(|()| f.sync_all());
                }
            }
        }
        if let Err(e) = fs::remove_dir_all(&self.path) {
            tracing::warn!(
                "{}; remove it by hand: it holds plaintext",
                io_error("remove", &self.path, &e)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_no_further() {
        let limit = Limit {
            bytes: 4,
            what: "a test",
        };
        assert_eq!(read_capped(&b"abcd"[..], limit).unwrap().unwrap(), b"abcd");
        assert_eq!(read_capped(&b"abcde"[..], limit).unwrap(), None);
        assert_eq!(Limit::CERT.to_string(), "1 MiB");
        assert_eq!(Limit::INPUT.to_string(), "64 MiB");
        assert_eq!(limit.to_string(), "4 bytes");
    }

    #[test]
    fn atomic_write_replaces_and_keeps_mode() {
        let dir = std::env::temp_dir().join(format!("seal-out-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.yaml");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new", Sensitivity::Public).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file left behind"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
