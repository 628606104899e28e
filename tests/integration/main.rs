//! End-to-end tests of the `burstscope` binary (one integration binary, topic modules).

mod atomic;
mod batch;
mod bursts;
mod cclamp;
mod convert;
mod detect;
mod epsc;
mod epsc_abf;
mod events;
mod formats;
mod fuzz;
mod generate_inspect;
mod input_errors;
mod pynwb_roundtrip;
mod real_files;
mod report;
mod slurm;
mod sort;
mod util;
