//! Publication figures for burstscope: one consistent style at journal column
//! width, each figure written as SVG, 300-dpi PNG and PDF.
//!
//! Text uses the bundled DejaVu Sans (`fonts/`, Bitstream Vera licence), so
//! output never depends on the fonts a machine has. Every figure is a plain
//! data struct implementing [`Figure`]; [`render`] draws it once per backend
//! and writes the three files through temporary files renamed on success.
//!
//! ```no_run
//! use burstscope_plot::{ClassBars, render};
//! let fig = ClassBars {
//!     groups: vec![("baseline".into(), [0.1, 0.3, 0.6]), ("ketamine".into(), [0.2, 0.6, 0.2])],
//!     title: "Firing classes".into(),
//! };
//! render(&fig, std::path::Path::new("out"), "classes").unwrap();
//! ```

mod figures;

pub use figures::{
    AnimalPairedPlot, AnimalPanel, ClassBars, CourseSeries, CrossCorrelograms, GroupPanels, GroupPoints, IsiHistogram,
    PairedPanel, PairedPlot, PeakProjections, Raster, RasterRow, StimulusCourse, TimeCourse, TimeCoursePanel,
    TraceOverlay, TraceSet, UnitSheet, fmt_p,
};

use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// The bundled font (DejaVu Sans).
pub const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// SVG user units per inch (CSS pixels).
pub const SVG_DPI: f64 = 96.0;
/// Raster resolution.
pub const PNG_DPI: f64 = 300.0;
/// Single journal column (89 mm).
pub const COLUMN_IN: f64 = 3.5;
/// Full page width (183 mm).
pub const PAGE_IN: f64 = 7.2;

/// Errors of figure output.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Drawing failed.
    #[error("cannot draw figure {name}: {message}")]
    Draw {
        /// Figure name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// A figure: its size and how to draw it at a given scale (1 = SVG units).
pub trait Figure {
    /// Width and height in inches.
    fn size_in(&self) -> (f64, f64);
    /// Draws onto `root`; sizes in SVG units are multiplied by `s`.
    ///
    /// # Errors
    /// A message when drawing fails.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>, s: f64) -> Result<(), String>;
}

/// The files one figure was written to.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Vector figure.
    pub svg: PathBuf,
    /// 300-dpi raster.
    pub png: PathBuf,
    /// PDF with the font embedded.
    pub pdf: PathBuf,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; registration cannot fail for it.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    burstscope_core::write_file(path, bytes).map_err(|source| PlotError::Io { path: path.to_path_buf(), source })
}

/// Draws `fig` to an SVG string.
///
/// # Errors
/// [`PlotError::Draw`].
pub fn to_svg<F: Figure>(fig: &F, name: &str) -> Result<String, PlotError> {
    register_font();
    let (w, h) = fig.size_in();
    let size = ((w * SVG_DPI).round() as u32, (h * SVG_DPI).round() as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        fig.draw(&root, 1.0).map_err(|m| PlotError::Draw { name: name.into(), message: m })?;
        root.present().map_err(|e| PlotError::Draw { name: name.into(), message: e.to_string() })?;
    }
    Ok(fill_opacity(&svg))
}

