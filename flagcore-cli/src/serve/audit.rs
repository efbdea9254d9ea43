//! `--audit FILE`: one JSON line per kill or revive over HTTP, appended and synced before
//! the request is answered. The latest entries are also kept in memory for the console
//! (with or without a file).

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::Failure;

/// How many entries the console shows.
const RECENT: usize = 200;

/// How much of the end of an existing audit file is read at start for the console.
const TAIL_BYTES: u64 = 1 << 20;

/// One kill or revive.
pub(crate) struct Entry<'a> {
    pub(crate) time: SystemTime,
    pub(crate) operator: &'a str,
    pub(crate) kill: bool,
    pub(crate) flag: &'a str,
    pub(crate) reason: Option<&'a str>,
    /// The snapshot version after the edit.
    pub(crate) version: u64,
}

impl Entry<'_> {
    /// The line, members in the order people read them.
    fn to_line(&self) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "{{\"time\":{},\"operator\":{},\"action\":{},\"flag\":{},\"reason\":{},\"version\":{}}}",
            text(&flagcore::format_rfc3339(self.time)),
            text(self.operator),
            text(if self.kill { "kill" } else { "revive" }),
            text(self.flag),
            self.reason.map_or_else(|| "null".to_owned(), text),
            self.version
        )
    }
}

pub(crate) struct Audit {
    file: Option<(PathBuf, Mutex<File>)>,
    /// The latest entries, oldest first: those in the file at start, then each one added.
    recent: Mutex<VecDeque<serde_json::Value>>,
}

impl Audit {
    /// Opens (or creates) the audit file for appending, and reads its latest entries.
    pub(crate) fn open(path: Option<&Path>) -> Result<Audit, Failure> {
        let mut recent = VecDeque::new();
        let file = match path {
            None => None,
            Some(path) => {
                let failure =
                    |e: std::io::Error| Failure::Usage(format!("--audit {}: {e}", path.display()));
                let mut file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(failure)?;
                // The console shows the latest entries: read the end of a long file only.
                let length = file.metadata().map_err(failure)?.len();
                let start = length.saturating_sub(TAIL_BYTES);
                file.seek(SeekFrom::Start(start)).map_err(failure)?;
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).map_err(failure)?;
                let text = String::from_utf8_lossy(&bytes);
                let whole_lines = if start == 0 {
                    &text[..]
                } else {
                    text.split_once('\n').map_or("", |(_cut, rest)| rest)
                };
                for line in whole_lines.lines() {
                    if let Ok(entry @ serde_json::Value::Object(_)) = serde_json::from_str(line) {
                        push(&mut recent, entry);
                    }
                }
                // A line cut short by a crash must not swallow the next entry.
                if !text.is_empty() && !text.ends_with('\n') {
                    file.seek(SeekFrom::End(0)).map_err(failure)?;
                    file.write_all(b"\n").map_err(failure)?;
                    file.sync_data().map_err(failure)?;
                }
                Some((path.to_path_buf(), Mutex::new(file)))
            }
        };
        Ok(Audit {
            file,
            recent: Mutex::new(recent),
        })
    }

    /// Appends `entry` to the file and syncs it, then keeps it for the console.
    pub(crate) fn record(&self, entry: &Entry<'_>) -> Result<(), String> {
        let mut line = entry.to_line();
        let value = serde_json::from_str(&line).unwrap_or(serde_json::Value::Null);
        if let Some((path, file)) = &self.file {
            line.push('\n');
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.write_all(line.as_bytes())
                .and_then(|()| file.sync_data())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        push(
            &mut self.recent.lock().unwrap_or_else(PoisonError::into_inner),
            value,
        );
        Ok(())
    }

    /// The latest entries, newest first.
    pub(crate) fn recent(&self) -> Vec<serde_json::Value> {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .cloned()
            .collect()
    }
}

fn push(recent: &mut VecDeque<serde_json::Value>, entry: serde_json::Value) {
    if recent.len() == RECENT {
        recent.pop_front();
    }
    recent.push_back(entry);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_existing_file_is_continued_on_a_new_line_and_its_tail_shown() {
        let path =
            std::env::temp_dir().join(format!("flagcore-audit-{}.jsonl", std::process::id()));
        let mut text: String = (0..300)
            .map(|v| format!("{{\"flag\":\"f\",\"version\":{v}}}\n"))
            .collect();
        text.push_str("{\"flag\":\"cut sh"); // a crash in the middle of a line
        std::fs::write(&path, &text).unwrap();
        let Ok(audit) = Audit::open(Some(&path)) else {
            panic!("cannot open {}", path.display());
        };
        let recent = audit.recent();
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0]["version"], 299);
        let entry = Entry {
            time: std::time::UNIX_EPOCH,
            operator: "ana",
            kill: false,
            flag: "f",
            reason: None,
            version: 300,
        };
        audit.record(&entry).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        let last = written.lines().last().unwrap();
        assert_eq!(
            last,
            r#"{"time":"1970-01-01T00:00:00.000Z","operator":"ana","action":"revive","flag":"f","reason":null,"version":300}"#
        );
        assert_eq!(audit.recent()[0]["version"], 300);
        std::fs::remove_file(&path).unwrap();
    }
}
