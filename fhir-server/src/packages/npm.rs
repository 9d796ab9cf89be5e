//! Fetching a package tarball with the machine's npm.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// Runs `npm pack SPEC` into `dest` and returns the tarball's path.
///
/// # Errors
/// A clear error when npm is not installed, or when it cannot fetch (for
/// example offline), with the end of npm's own message.
pub fn pack(spec: &str, dest: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new("npm")
        .args(["pack", spec, "--silent", "--pack-destination"])
        .arg(dest)
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "npm was not found on PATH; it fetches the FHIR R4 definitions. \
             Install Node.js and npm (on Debian: apt-get install npm) and run this again"
        ),
        Err(e) => return Err(e).context("running npm"),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(6)..].join("\n  ");
        bail!(
            "npm could not fetch {spec} (is the npm registry reachable from here?)\n  npm said: {tail}"
        );
    }
    let name = String::from_utf8_lossy(&output.stdout)
        .lines()
        .rev()
        .find(|l| l.ends_with(".tgz"))
        .map(str::trim)
        .map(str::to_string)
        .context("npm pack printed no tarball name")?;
    let path = dest.join(name);
    if !path.is_file() {
        bail!("npm pack reported {} but it is not there", path.display());
    }
    Ok(path)
}
