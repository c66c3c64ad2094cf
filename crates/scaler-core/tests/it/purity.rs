//! Architecture Invariant: scaler-core never observes the outside world.
//!
//! The crate is `#![no_std]` (so `std::time`, `std::fs`, `std::net`, `std::thread`
//! do not exist for it), and its dependencies are limited to an error-derive crate,
//! `libm` (pure float functions, no_std) and optional serde. This test fails if either
//! changes.

#[test]
fn core_is_no_std_and_dependency_light() {
    let root = env!("CARGO_MANIFEST_DIR");
    let lib = std::fs::read_to_string(format!("{root}/src/lib.rs")).unwrap();
    assert!(lib.contains("#![no_std]"), "scaler-core must stay no_std");
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    let manifest = std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap();
    let parsed: toml::Table = toml::from_str(&manifest).unwrap();
    let deps: Vec<&String> = parsed["dependencies"].as_table().unwrap().keys().collect();
    for d in &deps {
        assert!(["thiserror", "serde", "libm"].contains(&d.as_str()), "scaler-core must not depend on {d}");
    }
    for forbidden in ["std::", "extern crate std", "Instant", "SystemTime", "rand"] {
        let mut dirs = vec![std::path::PathBuf::from(format!("{root}/src"))];
        let mut files = Vec::new();
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 10, "found the sources");
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            // Doc examples may use std (they are compiled as separate crates).
            let code: String =
                text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            assert!(!code.contains(forbidden), "{} mentions {forbidden}", path.display());
        }
    }
}
