//! `/intervals/epochs`.

use crate::error::Result;
use crate::h5util::join;
use burstscope_core::Epoch;

use super::{Layout, Recording};

impl Recording {
    // ------------------------------------------------------------------ epochs

    /// `/intervals/epochs` rows (start, stop, ragged tags). Empty when absent.
    ///
    /// # Errors
    /// Malformed epoch columns.
    pub fn epochs(&self) -> Result<Vec<Epoch>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading /intervals/epochs", self.ctx.file.display()));
        if self.layout != Layout::Nwb || !self.file.link_exists("intervals/epochs") {
            return Ok(Vec::new());
        }
        let c = &self.ctx;
        let gp = "/intervals/epochs";
        let g = self.file.group(gp).map_err(|e| c.h5err(gp, e))?;
        let start = c.read_f64s(&*c.dataset(&g, "start_time", "epoch start times (s)")?, &join(gp, "start_time"))?;
        let stop = c.read_f64s(&*c.dataset(&g, "stop_time", "epoch stop times (s)")?, &join(gp, "stop_time"))?;
        if start.len() != stop.len() {
            return Err(c.invalid(gp, format!("{} starts but {} stops; expected equal", start.len(), stop.len())));
        }
        let n = start.len();
        let tags: Vec<Vec<String>> = if g.link_exists("tags") {
            let all = c.read_strings(&*c.dataset(&g, "tags", "tag strings")?, &join(gp, "tags"))?;
            if g.link_exists("tags_index") {
                self.ragged_ranges(&g, gp, "tags", n, all.len())?.iter().map(|&(a, b)| all[a..b].to_vec()).collect()
            } else if all.len() == n {
                all.into_iter().map(|t| vec![t]).collect()
            } else {
                return Err(c.missing(&join(gp, "tags_index"), "the ragged index of tags"));
            }
        } else {
            vec![Vec::new(); n]
        };
        Ok((0..n).map(|i| Epoch { start_s: start[i], stop_s: stop[i], tags: tags[i].clone() }).collect())
    }
}
