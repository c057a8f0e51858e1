//! The command line every Nova binary shares: `--help` lists every environment variable
//! the binary reads (with its default), `--version` prints the version and git commit,
//! and a bad flag is one line naming it, exit code 2. Configuration itself stays in the
//! environment (see `nova_core::config`): flags never duplicate it.

use std::process::ExitCode;

use clap::{ArgMatches, Command};
use nova_core::config::{ENV_VARS, EnvVar};

/// `<version> (<git commit>)`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("NOVA_GIT_HASH"), ")");

/// Every configuration variable a Nova process may read, domain by domain (the port
/// variables aside: they come from [`nova_runtime::SERVICES`]). The one list behind
/// `--help` and the check that `deploy/.env.example` names them all.
pub fn env_vars() -> impl Iterator<Item = &'static EnvVar> {
    let domains: [&'static [EnvVar]; 8] = [
        ENV_VARS,
        nova_media::MEDIA_ENV_VARS,
        nova_chat::CHAT_ENV_VARS,
        nova_identity::setup::IDENTITY_ENV_VARS,
        nova_social::SOCIAL_ENV_VARS,
        nova_feed::FEED_ENV_VARS,
        nova_gateway::GATEWAY_ENV_VARS,
        nova_notification::EMAIL_ENV_VARS,
    ];
    domains.into_iter().flatten()
}

/// Every variable a Nova process may read, the port variables of `service` last.
fn variables(service: &str) -> String {
    let width = env_vars().map(|v| v.name.len()).max().unwrap_or(0);
    let mut text = String::from("Environment variables (unset: the default in brackets):\n");
    for var in env_vars() {
        let default = var.default.map(|d| format!(" [{d}]")).unwrap_or_default();
        text.push_str(&format!(
            "  {:width$}  {}{default}\n",
            var.name, var.description
        ));
    }
    let ports = nova_runtime::SERVICES
        .iter()
        .filter(|s| s.name == service || service == "nova");
    for spec in ports {
        text.push_str(&format!(
            "  {:width$}  {} HTTP port [{}]\n",
            spec.http_port_env(),
            spec.name,
            spec.http_port
        ));
        if let (Some(env), Some(port)) = (spec.grpc_port_env(), spec.grpc_port) {
            text.push_str(&format!(
                "  {env:width$}  {} gRPC port [{port}]\n",
                spec.name
            ));
        }
    }
    text
}

/// The command line of `service` (subcommands are added by the binary that has them).
pub fn command(service: &'static str) -> Command {
    Command::new(service)
        .version(VERSION)
        .about(format!(
            "Nova {service}. Configured by environment variables (and an optional .env file); see below."
        ))
        .after_help(variables(service))
}

/// Parses the process arguments against `command`: `--help` / `--version` print and
/// exit 0; anything it does not know is one line on stderr and exit code 2.
pub fn parse(service: &str, command: Command) -> Result<ArgMatches, ExitCode> {
    parse_from(service, command, std::env::args_os())
}

/// [`parse`] over given arguments (the first is the program name).
pub fn parse_from<I, T>(service: &str, command: Command, args: I) -> Result<ArgMatches, ExitCode>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match command.try_get_matches_from(args) {
        Ok(matches) => Ok(matches),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                let _ = e.print();
                Err(ExitCode::SUCCESS)
            }
            _ => Err(nova_runtime::shell::fail(service, &one_line(&e))),
        },
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_variable_with_its_default_and_bad_flags_are_named() {
        let help = command("identity-service").render_long_help().to_string();
        for var in ENV_VARS
            .iter()
            .chain(nova_identity::setup::IDENTITY_ENV_VARS)
        {
            assert!(help.contains(var.name), "{} missing from --help", var.name);
        }
        assert!(help.contains("IDENTITY_SERVICE_HTTP_PORT"), "{help}");
        assert!(help.contains("[8081]"), "{help}");
        assert!(
            !help.contains("FEED_SERVICE_HTTP_PORT"),
            "another service's port"
        );

        let err = command("identity-service")
            .try_get_matches_from(["identity-service", "--bogus"])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let line = one_line(&err);
        assert!(line.contains("--bogus") && !line.contains('\n'), "{line}");
    }
}
