//! The committed C header is what cbindgen generates from the current sources.

use std::path::PathBuf;

#[test]
fn committed_header_is_current() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"))
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap_or_else(|e| panic!("{e}"));
    let path = crate_dir.join("include/flagcore.h");
    if std::env::var_os("FLAGCORE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map_or_else(
                || "one is a prefix of the other".to_string(),
                |(i, (a, b))| format!("line {}:\n  committed: {a}\n  generated: {b}", i + 1),
            );
        panic!(
            "{} is stale ({first_difference}).\nRegenerate it with \
             `FLAGCORE_BLESS=1 cargo test -p flagcore-ffi --test header` and commit it.",
            path.display()
        );
    }
}
