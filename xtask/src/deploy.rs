//! `cargo xtask gen-deploy [--check]`: the deploy/ and monitoring/ files generated from the
//! service registry (nova_runtime::deploy, run through its `gen_deploy` example so xtask
//! stays dependency-free).

use crate::{cargo, run};

/// Regenerates the files, or with `--check` fails when a committed file differs.
pub fn gen_deploy(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "nova-runtime",
        "--example",
        "gen_deploy",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}
