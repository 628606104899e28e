//! Command-line definitions (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Analyse electrophysiology recordings end to end: detect spikes on tetrodes,
/// find bursts and compare them before and after a drug, measure NMDAR EPSCs in
/// slices across regions, and draw the paper figures — from NWB or HDF5 files.
#[derive(Debug, Parser)]
#[command(name = "burstscope", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Examples:\n  burstscope demo --out out/demo\n  burstscope generate tetrode --out session.nwb --tetrodes 8 --duration 300\n  burstscope inspect session.nwb\n  burstscope inspect lab.h5 --dataset /raw --rate 20000 --orientation channel-major"
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline end to end on a synthetic dataset (what the README's first command does).
    #[command(after_help = "Example:\n  burstscope demo --out out/demo")]
    Demo(DemoArgs),
    /// Generate synthetic recordings with ground truth.
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Summarise recording files: series, channel groups, units, epochs, sweeps.
    #[command(
        after_help = "Examples:\n  burstscope inspect session.nwb\n  burstscope inspect session.nwb --json > summary.json\n  burstscope inspect cells/*.nwb\n  burstscope inspect cell.abf        # Axon ABF1/ABF2: sweeps, channels, protocol epochs, tags\n  burstscope inspect lab.h5 --dataset /data/raw --rate 30000 --channels-per-group 4\n  burstscope inspect lab.h5 --map mapping.toml\n\nA mapping.toml for plain HDF5 files:\n  dataset = \"/data/raw\"\n  rate_hz = 30000.0\n  orientation = \"time-major\"   # or \"channel-major\"\n  conversion = 1.95e-7         # volts per stored unit\n  channels_per_group = 4"
    )]
    Inspect(InspectArgs),
    /// Detect spikes: band-pass, MAD noise, one event per spike per channel group, waveforms.
    #[command(
        after_help = "Examples:\n  burstscope detect session.nwb --out det/\n  burstscope detect session.nwb --out det/ --threshold 4.5 --band 300:5000 --sign both --format csv\n  burstscope detect session.nwb --out det/ --series ElectricalSeries --reference median\n  burstscope detect lab.h5 --out det/ --dataset /raw --rate 30000 --channels-per-group 4\n  burstscope detect trial.raw --out det/ --dtype int16 --channels 4 --rate 15000 --channels-per-group 4\n  burstscope detect continuous.dat --out det/ --dtype int16 --channels 32 --rate 30000 --gain-uv 0.195\n  burstscope detect session.nwb --out det/ --config detect.toml   # any DetectParams field\n\nWrites DIR/spikes.parquet (or .csv): sample, time_s, group, channel (electrode row),\namplitude_uv, threshold_ratio, peak_uv_0.. (filtered value on each channel of the group);\nDIR/waveforms.h5 (per group: waveforms [spike, sample, channel], int16 counts x the\nattribute conversion (µV per count, per channel) or float32 µV, spike_index, channels);\nDIR/detect.json (record: key = input hash, config, version; outputs; run).\nPreset with every default: data/detect.toml."
    )]
    Detect(DetectArgs),
    /// Sort spikes into units per electrode group (tetrode): detect, cluster, merge burst tails, quality metrics.
    #[command(
        after_help = "Examples:\n  burstscope sort session.nwb --out sorted/\n  burstscope sort session.nwb --out sorted/ --format csv --threads 2\n  burstscope sort session.nwb --out sorted/ --config sort.toml   # any SortSettings field, [detect] table\n  burstscope sort session.nwb --out sorted/ --no-burst-merge     # what a sorter without burst merging gives\n  burstscope sort session.nwb --out sorted/ --phy curate/        # then: phy template-gui curate/params.py\n  burstscope bursts curate/ --out bursts/ --labels good          # curated units into bursts\n\nWrites DIR/spikes.parquet (every event: sample, time_s, group, unit; unit -1 = unassigned),\nDIR/units.parquet (one row per unit with quality metrics and a label) and DIR/sort.json\n(record: input hash, config, version, merges made and why), DIR/sorted.nwb (NWB /units with\nwaveforms and metrics) and DIR/phy/ (a phy folder). Preset: data/sort.toml."
    )]
    Sort(SortArgs),
    /// Detect bursts per unit, compute per-window metrics, pre/post statistics and figures.
    #[command(
        after_help = "Examples:\n  burstscope bursts session.nwb --out bursts/\n  burstscope bursts session.nwb --out b/ --method maxinterval --format csv\n  burstscope bursts units.nwb --out b/ --drug-at 1800 --exclude-after 120\n  burstscope bursts units.nwb --out b/ --drug-at event:ketamine   # the first event named so\n  burstscope bursts array.nev --out b/ --drug-at event:digital:0   # digital line 0 going high\n  burstscope bursts spikes.csv --out b/ --baseline 0:600 --post 900:1500 --drug-name ketamine\n  burstscope bursts mea.h5 --out b/ --method logisi\n  burstscope bursts session.nwb --out b/ --start-isi-ms 15 --silence-ms 50 --min-spikes 3\n  burstscope bursts session.nwb --out b/ --config bursts.toml\n  burstscope bursts sorted/sorted.nwb --out b/ --labels good\n  burstscope bursts kilosort_output/ --out b/ --labels good   # a phy / Kilosort folder\n  burstscope bursts array.nev --out b/ --labels sorted        # Blackrock online-sorted units\n\nINPUT: an NWB file with /units, an MEA spike-train HDF5 file, a spikes table\n(CSV or Parquet) with columns unit and time_s, a phy / Kilosort folder\n(params.py, spike_times.npy, spike_clusters.npy, cluster_group.tsv or cluster_KSLabel.tsv),\nor a Blackrock NEV file (units ch<electrode>#<unit>; labels unsorted, sorted, noise).\n\nMethods (docs/bursts.md):\n  lhb          interval rule with preceding silence. Defaults: onset ISI <= 20 ms,\n               within-burst ISI <= 20 ms, silence before the burst >= 100 ms, >= 2 spikes\n               (a common LHb choice, not confirmed as the cited papers' exact values)\n  maxinterval  NeuroExplorer MaxInterval: 0.17 s / 0.3 s / 0.2 s / 0.01 s / 3 spikes\n  poisson      Poisson surprise, S > -ln 0.01\n  rank         rank surprise, RS >= -ln 0.01, 75th-percentile ISI limit\n  logisi       Pasquale logISI, 100 ms cut-off\n  cma          cumulative moving average (skewness of the CMA curve)\n\nWindows: the file's epochs (baseline, then the next epoch, e.g. ketamine), or\n--drug-at T or --drug-at event:NAME (baseline = start..T, post = T+gap..end; `inspect`\nlists a file's events), or --baseline/--post A:B.\n\nbursts.toml sections (every field optional; unknown fields are errors):\n  method = \"lhb\", bin_s = 60.0, format = \"parquet\", figures = true\n  [lhb] start_isi_max_s, end_isi_max_s, min_preceding_silence_s, min_spikes, ...\n  [maxinterval] [poisson] [rank] [logisi] [cma]   method parameters\n  [metrics] silent_below_hz = 0.05, bursting_min_per_min = 1.0, isi_violation_s = 0.002\n  [windows] drug_at_s or drug_at_event, baseline_s = [0, 600], post_s, exclude_after_s = 0, drug_name\n  [lfp] bands, target_hz, segment_s, max_freq_hz\nFlags override the file. Presets: data/bursts-lhb.toml, data/bursts-cotterill-hipsc.toml.\n\nWrites DIR/bursts, unit_metrics, time_course, stats (.parquet or .csv),\nDIR/figures/*.{svg,png,pdf} and DIR/bursts.json (record: key, outputs, run)."
    )]
    Bursts(BurstsArgs),
    /// Slice EPSC analysis: per-sweep measures, per-cell block and QC, region comparison, figures.
    #[command(
        after_help = "Examples:\n  burstscope epsc slices/ --out epsc/\n  burstscope epsc LHb_cell01.nwb CA1_cell01.nwb --out epsc/ --format csv\n  burstscope epsc slices/ --out epsc/ --latency-ms 100 --last-sweeps 5\n  burstscope epsc slices/ --out epsc/ --last-minutes 5 --cells cells.csv\n  burstscope epsc lab/ --out epsc/ --stim-ms 200 --test-pulse 50:100:-5\n  burstscope epsc slices/ --out epsc/ --config epsc.toml\n\nPATHS: NWB files (voltage-clamp sweeps; one cell per intracellular electrode),\nfolders of them, or Axon ABF files (one cell per voltage-clamp current channel; drug\nconditions from +drug / -drug tags), or HEKA PatchMaster bundles (.dat; one cell per group).
