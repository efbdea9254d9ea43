//! Thread-safety promises of the sources (features `file` and `http`), checked by the
//! compiler as `send_sync.rs` does for the core: a source is moved into whatever owns it
//! and its status read from any thread.

use flagcore::source::{
    DiskCache, FileOptions, FileSource, HttpOptions, HttpSource, KillPersistence, KillsFileSource,
    Outcome, SourceError, SourceErrorKind, Status, WatchMode,
};

fn send_sync<T: Send + Sync>() {}

fn shareable_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn sources_and_their_options_are_send_and_sync() {
    send_sync::<FileSource>();
    send_sync::<KillsFileSource>();
    send_sync::<HttpSource>();
    send_sync::<DiskCache>();
    send_sync::<KillPersistence>();
    send_sync::<FileOptions>();
    send_sync::<HttpOptions>();
    send_sync::<WatchMode>();
}

#[test]
fn statuses_and_errors_are_send_and_sync() {
    send_sync::<Status>();
    send_sync::<Outcome>();
    send_sync::<SourceErrorKind>();
    shareable_error::<SourceError>();
}
