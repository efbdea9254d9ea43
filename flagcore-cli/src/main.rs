//! `flagcore`: the operators' tool. Results go to stdout, diagnostics to stderr; exit 0 = ok,
//! 1 = the snapshot is invalid or the check failed, 2 = usage or I/O error (and for
//! `analyze`, 3 = the experiment's split is broken).

mod analyze;
mod attrs;
mod diff;
mod edit;
mod explain;
mod html;
mod serve;
mod simulate;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "flagcore",
    version,
    about = "Validate, explain, operate, watch and serve flagcore snapshots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How flagd documents bucket `fractional`: `v2`, flagd's current bucketing (the
    /// default), or `v3`, by the CBOR encoding of the key (docs/format.md §9.4.3).
    #[arg(long, global = true, value_name = "v2|v3", value_parser = parse_fractional)]
    flagd_fractional: Option<flagcore::flagd::FractionalVersion>,
}

/// The `--flagd-fractional` given, for every store the command makes.
static FLAGD_FRACTIONAL: std::sync::OnceLock<flagcore::flagd::FractionalVersion> =
    std::sync::OnceLock::new();

/// An empty store, bucketing flagd documents as `--flagd-fractional` says.
pub(crate) fn new_store() -> flagcore::Store {
    let store = flagcore::Store::new();
    store.set_flagd_fractional(FLAGD_FRACTIONAL.get().copied().unwrap_or_default());
    store
}

fn parse_fractional(text: &str) -> Result<flagcore::flagd::FractionalVersion, String> {
    text.parse()
}