A bad file among several is reported and skipped (exit 1).\nConditions: each sweep's stimulus_description, or the epoch tags when every sweep\nnames the same protocol; 'baseline' sweeps form the baseline (case-insensitive).\n\nPer sweep: baseline -20..-5 ms before the stimulus, 2 ms artifact blanking, peak\n(outward at positive holding potentials), amplitude at --latency-ms, 10-90 % rise,\none- and two-exponential decay fits, charge 0-500 ms, access and input resistance\nfrom the test pulse. Stimuli come from the protocol's digital outputs when it has
them, else from the artifacts (stimulus_source = auto|artifact|protocol; or --stim-ms); every
stimulus time most sweeps share is a pulse (trains: a row per pulse, paired_pulse_ratio); the\ntest pulse from the command-voltage stimulus series (or --test-pulse).\n\nPer cell: % block over the last drug sweeps; use-dependent block from an exponential\nin the stimulus number (block per stimulus, plateau, initial decline).\n\nQC (a failed cell is listed with its reason and left out of group statistics\nunless --include-failed): access > 25 MOhm or changing > 20 %, holding current or\nbaseline amplitude drifting > 20 %, sweeps without a stimulus, > 20 % failed fits.\n\n--cells: CSV with columns cell, region, treatment (overrides the electrode location).\nepsc.toml sections: [sweep] (baseline_ms, blank_ms, peak_window_ms, latency_ms,\ncharge_window_ms, polarity, ...) and [cell] (last_sweeps, last_minutes, rs_max_mohm,\nrs_max_change, holding_max_drift, baseline_max_drift, ...); top level: stim_ms,\nholding_mv, holding_tolerance_mv = 2.5, ampa_holding_mv = -70, nmda_holding_mv = 40 (the NMDA/AMPA
ratio of cells with sweeps at both), include_failed, trace_window_ms = [20, 600],\nformat, figures, [test_pulse] start_ms/stop_ms/step_mv. Preset: data/epsc.toml.\n\nWrites DIR/sweeps, cells, group_stats (.parquet or .csv), DIR/figures/*.{svg,png,pdf}\nand DIR/epsc.json (record: key, outputs, run)."
    )]
    Epsc(EpscArgs),
    /// Current-clamp sweeps: action potentials per sweep, the F–I curve per cell, spike trains for `bursts`.
    #[command(
        after_help = "Examples:\n  burstscope cclamp cell.abf --out cc/\n  burstscope cclamp steps/*.abf cell.nwb --out cc/ --format csv\n  burstscope cclamp cell.abf --out cc/ --dvdt-threshold 15\n  burstscope bursts cc/spikes.parquet --out cc_bursts/    # the cells' spike trains into bursts\n\nPATHS: Axon ABF files (channels in current clamp; a channel labelled pA while the\namplifier is in current clamp is read as membrane potential, with a warning) or NWB\nfiles with CurrentClampSeries. A bad file among several is reported and skipped (exit 1).\n\nAction potentials: dV/dt rises through the threshold (20 V/s); the peak is the maximum\nbefore dV/dt turns negative (within 5 ms) and at least 20 mV above the threshold\npotential; half-width at half the amplitude; AHP the minimum within 20 ms after the peak.\nThe current step is the command's longest step away from its holding current.\n\ncclamp.toml: [aps] dvdt_threshold_v_per_s, max_rise_ms, min_amplitude_mv,\nahp_window_ms; top level: format, figures.\n\nWrites DIR/sweeps (per sweep: step_pa, counts, rate, first-spike latency and shape),\nDIR/aps (every AP), DIR/cells (rheobase, F-I gain, max rate), DIR/spikes (unit = cell,\ntime_s on the recording's clock), DIR/figures/fi_curve.{svg,png,pdf}, DIR/cclamp.json."
    )]
    Cclamp(CclampArgs),
    /// Convert any recording burstscope reads into an NWB 2.x file (for DANDI and every NWB tool).
    #[command(
        after_help = "Examples:\n  burstscope convert cell.abf --out cell.nwb\n  burstscope convert cell.dat --out cell.nwb            # HEKA PatchMaster bundle\n  burstscope convert 'Record Node 101/' --out session.nwb --channels-per-group 2 --gzip 4\n  burstscope convert run_g0_t0.imec0.ap.bin --out probe.nwb   # SpikeGLX (.meta beside it)\n  burstscope convert array.ns5 --out array.nwb          # Blackrock NSx (NEV beside it for events)\n  burstscope convert array.nev --out units.nwb          # online-sorted units\n  burstscope convert cell.abf --out cell.nwb --subject subject_id=rat7 --subject species=\"Rattus norvegicus\" --subject sex=M --subject age=P60D\n  burstscope convert trial.raw --out trial.nwb --dtype int16 --channels 4 --rate 15000 --channels-per-group 4\n\nExtracellular recordings become one int16 ElectricalSeries (the stored integers kept;\nconversion and channel_conversion give volts), streamed in --chunk-samples blocks and\ngzip-compressed with --gzip N, with the electrode table and one ElectrodeGroup per\ngroup; TTL and digital-input edges an AnnotationSeries. Patch-clamp files become one\nIntracellularElectrode per cell, VoltageClampSeries / CurrentClampSeries with their\ncommands and the IntracellularRecordingsTable; ABF tags an AnnotationSeries and +drug /\n-drug conditions epochs. NEV units become /units with their labels. The program,\nversion, input and options are in /general/source_script. Nothing is written on error."
    )]
    Convert(ConvertArgs),
    /// Run every session of a manifest through its stages, each in a worker process, reusing the cache.
    #[command(
        after_help = "Examples:\n  burstscope batch study.csv --out study/\n  burstscope batch study.csv --out study/ --config dataset.toml --jobs 2\n  burstscope batch study.csv --out study/ --dry-run        # run / cached / failed before, per stage\n  burstscope batch study.csv --out study/ --force bursts   # recompute bursts (and nothing upstream)\n  burstscope batch study.csv --out study/ --shard 0/4      # one of four workers (SLURM arrays: automatic)\n\nMANIFEST (.csv with a header, or .toml with [[session]] tables; paths relative to it):\n  session, path, kind (tetrode: detect -> sort -> bursts; units: bursts; slice: epsc),\n  subject, group, region, drug, [drug_at_s], [config], [tags], further columns kept as text.\n  Example: data/manifests/example.csv.\n\ndataset.toml: [detect], [sort], [bursts], [epsc] tables, each what that command's --config\ntakes; a session's config file (the same tables, or for a units or slice session that\nstage's own settings file) overrides it key by key.\n\nWrites DIR/sessions/<session>/<stage>/ (each stage's usual output and record), beside it\n<stage>.toml (the config used), <stage>.log (the worker's output) and, after a failure,\n<stage>.failed.json; DIR/batch.json (every stage's key, outcome and reason).\nA stage is reused when its key (input content, validated config, upstream stages, program\nand algorithm versions) is unchanged and its outputs verify. Exit 1 when a session failed\n(the others complete), 2 for an invalid manifest or config (nothing runs)."
    )]
    Batch(BatchArgs),
}

/// `burstscope batch`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    /// `slurm` (write and submit SLURM jobs) or `merge` (the dataset stage alone).
    #[command(subcommand)]
    pub action: Option<BatchAction>,
    /// Manifest: .csv (header line) or .toml ([[session]] tables).
    #[arg(required = true)]
    pub manifest: Option<PathBuf>,
    /// Output folder (sessions/, dataset/, batch.json).
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Dataset config: [detect], [sort], [bursts], [epsc] tables.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Sessions processed at once, each stage in its own worker process.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Print the plan (run / cached / failed before) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Recompute every stage, or STAGE and the stages after it.
    #[arg(long, num_args = 0..=1, default_missing_value = "all", value_name = "STAGE")]
    pub force: Option<String>,
    /// Longest a stage may run before its worker is killed, s.
    #[arg(long, default_value_t = 3600.0)]
    pub timeout_s: f64,
    /// Run only share I/N of the sessions (default: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT when set).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// `burstscope batch slurm|merge`.
#[derive(Debug, Subcommand)]
pub enum BatchAction {
    /// Write (and with --submit, submit) a SLURM array job over the sessions and a merge job after it.
    #[command(
        after_help = "Examples:\n  burstscope batch slurm study.csv --out /shared/study --array 8 --time 04:00:00 --mem 8G\n  burstscope batch slurm study.csv --out /shared/study --array 8 --partition short --submit\n\nWrites DIR/slurm/array.sbatch (task I of N runs `burstscope batch MANIFEST --out DIR\n--shard I/N`, from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT) and DIR/slurm/merge.sbatch\n(`burstscope batch merge DIR`); --submit runs sbatch for both, the merge with\n--dependency=afterany on the array. DIR must be on a file system every node sees."
    )]
    Slurm(BatchSlurmArgs),
    /// Run the dataset stage over every session stage that completed (after a sharded or SLURM run).
    #[command(after_help = "Example:\n  burstscope batch merge /shared/study")]
    Merge(BatchMergeArgs),
}

/// `burstscope batch slurm`.
#[derive(Debug, Args)]
pub struct BatchSlurmArgs {
    /// Manifest.
    pub manifest: PathBuf,
    /// Output folder, on a file system every node sees.
    #[arg(long)]
    pub out: PathBuf,
    /// Dataset config.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Array tasks (shards) [default: one per session, at most 100].
    #[arg(long)]
    pub array: Option<usize>,
    /// SLURM partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per task (SLURM format, e.g. 04:00:00).
    #[arg(long, default_value = "04:00:00")]
    pub time: String,
    /// Memory per task (SLURM format, e.g. 8G).
    #[arg(long, default_value = "8G")]
    pub mem: String,
    /// CPUs per task.
    #[arg(long, default_value_t = 2)]
    pub cpus: usize,
    /// Submit with sbatch (otherwise only write the scripts).
    #[arg(long)]
    pub submit: bool,
}

/// `burstscope batch merge`.
#[derive(Debug, Args)]
pub struct BatchMergeArgs {
    /// The batch's output folder.
    pub dir: PathBuf,
}

/// `burstscope demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    /// Session length, s.
    #[arg(long, default_value_t = 300.0)]
    pub duration: f64,
    /// Number of tetrodes in the session.
    #[arg(long, default_value_t = 4)]
    pub tetrodes: usize,
    /// Slice cells per region (LHb and CA1).
    #[arg(long, default_value_t = 4)]
    pub cells_per_region: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `burstscope generate ...`.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// An in vivo tetrode session (NWB with raw signal, /units truth, epochs) and a truth JSON.
    #[command(
        after_help = "Examples:\n  burstscope generate tetrode --out session.nwb\n  burstscope generate tetrode --out long.nwb --tetrodes 8 --duration 1200 --injection 600 --gzip 4\n  burstscope generate tetrode --out s.nwb --config tetrode.toml   # any TetrodeParams field"
    )]
    Tetrode(TetrodeArgs),
    /// A slice dataset: one voltage-clamp NWB file per cell, LHb and CA1, with truth JSON.
    #[command(
        after_help = "Examples:\n  burstscope generate slices --out slices/\n  burstscope generate slices --out slices/ --cells-per-region 6 --drift-cells 1"
    )]
    Slices(SlicesArgs),
    /// A study for `batch`: animals in two groups (cLH, control) with unit sessions around ketamine and slice cells, a manifest and the truth.
    #[command(
        after_help = "Examples:\n  burstscope generate dataset --out study/\n  burstscope generate dataset --out study/ --animals 20 --sessions 4 --duration 1800 --slice-animals 4\n  burstscope batch study/manifest.csv --out study-out/ --jobs 2\n\nWrites study/units/<animal>-s<k>.nwb (NWB /units of the true spike trains, electrodes,\nepochs baseline/ketamine; no wide-band signal), study/slices/<animal>/ (voltage-clamp cells,\nLHb and CA1), study/manifest.csv and study/truth.json (each animal's group and ketamine\nburst factor: log-normal around 0.3 in cLH and 0.8 in control animals, SD 0.3)."
    )]
    Dataset(DatasetArgs),
}

/// `burstscope generate dataset`.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Animals (alternately cLH and control).
    #[arg(long, default_value_t = 20)]
    pub animals: usize,
    /// Unit sessions per animal.
    #[arg(long, default_value_t = 4)]
    pub sessions: usize,
    /// Session length, s (ketamine half-way).
    #[arg(long, default_value_t = 1800.0)]
    pub duration: f64,
    /// Tetrodes per session.
    #[arg(long, default_value_t = 4)]
    pub tetrodes: usize,
    /// Animals (the first) that also give slice cells.
    #[arg(long, default_value_t = 4)]
    pub slice_animals: usize,
    /// Slice cells per region per slice animal.
    #[arg(long, default_value_t = 3)]
    pub cells_per_region: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `burstscope generate tetrode`.
#[derive(Debug, Args)]
pub struct TetrodeArgs {
    /// Output NWB file.
    #[arg(long)]
    pub out: PathBuf,
    /// TOML file with generator parameters (fields of TetrodeParams); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Number of tetrodes (4 channels each).
    #[arg(long)]
    pub tetrodes: Option<usize>,
    /// Duration, s.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Sampling rate, Hz.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Ketamine injection time, s (default: half-way).
    #[arg(long)]
    pub injection: Option<f64>,
    /// Units per tetrode.
    #[arg(long)]
    pub units_per_tetrode: Option<usize>,
    /// Burst rate after injection as a fraction of baseline (size of the ketamine effect).
    #[arg(long)]
    pub ketamine_burst_factor: Option<f64>,
    /// gzip level for the raw data (0 = uncompressed, fastest).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=9))]
    pub gzip: u8,
    /// Random seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `burstscope generate slices`.
#[derive(Debug, Args)]
pub struct SlicesArgs {
    /// Output folder (one NWB file per cell).
    #[arg(long)]
    pub out: PathBuf,
    /// TOML file with per-cell defaults (fields of SliceParams); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Cells per region.
    #[arg(long, default_value_t = 3)]
    pub cells_per_region: usize,
    /// Regions, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "LHb,CA1")]
    pub regions: Vec<String>,
    /// How many cells per region get access-resistance drift (+60 % over the recording).
    #[arg(long, default_value_t = 0)]
    pub drift_cells: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Output format of `inspect`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Orientation {
    /// Rows are time.
    TimeMajor,
    /// Rows are channels.
    ChannelMajor,
}

/// How to read a plain HDF5 file (ignored for NWB files).
#[derive(Debug, Args, Clone)]
pub struct MappingArgs {
    /// Plain HDF5: path of the samples dataset.
    #[arg(long, requires = "rate")]
    pub dataset: Option<String>,
    /// Plain HDF5 or raw binary: sampling rate, Hz.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Plain HDF5: layout of a 2-D dataset.
    #[arg(long, value_enum, default_value_t = Orientation::TimeMajor)]
    pub orientation: Orientation,
    /// Plain HDF5: scale from stored values to volts.
    #[arg(long, default_value_t = 1.0)]
    pub conversion: f64,
    /// Plain HDF5 or raw binary: channels per group (2 for stereotrodes, 4 for tetrodes).
    #[arg(long)]
    pub channels_per_group: Option<usize>,
    /// Plain HDF5: a TOML mapping file instead of the flags above.
    #[arg(long, conflicts_with = "dataset")]
    pub map: Option<PathBuf>,
    /// Raw interleaved binary: the sample type (int16, uint16, int32, float32, float64); needs --channels and --rate.
    #[arg(long, requires_all = ["channels", "rate"], conflicts_with_all = ["dataset", "map"])]
    pub dtype: Option<String>,
    /// Raw binary: channels per frame.
    #[arg(long, requires = "dtype")]
    pub channels: Option<usize>,
    /// Raw binary: bytes before the first frame [default: 0].
    #[arg(long, requires = "dtype")]
    pub offset_bytes: Option<u64>,
    /// Raw binary: microvolts per stored unit [default: 1].
    #[arg(long, requires = "dtype")]
    pub gain_uv: Option<f64>,
}

/// `burstscope inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Files to inspect.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON (one array of summaries) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Mapping for plain HDF5 files.
    #[command(flatten)]
    pub mapping: MappingArgs,
}

/// `--drug-at`: a time or a named event.
#[derive(Debug, Clone, PartialEq)]
pub enum DrugAt {
    /// Seconds on the recording's clock.
    Seconds(f64),
    /// The first event with this name.
    Event(String),
}

fn parse_drug_at(s: &str) -> Result<DrugAt, String> {
    if let Some(name) = s.strip_prefix("event:") {
        if name.trim().is_empty() {
            return Err("event: needs a name, e.g. event:ketamine".into());
        }
        return Ok(DrugAt::Event(name.to_string()));
    }
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
        .map(DrugAt::Seconds)
        .ok_or_else(|| format!("{s:?}: expected seconds (e.g. 1800) or event:NAME (e.g. event:ketamine)"))
}

/// Table file format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TableFormatArg {
    /// Apache Parquet (Snappy).
    Parquet,
    /// Comma-separated values.
    Csv,
}

/// Deflection sign.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SignArg {
    /// Negative troughs.
    Neg,
    /// Positive peaks.
    Pos,
    /// Both.
    Both,
}

/// Common reference.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReferenceArg {
    /// None.
    None,
    /// Group median.
    Median,
    /// Group mean.
    Average,
}

/// `burstscope convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Recording: ABF, HEKA .dat, NEV, NSx, SpikeGLX .bin, an Open Ephys folder, or raw binary with --dtype.
    pub input: PathBuf,
    /// The NWB file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// gzip level for continuous data (0 = none) [default: 0].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    pub gzip: Option<u8>,
    /// Samples per chunk of continuous data [default: 65536].
    #[arg(long)]
    pub chunk_samples: Option<usize>,
    /// Raw binary: sample type (int16).
    #[arg(long)]
    pub dtype: Option<String>,
    /// Raw binary: channels per frame.
    #[arg(long, requires = "dtype")]
    pub channels: Option<usize>,
    /// Raw binary: sampling rate, Hz.
    #[arg(long, requires = "dtype")]
    pub rate: Option<f64>,
    /// Raw binary: header bytes before the first frame.
    #[arg(long, requires = "dtype")]
    pub offset_bytes: Option<u64>,
    /// Raw binary: µV per stored unit.
    #[arg(long, requires = "dtype")]
    pub gain_uv: Option<f64>,
    /// Channels per group (2 stereotrodes, 4 tetrodes) when the file does not say.
    #[arg(long)]
    pub channels_per_group: Option<usize>,
    /// A subject field, KEY=VALUE (subject_id, species, sex, age as ISO 8601 e.g. P60D, ...); repeat.
    #[arg(long, value_parser = parse_key_value)]
    pub subject: Vec<(String, String)>,
    /// An experimenter ("Last, First"); repeat.
    #[arg(long)]
    pub experimenter: Vec<String>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE"))
}

/// `burstscope detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Recording (NWB, plain HDF5 with mapping options, or raw binary with --dtype --channels --rate).
    pub file: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Series to use (name or HDF5 path; default: the first under /acquisition).
    #[arg(long)]
    pub series: Option<String>,
    /// TOML file with detection parameters (fields of DetectParams); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Threshold in robust σ (MAD/0.6745).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Band-pass edges in Hz, LOW:HIGH.
    #[arg(long, value_parser = parse_band)]
    pub band: Option<(f64, f64)>,
    /// Butterworth order.
    #[arg(long)]
    pub order: Option<usize>,
    /// Deflection sign.
    #[arg(long, value_enum)]
    pub sign: Option<SignArg>,
    /// Common reference within each channel group.
    #[arg(long, value_enum)]
    pub reference: Option<ReferenceArg>,
    /// Dead time per group, ms.
    #[arg(long)]
    pub dead_time_ms: Option<f64>,
    /// Cross-channel exclusion window within a group, ms.
    #[arg(long)]
    pub exclusion_ms: Option<f64>,
    /// Table format [default: parquet].
    #[arg(long, value_enum)]
    pub format: Option<TableFormatArg>,
    /// Do not write waveforms.h5.
    #[arg(long)]
    pub no_waveforms: bool,
    /// gzip level for waveforms.h5 (0 = none, the fastest; 1-9 smaller but slower) [default: 0].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    pub waveforms_gzip: Option<u8>,
    /// Store waveform snippets as float32 µV (default: int16 counts of the
    /// channel's noise σ/32, half the size; read back as µV by burstscope).
    #[arg(long)]
    pub waveforms_float32: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Mapping for plain HDF5 files.
    #[command(flatten)]
    pub mapping: MappingArgs,
}

/// `burstscope sort`.
#[derive(Debug, Args)]
pub struct SortArgs {
    /// Recording: NWB or plain HDF5 (other formats through `burstscope convert`).
    pub file: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// TOML file with sort settings ([detect] holds detection parameters); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Series to use (name or HDF5 path; default: the first under /acquisition).
    #[arg(long)]
    pub series: Option<String>,
    /// Detection threshold in robust σ.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Also write the phy folder (always in DIR/phy) to this folder, for curation in phy.
    #[arg(long)]
    pub phy: Option<PathBuf>,
    /// Do not merge burst tails into their neuron (for comparison).
    #[arg(long)]
    pub no_burst_merge: bool,
    /// Table format [default: parquet].
    #[arg(long, value_enum)]
    pub format: Option<TableFormatArg>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Mapping for plain HDF5 files.
    #[command(flatten)]
    pub mapping: MappingArgs,
}

fn parse_band(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| format!("'{s}': expected LOW:HIGH in Hz, e.g. 300:6000"))?;
    let a: f64 = a.trim().parse().map_err(|_| format!("'{a}': expected a number of Hz"))?;
    let b: f64 = b.trim().parse().map_err(|_| format!("'{b}': expected a number of Hz"))?;
    Ok((a, b))
}

/// Burst detection methods.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// Interval rule with preceding silence (LHb).
    Lhb,
    /// MaxInterval (NeuroExplorer).
    Maxinterval,
    /// Poisson surprise.
    Poisson,
    /// Rank surprise.
    Rank,
    /// logISI (Pasquale).
    Logisi,
    /// Cumulative moving average.
    Cma,
}

/// `burstscope bursts`.
#[derive(Debug, Args, Clone)]
pub struct BurstsArgs {
    /// NWB file with /units, MEA spike-train HDF5, or a spikes table (.csv/.parquet: unit, time_s).
    pub input: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Burst detection method [default: lhb].
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// TOML file with method and metric parameters; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// lhb: largest ISI that opens a burst, ms (default 20).
    #[arg(long)]
    pub start_isi_ms: Option<f64>,
    /// lhb: largest ISI within a burst, ms (default 20).
    #[arg(long)]
    pub end_isi_ms: Option<f64>,
    /// lhb: silence required before a burst, ms (default 100).
    #[arg(long)]
    pub silence_ms: Option<f64>,
    /// Fewest spikes in a burst (default: the method's).
    #[arg(long)]
    pub min_spikes: Option<usize>,
    /// Injection time: seconds, or event:NAME — the first event of the input
    /// with that name (epoch tag, annotation, event label, digital:BIT of a NEV
    /// digital line); baseline = start..T, post = T + gap..end.
    #[arg(long, value_parser = parse_drug_at)]
    pub drug_at: Option<DrugAt>,
    /// Baseline window START:STOP in s.
    #[arg(long, value_parser = parse_range, requires = "post")]
    pub baseline: Option<(f64, f64)>,
    /// Post-drug window START:STOP in s.
    #[arg(long, value_parser = parse_range, requires = "baseline")]
    pub post: Option<(f64, f64)>,
    /// Time excluded after the injection, s [default: 0].
    #[arg(long)]
    pub exclude_after: Option<f64>,
    /// Name of the post-drug window (default: the epoch tag, else "post").
    #[arg(long)]
    pub drug_name: Option<String>,
    /// Time-course bin, s [default: 60].
    #[arg(long)]
    pub bin: Option<f64>,
    /// Table format [default: parquet].
    #[arg(long, value_enum)]
    pub format: Option<TableFormatArg>,
    /// Do not draw figures.
    #[arg(long)]
    pub no_figures: bool,
    /// Keep only units with these curation labels, comma-separated (e.g. good): phy/Kilosort labels or a label/quality column of /units.
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| format!("'{s}': expected START:STOP in seconds, e.g. 0:600"))?;
    let a: f64 = a.trim().parse().map_err(|_| format!("'{a}': expected a number of seconds"))?;
    let b: f64 = b.trim().parse().map_err(|_| format!("'{b}': expected a number of seconds"))?;
    if !(b > a) {
        return Err(format!("'{s}': STOP must be after START"));
    }
    Ok((a, b))
}

/// `burstscope cclamp`.
#[derive(Debug, Args, Clone)]
pub struct CclampArgs {
    /// ABF or NWB files with current-clamp sweeps.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// dV/dt that starts an action potential, V/s [default: 20].
    #[arg(long)]
    pub dvdt_threshold: Option<f64>,
    /// TOML with an [aps] table; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Table format [default: parquet].
    #[arg(long, value_enum)]
    pub format: Option<TableFormatArg>,
    /// Do not draw figures.
    #[arg(long)]
    pub no_figures: bool,
}

/// `burstscope epsc`.
#[derive(Debug, Args, Clone)]
pub struct EpscArgs {
    /// NWB or Axon ABF files, or folders of NWB files (one cell per intracellular electrode or ABF current channel).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Fixed latency after the stimulus for the NMDA amplitude, ms.
    #[arg(long)]
    pub latency_ms: Option<f64>,
    /// % block from the last N drug sweeps (default 10).
    #[arg(long)]
    pub last_sweeps: Option<usize>,
    /// % block from the drug sweeps of the last M minutes instead.
    #[arg(long, conflicts_with = "last_sweeps")]
    pub last_minutes: Option<f64>,
    /// Stimulus time within each sweep, ms (default: found from the artifact).
    #[arg(long)]
    pub stim_ms: Option<f64>,
    /// Analyse the sweeps held at this potential, mV (±2.5); default: the most
    /// common holding potential of each cell (e.g. the +40 mV NMDA sweeps of a
    /// cell also recorded at −70 mV).
    #[arg(long, allow_hyphen_values = true)]
    pub holding_mv: Option<f64>,
    /// Test pulse START_MS:STOP_MS:STEP_MV when the file has no command series.
    #[arg(long, value_parser = parse_test_pulse)]
    pub test_pulse: Option<(f64, f64, f64)>,
    /// Cell metadata CSV/Parquet with columns cell, region, treatment.
    #[arg(long)]
    pub cells: Option<PathBuf>,
    /// TOML with [sweep] and [cell] parameters; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Keep QC-failed cells in the group statistics.
    #[arg(long)]
    pub include_failed: bool,
    /// Table format [default: parquet].
    #[arg(long, value_enum)]
    pub format: Option<TableFormatArg>,
    /// Do not draw figures.
    #[arg(long)]
    pub no_figures: bool,
}

fn parse_test_pulse(s: &str) -> Result<(f64, f64, f64), String> {
    let f: Vec<&str> = s.split(':').collect();
    let bad = || format!("'{s}': expected START_MS:STOP_MS:STEP_MV, e.g. 50:100:-5");
    if f.len() != 3 {
        return Err(bad());
    }
    let v: Vec<f64> = f.iter().map(|x| x.trim().parse::<f64>().map_err(|_| bad())).collect::<Result<_, _>>()?;
    if !(v[1] > v[0] && v[0] >= 0.0 && v[2] != 0.0) {
        return Err(bad());
    }
    Ok((v[0], v[1], v[2]))
}
