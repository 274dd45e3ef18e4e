//! The themata binary: parse the command line, call the library, map errors to exit codes.

mod cli;

use clap::Parser;
use cli::{Cli, Command, IngestArgs, StageArgs};
use themata::config::{Overrides, Pipeline};
use themata::pipeline::{Options, Runner};
use themata::text::Analyzer;

fn runner(args: &StageArgs) -> themata::Result<Runner> {
    runner_with(args, false)
}

fn ingest_runner(args: &IngestArgs) -> themata::Result<Runner> {
    runner_with(&args.stage, args.strict)
}

fn runner_with(args: &StageArgs, strict: bool) -> themata::Result<Runner> {
    let overrides = Overrides {
        input: args.input.clone(),
        output: args.output.clone(),
        set: args.set.clone(),
        strict,
    };
    let pipeline = Pipeline::load(&args.pipeline, &overrides)?;
    Ok(Runner::new(
        pipeline,
        Options {
            quiet: args.quiet,
            verbose: args.verbose,
            force: args.force,
        },
    ))
}

fn execute(cli: Cli) -> themata::Result<()> {
    match cli.command {
        Command::Run(a) => ingest_runner(&a)?.run(),
        Command::Ingest(a) => ingest_runner(&a)?.ingest().map(|_| ()),
        Command::Tfidf(a) => {
            let mut r = runner(&a)?;
            let corpus = r.load_corpus()?;
            r.tfidf(&corpus).map(|_| ())
        }
        Command::Cluster(a) => {
            let mut r = runner(&a)?;
            let corpus = r.load_corpus()?;
            let (vocab, m) = r.load_tfidf(&corpus)?;
            r.cluster(&vocab, &m).map(|_| ())
        }
        Command::Report(a) => {
            let mut r = runner(&a)?;
            let corpus = r.load_corpus()?;
            let (vocab, m) = r.load_tfidf(&corpus)?;
            let c = r.load_clustering()?;
            r.report(&corpus, &vocab, &m, &c).map(|_| ())
        }
        Command::Evaluate { output, gold, json } => {
            let e = themata::evaluate::evaluate(&output, &gold)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
            } else {
                print!("{}", themata::evaluate::to_text(&e));
            }
            Ok(())
        }
        Command::Analyze { pipeline, text } => {
            let p = Pipeline::load(&pipeline, &Overrides::default())?;
            let a = Analyzer::new(&p.analyzer)?;
            for t in a.tokens(&text) {
                println!("{}\t{}", t.term, t.surface);
            }
            Ok(())
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = execute(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
