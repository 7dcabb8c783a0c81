//! `spine-sandbox --listen 127.0.0.1:PORT [--fixtures DIR] [--jwks FILE] [--api-key KEY]`;
//! `spine-sandbox --write-synthetic DIR` rewrites the generated patients (`synthetic/`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use spine_sandbox::{Sandbox, SandboxConfig};

#[derive(Parser)]
#[command(
    version,
    about = "Local stand-in for NHS PDS, SDS, OAuth and GP Connect (via SSP)"
)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: SocketAddr,
    /// Fixtures directory laid out as ../shared/fixtures (default: the embedded synthetic
    /// patients).
    #[arg(long, env = "SPINE_SANDBOX_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// JWKS file with the public keys allowed to sign client assertions.
    #[arg(long)]
    jwks: Option<PathBuf>,
    #[arg(long, env = "SPINE_SANDBOX_API_KEY", default_value = "sandbox-api-key")]
    api_key: String,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 599)]
    token_lifetime: u64,
    /// Delay of the "slow GP Connect" patient, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    slow_delay_ms: u64,
    /// Write the synthetic patients' files (the embedded set) into DIR and exit.
    #[arg(long, value_name = "DIR")]
    write_synthetic: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::crypto::install_default_provider();
    let _telemetry = service_kit::telemetry::init(
        "spine-sandbox",
        &service_kit::telemetry::TelemetryConfig {
            filter: "info".into(),
            format: service_kit::telemetry::LogFormat::Pretty,
            otlp_endpoint: None,
        },
    )?;
    let args = Args::parse();
    if let Some(dir) = &args.write_synthetic {
        for file in spine_sandbox::synthetic::generate() {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, file.text())?;
            println!("{}", path.display());
        }
        return Ok(());
    }
    let mut config = SandboxConfig {
        listen: args.listen,
        api_key: args.api_key,
        token_lifetime_secs: args.token_lifetime,
        slow_delay_ms: args.slow_delay_ms,
        ..SandboxConfig::default()
    };
    if let Some(dir) = args.fixtures {
        config.fixtures_dir = Some(dir);
    }
    if let Some(path) = args.jwks {
        config.jwks = Some(serde_json::from_slice(&std::fs::read(&path)?)?);
    } else {
        eprintln!(
            "note: no --jwks given: the OAuth token endpoint will refuse every client assertion"
        );
    }
    let handle = Sandbox::start(config).await?;
    println!("spine-sandbox on {}", handle.base_url());
    println!("  PDS   {}", handle.pds_base_url());
    println!("  SDS   {}", handle.sds_base_url());
    println!("  token {}", handle.token_url());
    println!("  SSP   {}", handle.ssp_url());
    println!("patients:");
    for p in handle.patients() {
        println!("  {}  {:<26} {}", p.nhs_number, p.scenario, p.description);
    }
    service_kit::shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}
