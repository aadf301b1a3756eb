//! `include/hive.h` is generated from the Rust declarations by cbindgen and committed.
//! This test fails when the committed header differs from what the code declares.
//! Regenerate with `make header` (which sets `HIVE_UPDATE_HEADER=1`).

use std::path::PathBuf;

#[test]
fn committed_header_matches_the_ffi_declarations() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/hive.h");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    if std::env::var_os("HIVE_UPDATE_HEADER").is_some() {
        std::fs::write(&header, &generated).expect("write include/hive.h");
        return;
    }
    let committed = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/hive.h is out of date with src/ffi: run `make header` and commit the result"
    );
}
