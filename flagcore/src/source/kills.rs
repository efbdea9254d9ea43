//! [`KillsFileSource`]: a host's kill switches, in a file an operator (or a config tool)
//! edits, applied as runtime kills within milliseconds of a change.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use xxhash_rust::xxh3::xxh3_64;

use super::file::{spawn_watching, FileOptions, WatchMode};
use super::status::{Outcome, Reporter, SourceError, SourceErrorKind, Status};
use super::Worker;
use crate::Store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostKill {
    flag: String,
    reason: String,
}

/// Applies a kills file to a store and follows its changes: a JSON list of
/// `{"flag": NAME, "reason": TEXT}` objects.
///
/// ```json
/// [{"flag": "new-checkout", "reason": "INC-4711: payment errors on this host"}]
/// ```
///
/// Each listed flag is [killed](Store::kill) with the reason, tagged with the file's path
/// (`INC-4711: ... [kills file /etc/my-service/kills.json]`) so [`Store::kills`] shows
/// where a kill came from. A flag removed from the list is revived — only if this file
/// killed it: a kill made otherwise (the API, a binding) stays until revived the same way.
/// Kills by this file survive snapshot reloads like any kill, and restarts with a
/// [`DiskCache`](super::DiskCache) on the snapshot source.
///
/// A missing file changes nothing (delete entries, or write `[]`, to revive); an invalid
/// one is reported in the [`status`](KillsFileSource::status) and changes nothing either.
/// This is the host path of a kill; the fleet path is the snapshot itself (`enabled:
/// false`, which `flagcore kill FILE FLAG` writes).
///
/// ```no_run
/// use std::sync::Arc;
/// use flagcore::source::{FileOptions, KillsFileSource};
///
/// let store = Arc::new(flagcore::Store::new());
/// let kills = KillsFileSource::start(Arc::clone(&store), "/etc/my-service/kills.json", FileOptions::new())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct KillsFileSource {
    path: PathBuf,
    reporter: Arc<Reporter>,
    mode: WatchMode,
    worker: Worker,
}

impl std::fmt::Debug for KillsFileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KillsFileSource")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl KillsFileSource {
    /// Applies the file now and on every change. `options.cache` is not used here: a
    /// snapshot source's cache persists every kill, including these.
    pub fn start(
        store: Arc<Store>,
        path: impl Into<PathBuf>,
        options: FileOptions,
    ) -> io::Result<KillsFileSource> {
        let path = path.into();
        let reporter = Arc::new(Reporter::new(
            path.display().to_string(),
            options.status_callback(),
        ));
        super::status::register(&store, &reporter);
        let mut reader = KillsFile {
            tag: format!(" [kills file {}]", path.display()),
            path: path.clone(),
            store,
            reporter: Arc::clone(&reporter),
            last_applied: None,
        };
        let (worker, mode) =
            spawn_watching(&path, &options, "flagcore-kills", move |_| reader.attempt())?;
        Ok(KillsFileSource {
            path,
            reporter,
            mode,
            worker,
        })
    }

    /// The source's state: last success, last error, consecutive failures.
    pub fn status(&self) -> Status {
        self.reporter.status()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether changes are noticed by the platform's watcher or by polling.
    pub fn watch_mode(&self) -> WatchMode {
        self.mode
    }

    /// Stops watching and waits for the thread to finish (dropping does the same). The
    /// kills it made stay.
    ///
    /// Takes `&self`, so a binding or a service can stop a source it shares and still read
    /// its last [`status`](Self::status); stopping again does nothing.
    pub fn stop(&self) {
        self.worker.stop();
    }
}

struct KillsFile {
    path: PathBuf,
    /// Appended to each reason: marks the kills this file made.
    tag: String,
    store: Arc<Store>,
    reporter: Arc<Reporter>,
    last_applied: Option<u64>,
}

impl KillsFile {
    fn attempt(&mut self) {
        let result = self.read_and_apply();
        self.reporter.record(result);
    }

    fn read_and_apply(&mut self) -> Result<Outcome, SourceError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Unchanged),
            Err(e) => {
                return Err(SourceError::new(
                    SourceErrorKind::Io,
                    format!("{}: {e}", self.path.display()),
                ))
            }
        };
        let hash = xxh3_64(&bytes);
        if self.last_applied == Some(hash) {
            return Ok(Outcome::Unchanged);
        }
        let wanted = parse(&bytes).map_err(|message| {
            SourceError::new(
                SourceErrorKind::InvalidKills,
                format!("{}: {message}", self.path.display()),
            )
        })?;
        self.apply(&wanted);
        self.last_applied = Some(hash);
        Ok(Outcome::Loaded { version: None })
    }

    fn apply(&self, wanted: &BTreeMap<String, String>) {
        let current = self.store.kills();
        for (flag, reason) in wanted {
            let tagged = format!("{reason}{}", self.tag);
            match current.iter().find(|k| &k.flag == flag) {
                // Already killed: by this file with this reason, or by someone else, whose
                // reason and time stay.
                Some(kill) if kill.reason == tagged || !kill.reason.ends_with(&self.tag) => {}
                _ => {
                    log::warn!("{}: killing {flag}: {reason}", self.path.display());
                    self.store.kill(flag, &tagged);
                }
            }
        }
        for kill in &current {
            if kill.reason.ends_with(&self.tag) && !wanted.contains_key(&kill.flag) {
                log::warn!("{}: reviving {}", self.path.display(), kill.flag);
                self.store.revive(&kill.flag);
            }
        }
    }
}

/// The kills file as flag → reason; an error names the problem.
fn parse(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let list: Vec<HostKill> = serde_json::from_slice(bytes).map_err(|e| {
        format!("{e}; expected a JSON list of {{\"flag\": NAME, \"reason\": TEXT}}")
    })?;
    let mut wanted = BTreeMap::new();
    for (i, kill) in list.into_iter().enumerate() {
        if kill.flag.is_empty() {
            return Err(format!("[{i}].flag: empty flag name"));
        }
        if wanted.insert(kill.flag.clone(), kill.reason).is_some() {
            return Err(format!("[{i}].flag: `{}` is listed twice", kill.flag));
        }
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_format_is_strict() {
        assert_eq!(parse(b"[]").unwrap().len(), 0);
        let ok = parse(br#"[{"flag": "a", "reason": "r"}]"#).unwrap();
        assert_eq!(ok["a"], "r");
        for (bad, expected) in [
            (&br#"[{"flag": "a"}]"#[..], "missing field `reason`"),
            (
                br#"[{"flag": "a", "reason": "r", "x": 1}]"#,
                "unknown field `x`",
            ),
            (
                br#"[{"flag": "", "reason": "r"}]"#,
                "[0].flag: empty flag name",
            ),
            (
                br#"[{"flag": "a", "reason": "r"}, {"flag": "a", "reason": "s"}]"#,
                "[1].flag: `a` is listed twice",
            ),
            (br#"{"flag": "a""#, "expected a JSON list"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }
}
