#![no_main]

#[path = "../harness.rs"]
mod harness;

thread_local! {
    static DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    DIR.with(|dir| harness::columnar(data, dir.path()));
});
