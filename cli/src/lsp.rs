//! `weft lsp`: the language server, speaking LSP over stdin and stdout.

use std::process::ExitCode;

/// Arguments of `weft lsp`.
#[derive(clap::Args)]
pub struct Args {
    /// Talk over stdin and stdout (the default and only transport; accepted because
    /// editor clients pass it).
    #[arg(long)]
    stdio: bool,
}

/// Serves until the editor sends `exit` or closes stdin.
pub fn run(args: &Args) -> ExitCode {
    let _ = args.stdio;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the language server: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(weft_lsp::serve(tokio::io::stdin(), tokio::io::stdout()));
    // Reading stdin blocks a thread that would otherwise keep the process alive.
    runtime.shutdown_background();
    ExitCode::SUCCESS
}
