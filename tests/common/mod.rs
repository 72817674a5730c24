//! Loads the expression tables under `tests/testdata/` and checks any
//! execution path against them; shared by every engine's test file.
#![allow(dead_code, unreachable_pub)]

pub mod layouts;
pub mod tables;
