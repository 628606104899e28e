//! End-to-end tests of the `burstscope` binary (one integration binary, topic modules).

mod bursts;
mod detect;
mod epsc;
mod generate_inspect;
mod input_errors;
mod pynwb_roundtrip;
mod util;
