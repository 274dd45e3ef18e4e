//! The themata binary: parse the command line, load the pipeline file, run the engine,
//! show what happens and map errors to exit codes. The only place that prints.

mod cli;
mod progress;

use clap::Parser;
use cli::{ApplyArgs, Cli, Command, StageArgs};
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
fn run(args: &StageArgs, strict: bool, update: bool, stage: Option<Stage>) -> themata::Result<()> {
    let pipeline = load(args, strict)?;
    stop_cleanly_on_signals(vec![pipeline.output.clone(), pipeline.report_dir.clone()]);
    let terminal = Terminal::new(args.quiet, args.verbose);
    let opts = Options {
        force: args.force,
        wait: !args.no_wait,
        previous: args.previous.clone(),
        update,
        ..Default::default()
    };
    let mut engine = Engine::new(pipeline, opts, &terminal);
    match stage {
        None => engine.run(),
        Some(s) => engine.run_stage(s, true),
    }
}

/// On Ctrl-C or SIGTERM: remove the temporaries of files being written (every table and
/// summary is written under a temporary name and renamed into place, and a stage is
/// recorded in the manifest only after all its files are), say so, and exit with 130. What
/// is complete stays, and the next run resumes from the last recorded stage.
fn stop_cleanly_on_signals(dirs: Vec<std::path::PathBuf>) {
    let mut targets: Vec<&'static str> = Stage::ALL
        .iter()
        .flat_map(|s| s.outputs().iter().chain(s.tables_elsewhere()))
        .copied()
        .collect();
    targets.push(themata::engine::MANIFEST);
    let handler = move || {
        // while this run waits for another's lock, the temporaries there are the other's
        let removed: usize = if themata::engine::holds_a_lock() {
            dirs.iter()
                .map(|d| themata::files::remove_stale_temporaries(d, &targets))
                .sum()
        } else {
            0
        };
        eprintln!(
            "\ninterrupted: stopped before the run finished ({removed} temporary file(s) \
             removed; complete tables kept); the next run resumes from the last complete stage"
        );
        std::process::exit(130);
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("warning: cannot handle Ctrl-C ({e}); an interrupted run may leave temporaries");
    }
}

/// `themata apply`.
fn apply(a: &ApplyArgs) -> themata::Result<()> {
    let pipeline = match &a.pipeline {
        Some(p) => Some(Pipeline::load(p, &Overrides::default())?),
        None => None,
    };
    let req = themata::apply::Request {
        run_dir: a.run_dir.clone(),
        input: a.input.clone(),
        output: a.output.clone(),
        pipeline,
        strict: a.strict,
        wait: !a.no_wait,
    };
    stop_cleanly_on_signals(vec![a.output.clone(), a.output.join("report")]);
    let terminal = Terminal::new(a.quiet, false);
    let s = themata::apply::apply(&req, &terminal)?;
    let placed: usize = s.themes.iter().map(|t| t.passages).sum();
    terminal.say(&format!(
        "apply: {} documents, {} kept passages: {placed} placed, {} fit no theme; {:.1} % of term occurrences unseen by the model; report in {}",
        s.documents,
        s.kept,
        s.kept - placed,
        100.0 * s.terms.unseen_share,
        a.output.join("report").join("summary.md").display()
    ));
    Ok(())
}

/// `themata keyness`: compute, print, and write the table when asked.
fn keyness(a: &cli::KeynessArgs) -> themata::Result<()> {
    use themata::keyness::{compute, parse_dates, write, Groups};
    let groups = match (&a.by, &a.docs, &a.dates) {
        (Some(f), _, _) => Groups::By(*f, a.group.clone()),
        (_, Some(g), _) => Groups::Docs(g.clone()),
        (_, _, Some(d)) => {
            let (from, to) = parse_dates(d)?;
            Groups::Dates(from, to)
        }
        _ => {
            return Err(themata::Error::Usage(
                "keyness: give one of --by, --docs, --dates".into(),
            ))
        }
    };
    let k = compute(&a.output, &groups, a.top)?;
    if let Some(out) = &a.out {
        // the run's pipeline, for the table's metadata
        let name = themata::tables::read_model_file(&a.output)
            .ok()
            .flatten()
            .map(|m| m.pipeline)
            .unwrap_or_default();
        write(out, &k, &name)?;
    }
    emit(&themata::keyness::to_text(&k))
}

/// Write a command's output to stdout. A reader that stops early (`| head`) closes the pipe:
/// that ends the command quietly with exit code 0, as for other Unix tools.
fn emit(text: &str) -> themata::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(themata::Error::io("<stdout>", e)),
    }
}

fn execute(cli: Cli) -> themata::Result<()> {
    match cli.command {
        Command::Run(a) => run(&a.stage, a.strict, a.update, None),
        Command::Ingest(a) => run(&a.stage, a.strict, a.update, Some(Stage::Ingest)),
        Command::Tfidf(a) => run(&a, false, false, Some(Stage::Tfidf)),
        Command::Cluster(a) => run(&a, false, false, Some(Stage::Cluster)),
        Command::Report(a) => run(&a, false, false, Some(Stage::Report)),
        Command::Evaluate { output, gold, json } => {
            let e = themata::evaluate::evaluate(&output, &gold)?;
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&e).unwrap_or_default()
                ))
            } else {
                emit(&themata::evaluate::to_text(&e))
            }
        }
        Command::Apply(a) => apply(&a),
        Command::Keyness(a) => keyness(&a),
        Command::Collocations {
            output,
            min_count,
            top,
        } => {
            let rows = themata::collocations::compute(&output, min_count, top)?;
            emit(&themata::collocations::to_text(&rows))
        }
        Command::Explain {
            run_dir,
            passage_id,
            top,
            json,
        } => {
            let e = themata::explain::explain(&run_dir, passage_id, top)?;
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&e).unwrap_or_default()
                ))
            } else {
                emit(&themata::explain::to_text(&e))
            }
        }
        Command::Analyze { pipeline, text } => {
            let p = Pipeline::load(&pipeline, &Overrides::default())?;
            let a = Analyzer::new(&p.analyzer)
                .map_err(|e| themata::Error::config(&pipeline, e.to_string()))?;
            let lines: String = a
                .counted_terms(&text)
                .iter()
                .map(|(term, surface)| format!("{term}\t{surface}\n"))
                .collect();
            emit(&lines)
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
