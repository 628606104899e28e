//! Named events in an NWB file: epoch starts (each tag), `AnnotationSeries`
//! (text at times) and ndx-events series (`Events`, `LabeledEvents`, `TTLs`)
//! anywhere under `/acquisition` or `/processing`.

use crate::error::Result;
use crate::h5util::{is_numeric, is_string, join, neurodata_type, open_attr};
use burstscope_core::Event;

use super::{Layout, Recording};

impl Recording {
    /// Every named event, in time order: each tag of each epoch at its
    /// start; each annotation's text at its time; each event of an
    /// ndx-events series under its label (`LabeledEvents`/`TTLs`: the
    /// `labels` attribute's entry for the value, else `<series>:<value>`)
    /// or the series' name. Empty for files without any.
    ///
    /// # Errors
    /// Malformed epochs or an event series whose times and values differ in
    /// length.
    pub fn events(&self) -> Result<Vec<Event>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading events", self.ctx.file.display()));
        if self.layout != Layout::Nwb {
            return Ok(Vec::new());
        }
        let mut out: Vec<Event> = Vec::new();
        for e in self.epochs()? {
            for t in &e.tags {
                out.push(Event { name: t.clone(), time_s: e.start_s, source: "/intervals/epochs".into() });
            }
        }
        let mut paths = Vec::new();
        for top in ["acquisition", "processing"] {
            if let Ok(g) = self.file.group(top) {
                self.find_typed(&g, &["AnnotationSeries", "Events", "LabeledEvents", "TTLs"], 0, &mut paths);
            }
        }
        let c = &self.ctx;
        for p in paths {
            let g = self.file.group(&p).map_err(|e| c.h5err(&p, e))?;
            let kind = neurodata_type(c, &g).unwrap_or_default();
            let series = p.rsplit('/').next().unwrap_or(&p).to_string();
            let n_hint = g.dataset("data").map(|d| d.size()).or_else(|_| g.dataset("timestamps").map(|d| d.size()));
            let times: Vec<f64> = if g.link_exists("timestamps") {
                c.read_f64s(&*c.dataset(&g, "timestamps", "event times in seconds")?, &join(&p, "timestamps"))?
            } else {
                let n = n_hint.unwrap_or(0);
                let (t0, rate, _) = self.time_base(&g, &p, n)?;
                (0..n).map(|k| t0 + k as f64 / rate).collect()
            };
            let names: Vec<String> = if g.link_exists("data") {
                let dp = join(&p, "data");
                let ds = c.dataset(&g, "data", "event values")?;
                let td = c.descriptor(&ds, &dp)?;
                if is_string(&td) {
                    c.read_strings(&ds, &dp)?
                } else if is_numeric(&td) {
                    let labels: Vec<String> = open_attr(&ds, "labels")
                        .and_then(|a| a.read_raw::<hdf5::types::VarLenUnicode>().ok())
                        .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
                        .unwrap_or_default();
                    c.read_f64s(&ds, &dp)?
                        .iter()
                        .map(|&v| {
                            let k = v as i64;
                            usize::try_from(k)
                                .ok()
                                .and_then(|k| labels.get(k))
                                .filter(|l| !l.is_empty())
                                .cloned()
                                .unwrap_or_else(|| format!("{series}:{k}"))
                        })
                        .collect()
                } else {
                    vec![series.clone(); times.len()]
                }
            } else {
                vec![series.clone(); times.len()]
            };
            if names.len() != times.len() {
                return Err(c.invalid(
                    &p,
                    format!(
                        "{kind} with {} values and {} times; expected one time per value",
                        names.len(),
                        times.len()
                    ),
                ));
            }
            out.extend(names.into_iter().zip(times).filter(|(_, t)| t.is_finite()).map(|(name, time_s)| Event {
                name,
                time_s,
                source: p.clone(),
            }));
        }
        out.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        Ok(out)
    }
}
