//! The themata binary: parse the command line, load the pipeline file, run the engine,
//! show what happens and map errors to exit codes. The only place that prints.

mod cli;
mod progress;

use clap::Parser;
use cli::{Cli, Command, IngestArgs, StageArgs};
use progress::Terminal;
use themata::engine::{Engine, Options, Stage};
use themata::pipeline_file::{Overrides, Pipeline};
use themata_core::analyze::Analyzer;

fn load(args: &StageArgs, strict: bool) -> themata::Result<Pipeline> {
    let overrides = Overrides {
        input: args.input.clone(),
        output: args.output.clone(),
        set: args.set.clone(),
        strict,
    };
    Pipeline::load(&args.pipeline, &overrides)
}

/// Run `stage` (or, with `None`, every stage that is stale).
fn run(args: &StageArgs, strict: bool, stage: Option<Stage>) -> themata::Result<()> {
    let pipeline = load(args, strict)?;
    let terminal = Terminal::new(args.quiet, args.verbose);
    let opts = Options {
        force: args.force,
        ..Default::default()
    };
    let mut engine = Engine::new(pipeline, opts, &terminal);
    match stage {
        None => engine.run(),
        Some(s) => engine.run_stage(s, true),
    }
}

fn ingest_args(a: &IngestArgs) -> (&StageArgs, bool) {
    (&a.stage, a.strict)
}

fn execute(cli: Cli) -> themata::Result<()> {
    match cli.command {
        Command::Run(a) => {
            let (s, strict) = ingest_args(&a);
            run(s, strict, None)
        }
        Command::Ingest(a) => {
            let (s, strict) = ingest_args(&a);
            run(s, strict, Some(Stage::Ingest))
        }
        Command::Tfidf(a) => run(&a, false, Some(Stage::Tfidf)),
        Command::Cluster(a) => run(&a, false, Some(Stage::Cluster)),
        Command::Report(a) => run(&a, false, Some(Stage::Report)),
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
            let a = Analyzer::new(&p.analyzer)
                .map_err(|e| themata::Error::config(&pipeline, e.to_string()))?;
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
