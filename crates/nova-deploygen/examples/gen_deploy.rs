//! Writes (or with `--check`, verifies) the files generated from the service registry:
//! `cargo run -p nova-deploygen --example gen_deploy -- [--check] [--root DIR]`.
//! `cargo xtask gen-deploy` and `deploy/k8s/generate-manifests.sh` run this.

use std::path::PathBuf;
use std::process::ExitCode;

use nova_deploygen::{SyncMode, sync};

fn main() -> ExitCode {
    let mut mode = SyncMode::Write;
    let mut root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = SyncMode::Check,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => {
                    eprintln!("gen_deploy: --root needs a directory");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!(
                    "gen_deploy: unknown argument {other}; usage: gen_deploy [--check] [--root DIR]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    match sync(&root, mode) {
        Ok(changed) if changed.is_empty() => {
            eprintln!("gen_deploy: generated files are up to date");
            ExitCode::SUCCESS
        }
        Ok(changed) => {
            let verb = if mode == SyncMode::Check {
                "differs from the registry"
            } else {
                "written"
            };
            for path in &changed {
                eprintln!("gen_deploy: {path}: {verb}");
            }
            if mode == SyncMode::Check {
                eprintln!("gen_deploy: run `cargo xtask gen-deploy` and commit the result");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("gen_deploy: {e}");
            ExitCode::FAILURE
        }
    }
}
