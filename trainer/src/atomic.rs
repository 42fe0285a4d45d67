//! Files written whole or not at all. Every file kiln writes goes to a temporary file in the
//! same directory, which is renamed over the target only once it is complete: a failure (a bad
//! row half way, a full disk, a kill) leaves the previous file, or none, and no temporary
//! behind.

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Whether a file is flushed to the disk before it replaces the target: outputs a user keeps
/// are; checkpoints, rewritten at every step, are not (a kill, unlike a power cut, loses
/// nothing the kernel has been given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` before the rename.
    Synced,
    /// Left to the kernel.
    Buffered,
}

/// Writes `path` with `write`, through a temporary file renamed over `path` once `write`
/// succeeded. `action` names the write in errors ("write the predictions").
pub fn write_with(
    path: &Path,
    action: &'static str,
    durability: Durability,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map_or("kiln".into(), |n| n.to_string_lossy().into_owned());
    let io = |e: std::io::Error| Error::io(action, path, e);
    let mut tmp = temporary_beside(dir, &format!(".{file_name}."), ".tmp").map_err(io)?;
    {
        let mut buffered = BufWriter::new(tmp.as_file_mut());
        write(&mut buffered)?;
        buffered.flush().map_err(io)?;
    }
    if durability == Durability::Synced {
        tmp.as_file().sync_all().map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// A temporary file in `dir`, readable as a file `std::fs::write` makes would be (the umask
/// applies; tempfile's default is owner-only), so the renamed output keeps the usual mode.
pub fn temporary_beside(
    dir: &Path,
    prefix: &str,
    suffix: &str,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Writes `bytes` to `path` whole or not at all (see [`write_with`]).
pub fn write_bytes(
    path: &Path,
    action: &'static str,
    durability: Durability,
    bytes: &[u8],
) -> Result<()> {
    write_with(path, action, durability, |w| {
        w.write_all(bytes).map_err(|e| Error::io(action, path, e))
    })
}

/// Whether `a` and `b` name the same existing file (through links, `..` or hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) if a == b => true,
        _ => same_inode(a, b),
    }
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let failed = write_with(&path, "write", Durability::Synced, |w| {
            w.write_all(b"half a file").unwrap();
            Err(Error::Usage {
                message: "stopped".into(),
                fix: "none".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary was left: {names:?}");
        write_bytes(&path, "write", Durability::Buffered, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(same_file(&path, &dir.path().join(".").join("out.csv")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_ne!(mode & 0o044, 0, "written owner-only: {mode:o}");
        }
        assert!(!same_file(&path, &dir.path().join("other.csv")));
    }
}
