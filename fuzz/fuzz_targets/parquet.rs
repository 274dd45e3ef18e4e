//! Parquet records from any bytes (see records.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata::formats::InputFormat;

#[path = "records.rs"]
mod records;

fuzz_target!(|data: &[u8]| records::check(InputFormat::Parquet, "f.parquet", data));
