//! Turns a kernel's machine code into assembly text for people.

/// Intel-syntax assembly of `code` loaded at `addr`, one instruction per
/// line; absolute addresses of exprjit's helpers are named.
#[cfg(target_arch = "x86_64")]
pub(crate) fn disassemble(code: &[u8], addr: u64) -> String {
    use iced_x86::{
        Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, SymbolResolver,
        SymbolResult,
    };
    use std::fmt::Write;

    struct Names;
    impl SymbolResolver for Names {
        fn symbol(
            &mut self,
            _instruction: &Instruction,
            _operand: u32,
            _instruction_operand: Option<u32>,
            address: u64,
            _address_size: u32,
        ) -> Option<SymbolResult<'_>> {
            let name = crate::symbols::name_at(usize::try_from(address).ok()?)?;
            Some(SymbolResult::with_str(address, name))
        }
    }

    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::with_options(Some(Box::new(Names)), None);
    let mut text = String::new();
    let mut line = String::new();
    let mut inst = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut inst);
        line.clear();
        formatter.format(&inst, &mut line);
        let offset = inst.ip() - addr;
        let _ = writeln!(text, "{offset:5x}:  {line}");
    }
    text
}

/// A hex dump of `code`, 16 bytes a line (no disassembler for this host).
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn disassemble(code: &[u8], _addr: u64) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    for (i, chunk) in code.chunks(16).enumerate() {
        let _ = write!(text, "{:5x}: ", i * 16);
        for b in chunk {
            let _ = write!(text, " {b:02x}");
        }
        text.push('\n');
    }
    text
}