#[derive(Subcommand)]
enum Command {
    /// Check snapshot files; print every error as `FILE: PATH: message`.
    Validate {
        /// Snapshot files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Evaluate FLAG for one context and show why it served what it served.
    Explain {
        /// Snapshot file.
        file: PathBuf,
        /// Flag name.
        flag: String,
        /// Targeting key (omit for a context without one).
        #[arg(long)]
        key: Option<String>,
        /// An attribute, NAME=VALUE; VALUE is a number or boolean when it parses as one.
        #[arg(long = "attr", value_name = "NAME=VALUE")]
        attrs: Vec<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Evaluate as of this instant (RFC 3339 with an offset): which step of a scheduled
        /// rollout is in force. Default: the current time.
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<SystemTime>,
    },
    /// Show the split FLAG produces over N synthetic keys (`user-0` .. `user-N-1`).
    Simulate {
        /// Snapshot file.
        file: PathBuf,
        /// Flag name.
        flag: String,
        /// How many synthetic users.
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        /// Prefix of the synthetic targeting keys.
        #[arg(long, default_value = "user-")]
        key_prefix: String,
        /// An attribute every user has, NAME=VALUE.
        #[arg(long = "attr", value_name = "NAME=VALUE")]
        attrs: Vec<String>,
        /// Evaluate as of this instant (RFC 3339 with an offset), e.g. to see the split of
        /// tomorrow's schedule step. Default: the current time.
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<SystemTime>,
    },
    /// Compare two snapshots: what changed, and which contexts move from which variant to
    /// which, per flag and per segment of NEW. Exit 1 when NEW's version does not increase
    /// or a flag moves more than --max-changed.
    Diff {
        /// The snapshot serving now.
        old: PathBuf,
        /// The snapshot about to replace it.
        new: PathBuf,
        /// Contexts to evaluate, JSON Lines of {"key": ..., "attrs": {...}} (a sample of
        /// real traffic). Default: --users synthetic keys.
        #[arg(long, value_name = "FILE", conflicts_with = "users")]
        contexts: Option<PathBuf>,
        /// How many synthetic keys (`user-0` .. `user-N-1`, no attributes) without --contexts.
        #[arg(long, value_name = "N", default_value_t = 100_000)]
        users: u64,
        /// Evaluate as of this instant (RFC 3339 with an offset). Default: the current time.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Fail (exit 1) when any flag moves more than PERCENT % of its contexts.
        #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
        max_changed: Option<f64>,
    },
    /// Disable FLAG in the file (enabled: false, version + 1), writing atomically.
    Kill {
        /// Snapshot file, edited in place.
        file: PathBuf,
        /// Flag name.
        flag: String,
        /// Why, recorded in the flag's metadata as `kill_reason`.
        #[arg(long)]
        reason: String,
    },
    /// Enable FLAG in the file again (enabled: true, version + 1), writing atomically.
    Revive {
        /// Snapshot file, edited in place.
        file: PathBuf,
        /// Flag name.
        flag: String,
    },
    /// Follow FLAG for one context as SOURCE changes: one JSON line (the `explain --json`
    /// fields plus `version`) at start and whenever the version or the answer changes;
    /// source errors on stderr. Runs until interrupted.
    Watch {
        /// A snapshot file (watched for changes) or an http(s) URL (polled with ETags).
        source: String,
        /// Flag name.
        flag: String,
        /// Targeting key (omit for a context without one).
        #[arg(long)]
        key: Option<String>,
        /// An attribute, NAME=VALUE; VALUE is a number or boolean when it parses as one.
        #[arg(long = "attr", value_name = "NAME=VALUE")]
        attrs: Vec<String>,
        /// Poll interval: for a URL (default 1000); for a file, poll at this interval
        /// instead of using the file system's change events.
        #[arg(long, value_name = "N")]
        interval_ms: Option<u64>,
    },
    /// Rewrite flag definitions of another format as a native snapshot on stdout; each
    /// flag that cannot be converted is listed on stderr as `FILE: PATH: message` (exit 1).
    Import {
        #[command(subcommand)]
        from: Import,
    },
    /// Analyse FLAG's experiment from its exposures and outcomes: per variant the mean and
    /// its 95% interval, Welch comparisons against the control, and a sample-ratio check
    /// against SNAPSHOT's splits (exit 3 when the split is broken).
    Analyze(analyze::Args),
    /// Serve FILE over HTTP until interrupted: OFREP evaluations, the snapshot with an ETag
    /// (for every binding's HTTP source), kills and revives with operator tokens, an audit
    /// file, /metrics, /healthz, /readyz and an operator console at /. FILE is reloaded
    /// when it changes; an invalid FILE keeps the last good snapshot serving.
    Serve {
        /// The snapshot file served, reloaded on change, and edited by kills and revives.
        file: PathBuf,
        /// Where to listen (port 0: any free port; the address is printed on stdout).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8016")]
        listen: String,
        /// Operators allowed to kill and revive: JSON Lines of {"name": OPERATOR,
        /// "token_sha256": HEX}. Without it, kills and revives are off (403).
        #[arg(long, value_name = "FILE")]
        tokens: Option<PathBuf>,
        /// Append one JSON line per kill or revive to FILE (synced before answering).
        #[arg(long, value_name = "FILE")]
        audit: Option<PathBuf>,
        /// Allow browsers on ORIGIN (e.g. `https://app.example.com`, or `*`) to call OFREP and
        /// /v1/snapshot (CORS). Repeatable; none by default.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Seconds a client gets to send its request headers, and a request to finish.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        request_timeout: u64,
    },
}

/// A failure and the exit code it maps to.
#[derive(Subcommand)]
enum Import {
    /// OpenFeature flagd flag definitions, merged in order as flagd merges its sources
    /// (a later file's flag replaces an earlier one; `$evaluators` are shared). Converted
    /// flags serve what flagd serves, bucket for bucket (docs/format.md §9.7).
    Flagd {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The `version` of the snapshot written.
        #[arg(long, default_value_t = 1)]
        version: u64,
    },
}

pub(crate) enum Failure {
    /// The snapshot is invalid or the check failed (exit 1).
    Check(String),
    /// Usage or I/O (exit 2).
    Usage(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(version) = cli.flagd_fractional {
        let _ = FLAGD_FRACTIONAL.set(version);
    }
    let result = match cli.command {
        Command::Validate { files } => validate(&files),
        Command::Explain {
            file,
            flag,
            key,
            attrs,
            json,
            now,
        } => explain::run(&file, &flag, key.as_deref(), &attrs, json, now),
        Command::Simulate {
            file,
            flag,
            users,
            key_prefix,
            attrs,
            now,
        } => simulate::run(&file, &flag, users, &key_prefix, &attrs, now),
        Command::Diff {
            old,
            new,
            contexts,
            users,
            now,
            json,
            max_changed,
        } => diff::run(&diff::Args {
            old: &old,
            new: &new,
            contexts: contexts.as_deref(),
            users,
            now: now.as_deref(),
            json,
            max_changed,
        }),
        Command::Kill { file, flag, reason } => edit::set_enabled(&file, &flag, Some(&reason)),
        Command::Revive { file, flag } => edit::set_enabled(&file, &flag, None),
        Command::Watch {
            source,
            flag,
            key,
            attrs,
            interval_ms,
        } => watch::run(&source, &flag, key.as_deref(), &attrs, interval_ms),
        Command::Import {
            from: Import::Flagd { files, version },
        } => import_flagd(&files, version),
        Command::Analyze(args) => match analyze::run(&args) {
            // The report is printed and the warning is on stderr.
            Ok(analyze::Verdict::SplitBroken) => return ExitCode::from(3),
            other => other.map(|_| ()),
        },
        Command::Serve {
            file,
            listen,
            tokens,
            audit,
            cors_origins,
            request_timeout,
        } => serve::run(serve::Options {
            file,
            listen,
            tokens,
            audit,
            cors_origins,
            request_timeout: std::time::Duration::from_secs(request_timeout),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check(message)) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("flagcore: {message}");
            ExitCode::from(2)
        }
    }
}

/// Reads `--now`; clap reports a failure as a usage error (exit 2).
pub(crate) fn parse_now(text: &str) -> Result<SystemTime, String> {
    flagcore::parse_rfc3339(text).ok_or_else(|| {
        format!("`{text}` is not an RFC 3339 timestamp with an offset (e.g. 2026-12-02T06:00:00Z)")
    })
}

/// Reads `--max-changed`: a percentage from 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

/// Loads a snapshot file into a store; an invalid one lists every error.
pub(crate) fn load(path: &Path) -> Result<flagcore::Store, Failure> {
    let bytes = read(path)?;
    let store = new_store();
    store.update(&bytes).map_err(|e| {
        let lines: Vec<String> = e
            .validation_errors()
            .iter()
            .map(|v| format!("{}: {v}", path.display()))
            .collect();
        if lines.is_empty() {
            Failure::Check(format!("{}: {e}", path.display()))
        } else {
            Failure::Check(lines.join("\n"))
        }
    })?;
    Ok(store)
}

fn import_flagd(files: &[PathBuf], version: u64) -> Result<(), Failure> {
    if FLAGD_FRACTIONAL.get() == Some(&flagcore::flagd::FractionalVersion::V3) {
        return Err(Failure::Usage(
            "import writes rollouts with flagd's current (v2) bucketing; v3's CBOR-keyed buckets have no native equivalent".into(),
        ));
    }
    let documents = files
        .iter()
        .map(|f| read(f))
        .collect::<Result<Vec<_>, _>>()?;
    let slices: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
    let conversion = flagcore::flagd::to_native(&slices, version).map_err(|invalid| {
        // A whole-document error: say which file, trying each alone.
        let culprit = files
            .iter()
            .zip(&slices)
            .find(|(_, bytes)| flagcore::flagd::to_native(&[bytes], version).is_err())
            .map_or_else(
                || files[0].display().to_string(),
                |(f, _)| f.display().to_string(),
            );
        let lines: Vec<String> = invalid
            .errors()
            .iter()
            .map(|e| format!("{culprit}: {e}"))
            .collect();
        Failure::Check(lines.join("\n"))
    })?;
    print!("{}", conversion.snapshot);
    if conversion.skipped.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = conversion
        .skipped
        .iter()
        .map(|(document, error)| format!("{}: {error}", files[*document].display()))
        .collect();
    Err(Failure::Check(format!(
        "{}\n{} flag(s) not converted",
        lines.join("\n"),
        conversion.skipped.len()
    )))
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    // Every file is checked even when one cannot be read: a CI gate should list all
    // problems in one run.
    let (mut invalid, mut unreadable) = (0, 0);
    for file in files {
        let bytes = match read(file) {
            Ok(bytes) => bytes,
            Err(Failure::Usage(message) | Failure::Check(message)) => {
                eprintln!("flagcore: {message}");
                unreadable += 1;
                continue;
            }
        };
        let flagd = flagcore::flagd::Format::detect(&bytes) == flagcore::flagd::Format::Flagd;
        match flagcore::validate(&bytes) {
            Ok(_) if flagd => println!("{}: valid (flagd)", file.display()),
            Ok(version) => println!("{}: valid (version {version})", file.display()),
            Err(errors) => {
                invalid += 1;
                for error in errors.errors() {
                    println!("{}: {error}", file.display());
                }
            }
        }
    }
    if unreadable > 0 {
        Err(Failure::Usage(format!(
            "{unreadable} of {} file(s) could not be read",
            files.len()
        )))
    } else if invalid > 0 {
        Err(Failure::Check(format!(
            "{invalid} of {} file(s) invalid",
            files.len()
        )))
    } else {
        Ok(())
    }
}
