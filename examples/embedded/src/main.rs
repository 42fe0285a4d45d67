//! kiln on a Cortex-M4F: loads each model `kiln export` wrote (embedded at build time, see
//! build.rs), prints its prediction for each embedded input row and, with the `train` feature,
//! trains a fresh copy on the device by online SGD. Everything goes out over semihosting as
//! lines the host test parses:
//!
//! ```text
//! predict NAME ROW v0 v1 ...                       one model output per input row (numbers,
//!                                                  or a raw table row's cells)
//! train NAME epochs E lr L before B after A        mean loss before and after training
//!                                                  (kiln_model_zoo::online::train)
//! trained NAME ROW v0 v1 ...                       the trained model's output per training row
//! phase NAME decode|predict|train heap_used U heap_peak P   bytes, after each phase
//! memory heap_peak H stack_peak S heap_size N      bytes
//! RESULT PASS | RESULT FAIL reason
//! ```
//! The exit status (through QEMU) is 0 on PASS, 1 otherwise.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use kiln_backends::{BackendKind, Device};
use kiln_model_zoo::Model;
use kiln_model_zoo::deploy::Deployment;
#[cfg(feature = "tables")]
use kiln_model_zoo::table::Cell;

/// One embedded model and its data (all byte slices are little-endian `f32`s but `model`).
pub struct Embedded {
    pub name: &'static str,
    pub model: &'static [u8],
    pub inputs: &'static [u8],
    /// Raw table rows, one per line, cells separated by tabs, in the order of the model's
    /// columns (category names and missing cells as the table has them).
    pub cells: &'static [u8],
    pub train_x: &'static [u8],
    pub train_y: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The heap, with a high-water mark.
struct TrackingHeap {
    heap: embedded_alloc::LlffHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

unsafe impl GlobalAlloc for TrackingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            let used = self.used.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(used, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.heap.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static HEAP: TrackingHeap = TrackingHeap {
    heap: embedded_alloc::LlffHeap::empty(),
    used: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};

const STACK_PAINT: u32 = 0xCAFE_F00D;

unsafe extern "C" {
    static mut _stack_end: u32;
    static _stack_start: u32;
}

/// Fills the unused stack with a pattern, so [`stack_peak`] can find how deep it went.
fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = &raw mut _stack_end as usize;
    while p < sp - 64 {
        unsafe { core::ptr::write_volatile(p as *mut u32, STACK_PAINT) };
        p += 4;
    }
}

fn stack_peak() -> usize {
    let top = &raw const _stack_start as usize;
    let mut p = &raw mut _stack_end as usize;
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == STACK_PAINT {
        p += 4;
    }
    top - p
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn line(prefix: core::fmt::Arguments<'_>, values: &[f32]) {
    let mut text = String::new();
    let _ = text.write_fmt(prefix);
    for v in values {
        let _ = write!(text, " {v:?}");
    }
    hprintln!("{}", text);
}

/// Heap in use and its peak so far, after a phase of the run.
fn phase(name: &str, phase: &str) {
    hprintln!(
        "phase {} {} heap_used {} heap_peak {}",
        name,
        phase,
        HEAP.used.load(Ordering::Relaxed),
        HEAP.peak.load(Ordering::Relaxed)
    );
}

fn run(device: &Device) -> Result<(), String> {
    for embedded in MODELS {
        let (deployment, model) = Deployment::decode::<Model>(embedded.model, device)
            .map_err(|e| alloc::format!("{}: {e}", embedded.name))?;
        phase(embedded.name, "decode");
        let d = deployment.shape.n_features;
        for (row, input) in floats(embedded.inputs).chunks_exact(d).enumerate() {
            let output = deployment
                .predict_row(&model, input, device)
                .map_err(|e| alloc::format!("{e}"))?;
            line(format_args!("predict {} {row}", embedded.name), &output);
        }
        #[cfg(feature = "tables")]
        for (row, cells) in core::str::from_utf8(embedded.cells)
            .map_err(|e| alloc::format!("{e}"))?
            .lines()
            .enumerate()
        {
            let cells: Vec<Cell> = cells.split('\t').map(Cell::Text).collect();
            let output = deployment
                .predict_cells(&model, &cells, device)
                .map_err(|e| alloc::format!("{}: {e}", embedded.name))?;
            line(format_args!("predict {} {row}", embedded.name), &output);
        }
        phase(embedded.name, "predict");
        #[cfg(feature = "train")]
        if !embedded.train_x.is_empty() {
            train(embedded, &deployment, device)?;
            phase(embedded.name, "train");
        }
    }
    Ok(())
}

#[cfg(feature = "train")]
fn train(embedded: &Embedded, deployment: &Deployment, device: &Device) -> Result<(), String> {
    use kiln_model_zoo::online::{EPOCHS, LEARNING_RATE, Rows};

    let (x, y) = (floats(embedded.train_x), floats(embedded.train_y));
    let rows = Rows {
        x: &x,
        y: &y,
        n_features: deployment.shape.n_features,
        task: deployment.shape.task,
    };
    let trained =
        kiln_model_zoo::online::train::<Model>(&deployment.model, &deployment.shape, &rows, device)
            .map_err(|e| alloc::format!("{}: {e}", embedded.name))?;
    hprintln!(
        "train {} epochs {} lr {:?} before {:?} after {:?}",
        embedded.name,
        EPOCHS,
        LEARNING_RATE,
        trained.before,
        trained.after
    );
    // The trained model's outputs on its own (already scaled) rows, for the host to compare.
    let identity = Deployment {
        preprocessing: kiln_model_zoo::Preprocessing::identity(
            deployment.preprocessing.feature_names.clone(),
            deployment.preprocessing.class_names.clone(),
        ),
        ..deployment.clone()
    };
    for (row, input) in x.chunks_exact(rows.n_features).enumerate() {
        let output = identity
            .predict_row(&trained.model, input, device)
            .map_err(|e| alloc::format!("{e}"))?;
        line(format_args!("trained {} {row}", embedded.name), &output);
    }
    // NaN counts as not reduced.
    if trained.after.partial_cmp(&trained.before) != Some(core::cmp::Ordering::Less) {
        return Err(alloc::format!(
            "{}: training did not reduce the loss ({} -> {})",
            embedded.name,
            trained.before,
            trained.after
        ));
    }
    Ok(())
}

#[entry]
fn main() -> ! {
    paint_stack();
    {
        use core::mem::MaybeUninit;
        static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
        unsafe { HEAP.heap.init(&raw mut MEMORY as usize, HEAP_SIZE) }
    }
    let device = kiln_backends::device(BackendKind::Flex).expect("flex is compiled in");
    device.seed(42);
    let result = run(&device);
    hprintln!(
        "memory heap_peak {} stack_peak {} heap_size {}",
        HEAP.peak.load(Ordering::Relaxed),
        stack_peak(),
        HEAP_SIZE
    );
    match result {
        Ok(()) => {
            hprintln!("RESULT PASS");
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(reason) => {
            hprintln!("RESULT FAIL {}", reason);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    // Semihosting exit ends QEMU; on hardware without a debugger, sleep until reset.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("RESULT FAIL panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
