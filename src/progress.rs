//! What the user sees on stderr: progress bars (drawn only when stderr is a terminal, and
//! not with `--quiet`), one line per stage, warnings (always), and with `--verbose` why each
//! stage runs and what it recorded.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::Duration;
use themata::engine::{self, Event};
use themata_core::Task;

/// The terminal as the engine's observer.
pub struct Terminal {
    quiet: bool,
    verbose: bool,
    bars: Mutex<Vec<(Task, ProgressBar)>>,
}

impl Terminal {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Terminal {
            quiet,
            verbose,
            bars: Mutex::new(Vec::new()),
        }
    }

    fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// A line on stderr, unless `--quiet`.
    pub fn say(&self, msg: &str) {
        self.note(msg)
    }

    fn verbose(&self, msg: &str) {
        if self.verbose && !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// stderr, or nothing with `--quiet` (indicatif itself draws nothing when stderr is not
    /// a terminal).
    fn draw_target(&self) -> ProgressDrawTarget {
        if self.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        }
    }

    fn bar(&self, len: u64, msg: &str) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(Some(len), self.draw_target());
        pb.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    }

    fn spinner(&self, msg: &str) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(None, self.draw_target());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }
}

impl themata_core::Observer for Terminal {
    fn start(&self, task: Task, len: Option<u64>) {
        let pb = match (task, len) {
            (Task::ReadFiles, Some(n)) => self.bar(n, "ingest: files"),
            (Task::Analyze, Some(n)) => self.bar(n, "analyze: passages"),
            (Task::Weigh, _) => self.spinner("tfidf: weighting"),
            (Task::Cluster { k, range }, _) => {
                let k = match k {
                    Some(k) => k.to_string(),
                    None => format!("{}..={}", range.0, range.1),
                };
                self.spinner(&format!("cluster: k-means, k = {k}"))
            }
            (_, None) => self.spinner(""),
        };
        if let Ok(mut bars) = self.bars.lock() {
            bars.push((task, pb));
        }
    }

    fn advance(&self, task: Task, n: u64) {
        if let Ok(bars) = self.bars.lock() {
            if let Some((_, pb)) = bars.iter().find(|(t, _)| *t == task) {
                pb.inc(n);
            }
        }
    }

    fn finish(&self, task: Task) {
        if let Ok(mut bars) = self.bars.lock() {
            if let Some(i) = bars.iter().position(|(t, _)| *t == task) {
                bars.remove(i).1.finish_and_clear();
            }
        }
    }
}

impl engine::Observer for Terminal {
    fn event(&self, event: Event) {
        match event {
            Event::Skipped { stage, fingerprint } => {
                self.note(&format!("{}: up to date, skipped", stage.name()));
                self.verbose(&format!(
                    "  {}: fingerprint {} matches the manifest and its outputs are unchanged",
                    stage.name(),
                    &fingerprint[..16]
                ));
            }
            Event::Runs { stage, reason } => {
                self.verbose(&format!("{}: runs: {reason}", stage.name()))
            }
            // warnings show even with --quiet
            Event::Warning(w) => eprintln!("warning: {w}"),
            Event::Done {
                stage,
                summary,
                record,
            } => {
                self.note(summary);
                let rows: Vec<String> = record
                    .rows
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                self.verbose(&format!(
                    "  {}: fingerprint {}, rows: {}",
                    stage.name(),
                    &record.fingerprint[..16],
                    rows.join(", ")
                ));
                self.verbose(&format!("  {}: settings {}", stage.name(), record.settings));
                if !record.results.is_null() {
                    self.verbose(&format!("  {}: results {}", stage.name(), record.results));
                }
            }
            Event::MemoryFreed => release_freed_memory(),
            // shown even with --quiet: a run that waits must not look hung
            Event::Waiting { dir, holder } => eprintln!(
                "waiting: another themata run{} is writing {}; this run starts when it \
                 finishes (--no-wait to stop instead)",
                holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                dir.display()
            ),
        }
    }
}

/// Give the pages of freed heap memory back to the system between stages. glibc's malloc
/// keeps them (per-thread arenas, many small blocks such as passage texts): a run's peak
/// RSS was ~50 % above its peak heap without this. Elsewhere a no-op.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of malloc's own arenas to the kernel; it
    // takes no pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
