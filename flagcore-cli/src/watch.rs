//! `flagcore watch`: follow one evaluation as a file or URL changes, one JSON line per
//! change, so an operator sees a rollout step or a kill land.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use flagcore::source::{FileOptions, FileSource, HttpOptions, HttpSource, Outcome, Status};
use flagcore::EvaluationContext;

use crate::{attrs, explain, Failure};

pub(crate) fn run(
    source: &str,
    flag: &str,
    key: Option<&str>,
    raw_attrs: &[String],
    interval_ms: Option<u64>,
) -> Result<(), Failure> {
    if interval_ms == Some(0) {
        return Err(Failure::Usage("--interval-ms must be at least 1".into()));
    }
    let owned = attrs::parse(raw_attrs)?;
    let store = Arc::new(crate::new_store());
    let (changed, wake) = mpsc::channel::<()>();
    let report = move |status: &Status| {
        match &status.last_outcome {
            Some(Outcome::Failed) => {
                if let Some(error) = &status.last_error {
                    eprintln!("flagcore watch: {}: {error}", status.source);
                }
            }
            Some(Outcome::Skipped { offered, current }) => eprintln!(
                "flagcore watch: {}: skipped version {offered}, not newer than {current}",
                status.source
            ),
            _ => {}
        }
        let _ = changed.send(());
    };
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    // Held while watching: dropping a source stops it.
    let started: std::io::Result<Box<dyn std::any::Any>> = if is_url {
        let interval = Duration::from_millis(interval_ms.unwrap_or(1000));
        let options = HttpOptions::new()
            .interval(interval)
            .backoff(
                interval.min(Duration::from_secs(1)),
                Duration::from_secs(30),
            )
            .on_status(report);
        HttpSource::start(Arc::clone(&store), source, options).map(|s| Box::new(s) as _)
    } else {
        let mut options = FileOptions::new().on_status(report);
        if let Some(ms) = interval_ms {
            options = options.poll_every(Duration::from_millis(ms));
        }
        FileSource::start(Arc::clone(&store), source, options).map(|s| Box::new(s) as _)
    };
    let _running = started.map_err(|e| Failure::Usage(format!("{source}: {e}")))?;

    let attributes = attrs::borrow(&owned);
    let ctx = match key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(&attributes);
    let mut last_line = String::new();
    loop {
        let snapshot = store.snapshot();
        let mut line = explain::to_json(&snapshot.explain(flag, &ctx));
        line["version"] = snapshot.version().into();
        let line = line.to_string();
        if line != last_line {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(()); // the reader went away
            }
            last_line = line;
        }
        match wake.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}
