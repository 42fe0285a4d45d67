//! Puts memory.x on the linker path, and embeds the models to run: every `NAME.kiln` (from
//! `kiln export`) in `$KILN_EMBED_DIR`, with `NAME.inputs.f32` (raw rows to predict, f32 LE) or
//! `NAME.cells.txt` (raw table rows: a line each, cells separated by tabs) and, for on-device
//! training, `NAME.train-x.f32` / `NAME.train-y.f32` (scaled rows, targets).

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    // 60 KiB: every model trained on the device, the MLP's the largest (its deployment holds a
    // table encoding of 64 columns besides); heap and stack stay within 96 KiB of RAM.
    let heap: usize = std::env::var("FW_HEAP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60 * 1024);
    println!("cargo:rerun-if-env-changed=FW_HEAP");
    println!("cargo:rerun-if-env-changed=KILN_EMBED_DIR");

    let mut code =
        format!("pub const HEAP_SIZE: usize = {heap};\npub static MODELS: &[Embedded] = &[\n");
    if let Some(dir) = std::env::var_os("KILN_EMBED_DIR") {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("KILN_EMBED_DIR is readable")
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .into_string()
                    .ok()?
                    .strip_suffix(".kiln")
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        for name in names {
            let file = |suffix: &str| {
                let path = dir.join(format!("{name}{suffix}"));
                println!("cargo:rerun-if-changed={}", path.display());
                if path.exists() {
                    format!("include_bytes!({:?})", path.display().to_string())
                } else {
                    "&[]".to_owned()
                }
            };
            writeln!(
                code,
                "    Embedded {{ name: {name:?}, model: {}, inputs: {}, cells: {}, train_x: {}, train_y: {} }},",
                file(".kiln"),
                file(".inputs.f32"),
                file(".cells.txt"),
                file(".train-x.f32"),
                file(".train-y.f32"),
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    std::fs::write(out.join("embedded.rs"), code).unwrap();
}
