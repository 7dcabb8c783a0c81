//! `xhuma`: the gateway binary. `xhuma serve` (the default) runs the gateway; `xhuma convert`
//! converts a GP Connect Bundle file to C-CDA.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Responses carry documents of hundreds of KB; glibc malloc serves each such buffer with a
/// fresh mmap (page faults on every request), mimalloc reuses them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "xhuma",
    version,
    about = "GP Connect → C-CDA IHE gateway",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `xhuma [--listen ADDR] …` is `xhuma serve [--listen ADDR] …`.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Configuration file (default: ./xhuma.toml when present).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Listen address (also XHUMA_LISTEN).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory (also XHUMA_DATA_DIR).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Sandbox mode: serve the bundles of this fixtures directory instead of the built-in
    /// synthetic patients (also XHUMA_SANDBOX__FIXTURES).
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default). With no configuration: embedded sandbox mode.
    Serve(ServeArgs),
    /// Convert a GP Connect structured-record Bundle (JSON) to C-CDA XML.
    Convert {
        /// The Bundle file.
        bundle: PathBuf,
        /// Write the XML here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Write the conversion report (unplaced resources, warnings) as JSON here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write an HTML rendering of the document here.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    service_kit::crypto::install_default_provider();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Convert {
            bundle,
            output,
            report,
            html,
        } => {
            match xhuma::convert_cli::run(&bundle, output.as_ref(), report.as_ref(), html.as_ref())
            {
                Ok(Some(xml)) => {
                    let mut out = std::io::stdout().lock();
                    if out
                        .write_all(xml.as_bytes())
                        .and_then(|()| out.flush())
                        .is_err()
                    {
                        return ExitCode::from(1);
                    }
                    ExitCode::SUCCESS
                }
                Ok(None) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("xhuma convert: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Serve(ServeArgs {
            config,
            listen,
            data_dir,
            fixtures,
        }) => serve(config, listen, data_dir, fixtures),
    }
}

fn serve(
    file: Option<PathBuf>,
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    fixtures: Option<PathBuf>,
) -> ExitCode {
    let mut config = match xhuma::config::Config::load(file.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("xhuma: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(l) = listen {
        config.listen = l;
    }
    if let Some(d) = data_dir {
        config.data_dir = d;
    }
    if let Some(f) = fixtures {
        config.sandbox.fixtures = Some(f);
    }
    // Unreadable trust anchors stop the start here; the server itself would only fail closed.
    if let Err(e) = xhuma::xua::Xua::from_config(&config) {
        eprintln!("xhuma: {e}");
        return ExitCode::from(2);
    }
    let _guard = match service_kit::telemetry::init("xhuma", &config.telemetry) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("xhuma: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("xhuma: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async move {
        match xhuma::server::start(config).await {
            Ok(running) => {
                println!("{}", xhuma::server::banner(&running));
                tracing::info!(addr = %running.addr, "gateway started");
                running.serve_until(service_kit::shutdown_signal()).await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xhuma: {e}");
                ExitCode::from(1)
            }
        }
    })
}
