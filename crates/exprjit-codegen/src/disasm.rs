//! Turns a kernel's machine code into assembly text for people.

/// Intel-syntax assembly of `code` loaded at `addr`, one instruction per
/// line; absolute addresses of exprjit's helpers are named.
#[cfg(target_arch = "x86_64")]
pub(crate) fn disassemble(code: &[u8], addr: u64) -> String {
    use iced_x86::{
        Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic, SymbolResolver,
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

    // Cranelift puts the function's constants (vector literals) after its
    // code in the same buffer. Code comes first and refers to them
    // RIP-relative, so the lowest such target inside the buffer that the
    // decoder reaches is where the code ends: decoding stops there and the
    // rest is dumped as data.
    let end = addr + code.len() as u64;
    let mut data_at = end;
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut inst = Instruction::default();
    while decoder.can_decode() && decoder.ip() < data_at {
        decoder.decode_out(&mut inst);
        if inst.is_ip_rel_memory_operand() {
            let target = inst.ip_rel_memory_address();
            if (addr..end).contains(&target) && target > inst.ip() {
                data_at = data_at.min(target);
            }
        }
    }
    let code_len = usize::try_from(data_at - addr).unwrap_or(code.len());
    let mut decoder = Decoder::with_ip(64, &code[..code_len], addr, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::with_options(Some(Box::new(Names)), None);
    let mut text = String::new();
    let mut line = String::new();
    while decoder.can_decode() {
        decoder.decode_out(&mut inst);
        line.clear();
        formatter.format(&inst, &mut line);
        let offset = inst.ip() - addr;
        let _ = writeln!(text, "{offset:5x}:  {line}");
        // Zero bytes from a `ret` or a `jmp` to the constants align them.
        let next = usize::try_from(inst.next_ip() - addr).unwrap_or(code_len);
        let ends_flow = matches!(inst.mnemonic(), Mnemonic::Ret | Mnemonic::Jmp);
        if ends_flow && code[next.min(code_len)..code_len].iter().all(|&b| b == 0) {
            break;
        }
    }
    if code_len < code.len() {
        let _ = writeln!(text, "; constants");
        for (i, chunk) in code[code_len..].chunks(16).enumerate() {
            let _ = write!(text, "{:5x}: ", code_len + i * 16);
            for b in chunk {
                let _ = write!(text, " {b:02x}");
            }
            text.push('\n');
        }
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
