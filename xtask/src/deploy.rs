//! Deployment files: `cargo xtask gen-deploy [--check]` regenerates (or checks) the files
//! generated from the service registry (nova_deploygen, run through its `gen_deploy`
//! example so xtask stays dependency-free); `cargo xtask check-deploy` validates them with
//! the real tools, and `cargo xtask test` runs it after the tests:
//!
//! - `promtool check config` / `check rules` / `test rules` (Debian `prometheus`);
//! - `docker-compose config -q` on deploy/docker-compose.prod.yml with deploy/.env.example
//!   as the env file (Debian `docker-compose`; parses and validates without an engine);
//! - `kubectl kustomize` of each overlay, every rendered object validated against the
//!   Kubernetes schemas by `kubernetes-validate --strict` (PyPI).
//!
//! Missing tools are installed once (apt as root, pip); a tool that cannot be installed
//! skips only its own check, loudly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::services::{apt_install, installed};
use crate::{cargo, run};

/// Regenerates the files, or with `--check` fails when a committed file differs.
pub fn gen_deploy(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "nova-deploygen",
        "--example",
        "gen_deploy",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Makes sure `program` exists, installing the Debian `package` if needed.
fn ensure_apt(program: &str, package: &str) -> Result<(), String> {
    if installed(program) {
        return Ok(());
    }
    eprintln!("xtask: {program} not found; installing Debian package {package}");
    apt_install(&[package])?;
    if installed(program) {
        Ok(())
    } else {
        Err(format!(
            "{package} installed but {program} is still missing"
        ))
    }
}

fn kubernetes_validate_available() -> bool {
    Command::new("python3")
        .args(["-m", "kubernetes_validate", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ensure_kubernetes_validate() -> Result<(), String> {
    if kubernetes_validate_available() {
        return Ok(());
    }
    eprintln!(
        "xtask: kubernetes-validate not found; installing it with pip (cached in ~/.cache/pip)"
    );
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "kubernetes-validate"]);
    run(pip)?;
    if kubernetes_validate_available() {
        Ok(())
    } else {
        Err("pip installed kubernetes-validate but python3 cannot import it".to_owned())
    }
}

/// kubectl whose embedded kustomize understands `labels`, `replicas` and `patches`
/// (kustomize v4+, kubectl 1.21+). Debian 12's kubernetes-client is 1.20 (kustomize v2).
fn kubectl_with_modern_kustomize() -> Result<(), String> {
    if !installed("kubectl") {
        eprintln!("xtask: kubectl not found; installing Debian package kubernetes-client");
        apt_install(&["kubernetes-client"])?;
    }
    let out = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map_err(|e| format!("cannot run kubectl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let major = text
        .lines()
        .find_map(|l| l.strip_prefix("Kustomize Version: v"))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= 4 => Ok(()),
        _ => Err(format!(
            "kubectl's kustomize is too old for the overlays (need v4+): {}",
            text.trim()
        )),
    }
}

fn output_ok(mut cmd: Command) -> Result<String, String> {
    eprintln!("xtask: running {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn yml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

/// prometheus.yml without the `nova-kubernetes` job (Debian's promtool is built without
/// Kubernetes service discovery).
fn without_kubernetes_job(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with("  - job_name:") {
            skipping = line.contains("nova-kubernetes");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn check_prometheus(root: &Path, tmp: &Path) -> Result<(), String> {
    let monitoring = root.join("monitoring/prometheus");
    let config = monitoring.join("prometheus.yml");
    let mut check = Command::new("promtool");
    check
        .args(["check", "config", "--syntax-only"])
        .arg(&config);
    if let Err(e) = output_ok(check) {
        if !e.contains("kubernetes_sd_configs not found") {
            return Err(e);
        }
        eprintln!(
            "xtask: this promtool lacks Kubernetes service discovery (Debian build): checking prometheus.yml without its nova-kubernetes job"
        );
        let text =
            std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
        let stripped = tmp.join("prometheus.yml");
        std::fs::write(&stripped, without_kubernetes_job(&text)).map_err(|e| e.to_string())?;
        let mut check = Command::new("promtool");
        check
            .args(["check", "config", "--syntax-only"])
            .arg(&stripped);
        output_ok(check)?;
    }
    let mut rules = Command::new("promtool");
    rules
        .args(["check", "rules"])
        .args(yml_files(&monitoring.join("rules"))?);
    output_ok(rules)?;
    let mut tests = Command::new("promtool");
    tests
        .args(["test", "rules"])
        .args(yml_files(&monitoring.join("tests"))?)
        .current_dir(&monitoring);
    output_ok(tests)?;
    Ok(())
}

fn check_compose(root: &Path) -> Result<(), String> {
    let env = root.join("deploy/.env.example");
    let mut compose = Command::new("docker-compose");
    compose
        .env("NOVA_ENV_FILE", &env)
        .arg("--env-file")
        .arg(&env)
        .arg("-f")
        .arg(root.join("deploy/docker-compose.prod.yml"))
        .args(["config", "-q"]);
    output_ok(compose).map(|_| ())
}

fn check_kubernetes(root: &Path, tmp: &Path) -> Result<(), String> {
    let mut rendered = Vec::new();
    for overlay in ["dev", "staging", "prod"] {
        let mut kustomize = Command::new("kubectl");
        kustomize
            .arg("kustomize")
            .arg(root.join("deploy/k8s/overlays").join(overlay));
        let yaml = output_ok(kustomize)?;
        let objects = yaml.lines().filter(|l| l.starts_with("kind:")).count();
        eprintln!("xtask: overlay {overlay}: {objects} objects");
        let file = tmp.join(format!("{overlay}.yaml"));
        std::fs::write(&file, yaml).map_err(|e| e.to_string())?;
        rendered.push(file);
    }
    let mut validate = Command::new("python3");
    validate
        .args(["-m", "kubernetes_validate", "--strict", "--quiet"])
        .args(&rendered);
    output_ok(validate).map(|_| ())
}

/// Validates the deployment and monitoring files with the real tools.
pub fn check_deploy() -> Result<(), String> {
    let started = Instant::now();
    let root = repo_root();
    let tmp = std::env::temp_dir().join(format!("nova-check-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut step =
        |name: &str, ensure: Result<(), String>, check: &dyn Fn() -> Result<(), String>| {
            match ensure {
                Err(e) => skipped.push(format!("{name}: {e}")),
                Ok(()) => {
                    let t = Instant::now();
                    match check() {
                        Ok(()) => eprintln!("xtask: {name}: ok ({:.1?})", t.elapsed()),
                        Err(e) => failures.push(format!("{name}: {e}")),
                    }
                }
            }
        };
    step("promtool", ensure_apt("promtool", "prometheus"), &|| {
        check_prometheus(&root, &tmp)
    });
    step(
        "docker-compose config",
        ensure_apt("docker-compose", "docker-compose"),
        &|| check_compose(&root),
    );
    step(
        "kustomize + kubernetes-validate",
        kubectl_with_modern_kustomize().and_then(|()| ensure_kubernetes_validate()),
        &|| check_kubernetes(&root, &tmp),
    );
    let _ = std::fs::remove_dir_all(&tmp);
    for s in &skipped {
        eprintln!("xtask: SKIPPED (tool unavailable) {s}");
    }
    eprintln!("xtask: deploy checks took {:.1?}", started.elapsed());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
