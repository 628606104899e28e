//! Readers of the files acquisition programs write, one module per format,
//! each written from the format's description and checked against an
//! independent reader on real files (`tests/integration/formats.rs`).
//!
//! - [`abf`]: Axon Binary Format 1 and 2 (pCLAMP 9–11: Clampex, AxoScope),
//!   episodic, gap-free and triggered (variable-length) acquisition, with
//!   the protocol's epoch table, holding levels, telegraphs and tags.
//! - [`heka`]: HEKA PatchMaster bundles (`.dat` with the pulsed and
//!   stimulus trees): groups, series, sweeps, traces and the protocols'
//!   command waveforms.
//! - [`blackrock`]: Blackrock NEV 2.x event files: spikes with their
//!   electrodes and online-sorted units, digital-input changes.
//! - [`openephys`]: Open Ephys GUI legacy-format recordings (a folder of
//!   `.continuous` files), read in blocks as a [`burstscope_core::BlockSource`].
//! - [`intan`]: Intan RHD2000 `.rhd` files (traditional format), the
//!   amplifier channels as a [`burstscope_core::BlockSource`] in µV.
//! - [`neuralynx`]: Neuralynx Cheetah `.ncs` (a folder of channels as a
//!   [`burstscope_core::BlockSource`] in µV), `.ntt` tetrode spikes with
//!   their cells, `.nev` events.
//! - [`spikeglx`]: SpikeGLX `.bin` + `.meta` streams (Neuropixels imec AP/LF,
//!   NI-DAQ, OneBox) as a [`burstscope_core::BlockSource`] in µV with each
//!   channel's gain, shanks and the sync channel.
//! - [`raw`]: interleaved raw binary (int16, uint16, int32, float32,
//!   float64) with its layout given, read in blocks as a
//!   [`burstscope_core::BlockSource`].
//!
//! These crates read headers and samples only; turning them into
//! burstscope's recordings and sweeps is `burstscope-io`'s job.

pub mod abf;
pub mod blackrock;
pub mod heka;
pub mod intan;
pub mod neuralynx;
pub mod npy;
pub mod openephys;
pub mod raw;
pub mod spikeglx;
