//! Compiles every `.proto` under the workspace's `proto/` directory with tonic-prost-build.
//!
//! The directory is walked, so a new domain's `proto/nova/<domain>/v1/*.proto` is picked
//! up without touching this file; `_includes.rs` (the module tree) and the file
//! descriptor set used by gRPC reflection are written to `OUT_DIR`. The protobuf compiler
//! comes from `protoc-bin-vendored`, so no system `protoc` is needed.

use std::io;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut protos = Vec::new();
    collect_protos(&proto_root, &mut protos)?;
    protos.sort();
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // Edition 2024 makes `std::env::set_var` unsafe (and the workspace forbids unsafe code),
    // so the vendored protoc is handed to prost-build directly instead of through `PROTOC`.
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .file_descriptor_set_path(out_dir.join("nova_descriptor.bin"))
        .include_file("_includes.rs")
        .compile_with_config(
            config,
            &protos,
            &[proto_root, protoc_bin_vendored::include_path()?],
        )?;
    Ok(())
}

/// Appends every `*.proto` file under `dir` (recursively) to `out`.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
