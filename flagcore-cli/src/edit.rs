//! `flagcore kill` / `revive`: edit a snapshot file in place, atomically, keeping its order.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use flagcore::source::write_atomically;
use flagcore::{Json, JsonArena, Number};

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
    if let Err(invalid) = flagcore::validate(&bytes) {
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
    let arena = JsonArena::new();
    let mut document =
        Json::parse(&bytes, &arena).map_err(|e| Failure::Check(format!("{shown}: {e}")))?;
    let version = match document.get("version") {
        Some(Json::Number(Number::Int(v))) => *v,
        _ => {
            return Err(Failure::Check(format!(
                "{shown}: version is not an integer"
            )))
        }
    };
    let Some(entry) = document.get_mut("flags").and_then(|f| f.get_mut(flag)) else {
        return Err(Failure::Check(format!("{shown}: no flag `{flag}`")));
    };
    if let Some(enabled) = entry.get_mut("enabled") {
        *enabled = Json::Bool(kill_reason.is_none());
    }
    set_metadata(entry, kill_reason, &arena);
    let new_version = version
        .checked_add(1)
        .ok_or_else(|| Failure::Check(format!("{shown}: version cannot grow past {version}")))?;
    if let Some(v) = document.get_mut("version") {
        *v = Json::Number(Number::Int(new_version));
    }
    let mut text = serde_json::to_vec_pretty(&document)
        .map_err(|e| Failure::Usage(format!("{shown}: {e}")))?;
    text.push(b'\n');
    if let Err(invalid) = flagcore::validate(&text) {
        return Err(Failure::Check(format!(
            "{shown}: the edit would be invalid: {invalid}"
        )));
    }
    write_atomically(file, &text).map_err(|e| Failure::Usage(format!("{shown}: {e}")))?;
    let action = if kill_reason.is_some() {
        "killed"
    } else {
        "revived"
    };
    println!("{shown}: {action} {flag} (version {version} -> {new_version})");
    Ok(())
}

/// Records the kill reason and time in the flag's metadata (the format's place for
/// operator notes), or removes them on revive.
fn set_metadata<'a>(flag: &mut Json<'a>, kill_reason: Option<&str>, arena: &'a JsonArena) {
    let Json::Object(members) = flag else {
        return;
    };
    if !members.iter().any(|(k, _)| k == "metadata") {
        if kill_reason.is_none() {
            return;
        }
        members.push(("metadata".into(), Json::Object(arena.vec_from([]))));
    }
    let Some(Json::Object(metadata)) = flag.get_mut("metadata") else {
        return;
    };
    metadata.retain(|(k, _)| k != "kill_reason" && k != "killed_at");
    if let Some(reason) = kill_reason {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        metadata.push(("kill_reason".into(), Json::String(reason.to_owned().into())));
        metadata.push(("killed_at".into(), Json::Number(Number::Int(now as i64))));
    }
}
