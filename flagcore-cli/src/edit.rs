//! `flagcore kill` / `revive`: edit a snapshot file in place (`flagcore::edit`), atomically.

use std::path::Path;
use std::time::SystemTime;

use flagcore::edit::{self, EditError};
use flagcore::source::write_atomically;

use crate::{read, Failure};

/// Sets `enabled` on `flag` (false with a reason = kill, true without = revive), bumps the
/// version, and replaces the file only if the result is a valid snapshot.
pub(crate) fn set_enabled(
    file: &Path,
    flag: &str,
    kill_reason: Option<&str>,
) -> Result<(), Failure> {
    let bytes = read(file)?;
    let shown = file.display();
    let edited = match edit::set_enabled(&bytes, flag, kill_reason, SystemTime::now()) {
        Ok(edited) => edited,
        Err(EditError::Invalid(invalid)) => {
            let lines: Vec<String> = invalid
                .errors()
                .iter()
                .map(|e| format!("{shown}: {e}"))
                .collect();
            return Err(Failure::Check(format!(
                "{}\n{shown}: refusing to edit an invalid snapshot",
                lines.join("\n")
            )));
        }
        Err(other) => return Err(Failure::Check(format!("{shown}: {other}"))),
    };
    write_atomically(file, &edited.document)
        .map_err(|e| Failure::Usage(format!("{shown}: {e}")))?;
    let action = if kill_reason.is_some() {
        "killed"
    } else {
        "revived"
    };
    if edited.to_version == edited.from_version {
        // A flagd document: its flag's `state` changed, and it has no version.
        let state = if kill_reason.is_some() {
            "DISABLED"
        } else {
            "ENABLED"
        };
        println!("{shown}: {action} {flag} (state {state})");
    } else {
        println!(
            "{shown}: {action} {flag} (version {} -> {})",
            edited.from_version, edited.to_version
        );
    }
    Ok(())
}
