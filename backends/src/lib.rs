//! The one kiln crate that turns on burn backend features.
//!
//! Everything else in kiln takes a [`Device`] and never names a backend. This crate maps a
//! backend *name* (from a config file or the command line) to a burn [`Device`], says which
//! backends this build has, and, with `std`, checks that a backend really works on this machine.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

pub use burn::tensor::Device;

/// A backend kiln can run on. Every variant exists in every build; whether it is compiled in is
/// [`BackendKind::is_compiled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendKind {
    /// burn's pure-Rust CPU backend (std and no_std). kiln's default.
    Flex,
    /// burn's ndarray CPU backend (deprecated by burn in 0.22, kept for users who ask for it).
    Ndarray,
    /// GPU through wgpu: Vulkan, Metal, DX12 or GL, whichever the machine offers.
    Wgpu,
    /// wgpu pinned to Vulkan with SPIR-V kernels.
    Vulkan,
}

impl BackendKind {
    /// Every backend kiln knows, compiled in or not.
    pub const ALL: [BackendKind; 4] = [Self::Flex, Self::Ndarray, Self::Wgpu, Self::Vulkan];

    /// The name used in config files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Vulkan => "vulkan",
        }
    }

    /// The cargo feature (of `kiln-trainer` and `kiln-backends` alike) that compiles it in.
    pub const fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this backend runs on a GPU (and so may find no adapter on a given machine).
    pub const fn is_gpu(self) -> bool {
        matches!(self, Self::Wgpu | Self::Vulkan)
    }

    /// Whether this build has the backend.
    pub const fn is_compiled(self) -> bool {
        match self {
            Self::Flex => cfg!(feature = "flex"),
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Vulkan => cfg!(feature = "vulkan"),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = BackendError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| BackendError::Unknown {
                name: name.into(),
                known: known_names(),
            })
    }
}

fn known_names() -> String {
    let names: Vec<&str> = BackendKind::ALL.iter().map(|k| k.name()).collect();
    names.join(", ")
}

/// Why a backend cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The name is not a backend kiln knows.
    #[error("unknown backend `{name}`; the backends are: {known}")]
    Unknown { name: String, known: String },
    /// The backend exists but this build does not have it.
    #[error(
        "backend `{backend}` is not compiled into this build; rebuild with `--features {feature}` \
         (compiled in: {compiled})"
    )]
    NotCompiled {
        backend: BackendKind,
        feature: &'static str,
        compiled: String,
    },
    /// The backend is compiled in but does not work here (e.g. a GPU backend with no adapter).
    #[error("backend `{backend}` does not work on this machine: {reason}; {fix}")]
    Unavailable {
        backend: BackendKind,
        reason: String,
        fix: &'static str,
    },
}

/// The backends compiled into this build, in [`BackendKind::ALL`] order.
pub fn compiled() -> Vec<BackendKind> {
    BackendKind::ALL
        .into_iter()
        .filter(|kind| kind.is_compiled())
        .collect()
}

fn not_compiled(kind: BackendKind) -> BackendError {
    let names: Vec<&str> = compiled().iter().map(|k| k.name()).collect();
    BackendError::NotCompiled {
        backend: kind,
        feature: kind.feature(),
        compiled: names.join(", "),
    }
}

/// The burn device for `kind` (without autodiff), or why there is none in this build.
///
/// GPU devices are created lazily by burn: this does not prove an adapter exists. Use
/// [`probe`] (std) for that.
pub fn device(kind: BackendKind) -> Result<Device, BackendError> {
    match kind {
        #[cfg(feature = "flex")]
        BackendKind::Flex => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        // burn 0.22 deprecates ndarray in favour of flex; kiln keeps it selectable on purpose,
        // and this is the one place that constructs it.
        #[allow(deprecated)]
        BackendKind::Ndarray => Ok(Device::ndarray()),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(feature = "vulkan")]
        BackendKind::Vulkan => Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice)),
        #[allow(unreachable_patterns)]
        other => Err(not_compiled(other)),
    }
}

/// Whether `device` (with or without autodiff) computes on the host CPU, in the thread that
/// calls each op, so that work handed to two threads runs side by side.
pub fn is_host(device: &Device) -> bool {
    let plain = device.clone().inner();
    BackendKind::ALL
        .into_iter()
        .filter(|kind| !kind.is_gpu())
        .any(|kind| self::device(kind).is_ok_and(|host| host == plain))
}

