//! `sae`: compress scientific images with sparse overcomplete autoencoders.
//!
//! A thin shell over the `sae-codec` library: one module per subcommand
//! (its arguments and `run`), the recipes and every coding choice from the
//! library. Every failure is one line on stderr and a non-zero exit code.

use clap::{Parser, Subcommand};

mod cmd;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sae",
    version,
    about = "Compress scientific images with sparse overcomplete autoencoders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let f32 matrix products on a CUDA GPU run on TF32 tensor cores (faster;
    /// inputs rounded to a 10-bit mantissa). No effect on the CPU.
    #[arg(long, global = true)]
    tf32: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate SAS images: exactly those of a parameter sidecar, or a random seeded set.
    Simulate(cmd::simulate::Args),
    /// Train a codec on images and save it (safetensors with its settings).
    Train(Box<cmd::train::Args>),
    /// Compress images into a container file.
    Compress(cmd::compress::Args),
    /// Decompress a container into images (`.npy`).
    Decompress(cmd::decompress::Args),
    /// Refit a model's coding tables for another value or index coding, without retraining.
    ///
    /// The weights (and so the fingerprint) stay the same: containers made
    /// before and after decode with either file.
    Recode(cmd::recode::Args),
    /// Fine-tune a model's decoder on refined latents of its training images
    /// (what compression stores when it refines, the default).
    ///
    /// The encoder and the coding tables stay; the fingerprint changes.
    Tune(cmd::tune::Args),
    /// Show a container's header, record count and where its bytes go.
    Inspect(cmd::inspect::Args),
    /// Compare a reconstruction with its reference: errors, ratios.
    Eval(cmd::eval::Args),
    /// Find the stored records most like a query image or record, from the
    /// containers' latents alone (nothing is decompressed).
    Search(Box<cmd::search::Args>),
    /// Label a container's records by k-NN vote over labelled containers,
    /// from latents alone; with the true labels, accuracy and confusion.
    Classify(Box<cmd::classify::Args>),
}

fn main() {
    let cli = Cli::parse();
    sae_codec::set_tf32(cli.tf32);
    let result = match cli.command {
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Train(args) => cmd::train::run(*args),
        Command::Compress(args) => cmd::compress::run(args),
        Command::Decompress(args) => cmd::decompress::run(args),
        Command::Recode(args) => cmd::recode::run(args),
        Command::Tune(args) => cmd::tune::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Search(args) => cmd::search::run(*args),
        Command::Classify(args) => cmd::classify::run(*args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
