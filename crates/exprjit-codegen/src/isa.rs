//! Turns the host CPU into a Cranelift target ISA, once per process.

use crate::error::{Error, ErrorKind};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::sync::OnceLock;

/// The host ISA with exprjit's flags, built on first use and shared by every
/// kernel (building it probes the CPU and parses flags: too slow to repeat
/// for each of thousands of kernels).
pub(crate) fn host() -> Result<&'static Host, Error> {
    static HOST: OnceLock<Result<Host, String>> = OnceLock::new();
    HOST.get_or_init(build)
        .as_ref()
        .map_err(|m| Error::new(ErrorKind::Cranelift(m.clone())))
}

pub(crate) struct Host {
    pub(crate) isa: OwnedTargetIsa,
    /// The host has fused multiply-add: only then does `Options::fma`
    /// contract (without it Cranelift would call the `fma` libcall).
    pub(crate) has_fma: bool,
}

fn build() -> Result<Host, String> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| format!("setting {name}={value}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    // The verifier costs compile time; debug builds (and so every test) run it.
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    // cranelift-jit requires these: absolute relocations reach any address.
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    let builder = cranelift_native::builder().map_err(|m| format!("host not supported: {m}"))?;
    let isa = builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("building the host ISA: {e}"))?;
    let has_fma = isa
        .isa_flags()
        .iter()
        .any(|v| v.name == "has_fma" && v.as_bool() == Some(true));
    Ok(Host { isa, has_fma })
}