/// What [`probe`] found out about a working backend.
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The backend probed.
    pub backend: BackendKind,
    /// What it runs on, e.g. `CPU` or the GPU adapter's name.
    pub description: String,
}

/// Creates the device for `kind` and runs a tiny computation on it, so a GPU backend with no
/// adapter (or a broken driver) is reported as an error here instead of as a panic mid-training.
#[cfg(feature = "std")]
pub fn probe(kind: BackendKind) -> Result<ProbeReport, BackendError> {
    use burn::tensor::Tensor;

    let device = device(kind)?;
    let outcome = quiet_catch_unwind(|| {
        let t = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
        let sum: f32 = t.sum_dim(0).into_scalar();
        (sum, describe(&device))
    });
    match outcome {
        Ok((sum, description)) if (sum - 6.0).abs() < 1e-6 => Ok(ProbeReport {
            backend: kind,
            description,
        }),
        Ok((sum, _)) => Err(BackendError::Unavailable {
            backend: kind,
            reason: format!("a test sum of 1+2+3 returned {sum}"),
            fix: "check the driver, or use `backend = \"flex\"`",
        }),
        Err(reason) => Err(BackendError::Unavailable {
            backend: kind,
            reason,
            fix: if kind.is_gpu() {
                "install a Vulkan, Metal or DX12 driver for your GPU (on Linux without a GPU: \
                 `apt-get install mesa-vulkan-drivers`), or use `backend = \"flex\"`"
            } else {
                "use `backend = \"flex\"`"
            },
        }),
    }
}

/// A backend ready to run on.
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct OpenBackend {
    pub kind: BackendKind,
    pub device: Device,
    /// What it runs on, e.g. `CPU` or the GPU adapter's name.
    pub description: String,
}

/// [`device`] for a GPU backend is lazy; this opens the backend only once [`probe`] has shown
/// it works (CPU backends are opened directly).
#[cfg(feature = "std")]
pub fn open(kind: BackendKind) -> Result<OpenBackend, BackendError> {
    let description = if kind.is_gpu() {
        probe(kind)?.description
    } else {
        String::from("CPU")
    };
    Ok(OpenBackend {
        kind,
        device: device(kind)?,
        description,
    })
}

#[cfg(feature = "std")]
fn describe(device: &Device) -> String {
    #[cfg(feature = "wgpu")]
    if let Some(identity) = device.identity() {
        return identity.name;
    }
    let _ = device;
    String::from("CPU")
}

/// Runs `f`, turning a panic into its message without printing it: burn reports a missing GPU
/// adapter by panicking, and kiln turns that into one clear error line instead.
#[cfg(feature = "std")]
fn quiet_catch_unwind<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    use std::panic;
    use std::sync::Mutex;

    // The panic hook is process-global: serialise probes so two threads never swap it at once.
    static HOOK_LOCK: Mutex<()> = Mutex::new(());
    let _guard = HOOK_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(panic::AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| String::from(*s))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| String::from("the backend panicked while starting"));
        // burn's messages can span lines; the CLI prints one.
        message.lines().next().unwrap_or_default().trim().to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>().unwrap(), kind);
        }
        assert_eq!("FLEX".parse::<BackendKind>().unwrap(), BackendKind::Flex);
        let err = "cuda".parse::<BackendKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown backend `cuda`; the backends are: flex, ndarray, wgpu, vulkan"
        );
    }

    #[test]
    fn every_compiled_backend_gives_a_device_and_the_others_name_their_feature() {
        for kind in BackendKind::ALL {
            match device(kind) {
                Ok(_) => assert!(kind.is_compiled()),
                Err(BackendError::NotCompiled { feature, .. }) => {
                    assert!(!kind.is_compiled());
                    assert_eq!(feature, kind.name());
                }
                Err(other) => panic!("unexpected error for {kind}: {other}"),
            }
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn compiled_cpu_backends_pass_the_probe() {
        for kind in compiled().into_iter().filter(|k| !k.is_gpu()) {
            let report = probe(kind).unwrap();
            assert_eq!(report.description, "CPU");
        }
    }
}
