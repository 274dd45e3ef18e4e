//! Parquet records from any bytes (see records.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata::formats::InputFormat;

#[path = "records.rs"]
mod records;

fuzz_target!(|data: &[u8]| {
    // polars' reader panics on some corrupt files; themata catches that
    // (`formats::parquet::read`) and names the file in an error. libfuzzer-sys's panic hook
    // aborts on every panic, caught or not, so this target sets a quiet hook instead: a panic
    // that escapes `read_records` is still a crash, as libfuzzer-sys aborts when the call
    // unwinds.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    records::check(InputFormat::Parquet, "f.parquet", data);
    // only the named columns are decoded: name those of the seeds (vocabulary tables) too, so
    // that the decoder is fuzzed, not only the schema check
    let cols = themata::formats::InputParams {
        text_column: "term".into(),
        id_column: Some("term_id".into()),
        title_column: Some("df".into()),
        date_column: Some("idf".into()),
        ..Default::default()
    };
    records::check_columns(InputFormat::Parquet, "f.parquet", data, &cols)
});
