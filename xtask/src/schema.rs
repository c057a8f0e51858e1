//! `cargo xtask schema [--check]`: the GraphQL schema's SDL, as nova-gateway builds it,
//! written to `schema.graphql` at the repository root (or compared with it, failing on
//! drift, which `cargo xtask test` does).
//!
//! The SDL comes from nova-gateway's `schema` example, so xtask itself stays free of
//! dependencies.

use std::path::{Path, PathBuf};

/// `schema.graphql` at the repository root.
fn schema_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("schema.graphql")
}

/// The SDL printed by `cargo run -p nova-gateway --example schema`.
fn render() -> Result<String, String> {
    let mut cmd = crate::cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "nova-gateway",
        "--example",
        "schema",
    ]);
    eprintln!("xtask: running {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("schema is not UTF-8: {e}"))
}

/// Writes the schema file, or with `--check` fails when it differs from the code.
pub(crate) fn schema(args: &[String]) -> Result<(), String> {
    let path = schema_file();
    let sdl = render()?;
    if args.iter().any(|a| a == "--check") {
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != sdl {
            return Err(format!(
                "{} is out of date with nova-gateway's schema: run `cargo xtask schema`",
                path.display()
            ));
        }
        eprintln!("xtask: {} is up to date", path.display());
        return Ok(());
    }
    std::fs::write(&path, sdl).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// The drift check `cargo xtask test` runs.
pub(crate) fn check_schema() -> Result<(), String> {
    schema(&["--check".to_owned()])
}