/// plotters gives a translucent shape `opacity="a"`, which PDF can only
/// express as a transparency group per shape (a scatter of 60 000 points
/// became 35 MB and most of the sorting time). For a shape without a stroke
/// `fill-opacity` draws the same pixels as a plain fill with an alpha.
fn fill_opacity(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    for line in svg.split_inclusive('\n') {
        match (line.find(" opacity=\""), line.contains("stroke=\"none\"")) {
            (Some(at), true) => {
                out.push_str(&line[..at]);
                out.push_str(" fill-opacity=\"");
                out.push_str(&line[at + " opacity=\"".len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Draws `fig` to PNG bytes at 300 dpi (with the resolution recorded in the file).
///
/// # Errors
/// [`PlotError::Draw`].
pub fn to_png<F: Figure>(fig: &F, name: &str) -> Result<Vec<u8>, PlotError> {
    register_font();
    let (w, h) = fig.size_in();
    let (pw, ph) = ((w * PNG_DPI).round() as u32, (h * PNG_DPI).round() as u32);
    let mut rgb = vec![255u8; pw as usize * ph as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (pw, ph)).into_drawing_area();
        fig.draw(&root, PNG_DPI / SVG_DPI).map_err(|m| PlotError::Draw { name: name.into(), message: m })?;
        root.present().map_err(|e| PlotError::Draw { name: name.into(), message: e.to_string() })?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, pw, ph);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (PNG_DPI / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions { xppu: ppm, yppu: ppm, unit: png::Unit::Meter }));
        let err = |e: png::EncodingError| PlotError::Draw { name: name.into(), message: e.to_string() };
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(&rgb).map_err(err)?;
    }
    Ok(out)
}

/// Converts an SVG drawn by [`to_svg`] to PDF, embedding the bundled font.
///
/// # Errors
/// [`PlotError::Draw`].
pub fn svg_to_pdf(svg: &str, name: &str) -> Result<Vec<u8>, PlotError> {
    use svg2pdf::usvg;
    let mut opt = usvg::Options::default();
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    // plotters writes the generic family; point it at the bundled font
    opt.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let err = |m: String| PlotError::Draw { name: name.into(), message: m };
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| err(e.to_string()))?;
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map(|pdf| sort_resource_entries(&pdf))
        .map_err(|e| err(e.to_string()))
}

/// svg2pdf writes resource dictionaries (`/XObject << /xo4 16 0 R ... >>`)
/// in hash-map order, so the same figure gives different bytes on every run.
/// Dictionary order carries no meaning in PDF: each run of consecutive
/// `/Name N 0 R` lines with one indentation is sorted. Sorting lines keeps
/// every object's length, so the cross-reference offsets stay valid.
fn sort_resource_entries(pdf: &[u8]) -> Vec<u8> {
    fn is_entry(line: &[u8]) -> Option<usize> {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let rest = std::str::from_utf8(&line[indent..]).ok()?;
        let mut parts = rest.split(' ');
        let (name, num, gen_, r) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let ok = indent > 0
            && parts.next().is_none()
            && name.len() > 1
            && name.starts_with('/')
            && name[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && num.bytes().all(|b| b.is_ascii_digit())
            && gen_ == "0"
            && r == "R";
        ok.then_some(indent)
    }
    let lines: Vec<&[u8]> = pdf.split(|&b| b == b'\n').collect();
    let mut out: Vec<&[u8]> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if let Some(indent) = is_entry(lines[i]) {
            let mut j = i + 1;
            while j < lines.len() && is_entry(lines[j]) == Some(indent) {
                j += 1;
            }
            let mut run = lines[i..j].to_vec();
            run.sort_unstable();
            out.extend(run);
            i = j;
        } else {
            out.push(lines[i]);
            i += 1;
        }
    }
    out.join(&b'\n')
}

/// Writes `dir/name.svg`, `dir/name.png` (300 dpi) and `dir/name.pdf`.
///
/// # Errors
/// [`PlotError`] naming the figure or the file.
pub fn render<F: Figure>(fig: &F, dir: &Path, name: &str) -> Result<Rendered, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io { path: dir.to_path_buf(), source })?;
    let svg = to_svg(fig, name)?;
    let png = to_png(fig, name)?;
    let pdf = svg_to_pdf(&svg, name)?;
    let out = Rendered {
        svg: dir.join(format!("{name}.svg")),
        png: dir.join(format!("{name}.png")),
        pdf: dir.join(format!("{name}.pdf")),
    };
    write_atomic(&out.svg, svg.as_bytes())?;
    write_atomic(&out.png, &png)?;
    write_atomic(&out.pdf, &pdf)?;
    Ok(out)
}
