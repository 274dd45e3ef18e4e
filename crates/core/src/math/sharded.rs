//! k-means over shards: [`Lloyd`]'s fit (greedy k-means++ with restarts, Lloyd's
//! iterations, empty clusters relocated to the farthest rows) as a loop on a driver that
//! only ever holds centroids, asking every shard of the rows for sums ([`Request`] →
//! [`Response`], answered by [`answer`]). What a distributed engine runs: the rows stay in
//! the shards (Spark partitions), each request is one pass over them, and the driver adds
//! the shards' answers in shard order, so the result does not depend on task timing.
//!
//! Every restart runs in the same passes (a request carries the state of all restarts still
//! running): k-means++ takes `2k` passes for all restarts together, each Lloyd iteration one.
//! The fit is [`Lloyd::fit_rows`]'s: the same random draws, candidates, relocations and
//! stopping rule; sums are added per shard and then across shards instead of per block of
//! rows, and a row's label is its nearest centroid computed afresh instead of through
//! bounds, so results agree up to rounding (a test checks the labels on blobs).

use super::lloyd::{
    dots, nearest, sq_dist, sq_dist_to, sq_norms, uniform, update_centers, Init, KMeansError,
    Lloyd, LloydFit,
};
use ndarray::Array2;
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

/// One shard of the rows: its index, the global index of its first row, and its rows.
#[derive(Debug, Clone)]
pub struct Shard<'a> {
    /// Position of the shard (0-based, in row order).
    pub index: usize,
    /// Global index of the shard's first row.
    pub offset: u64,
    /// The rows, row-major, `d` wide.
    pub x: &'a [f32],
    /// Row width.
    pub d: usize,
    norms: Vec<f32>,
}

impl<'a> Shard<'a> {
    /// A shard of `x` (row-major, `d` wide).
    pub fn new(index: usize, offset: u64, x: &'a [f32], d: usize) -> Shard<'a> {
        Shard {
            index,
            offset,
            x,
            d,
            norms: sq_norms(x, d),
        }
    }

    fn n(&self) -> usize {
        self.norms.len()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// Per row, the squared distance to the nearest of `centers` (k-means++'s D²).
    fn closest(&self, centers: &[f32]) -> Vec<f64> {
        let cn = sq_norms(centers, self.d);
        let k = cn.len();
        let mut buf = vec![0f32; k];
        (0..self.n())
            .map(|i| {
                dots(self.row(i), centers, &mut buf);
                let mut best = f64::INFINITY;
                for j in 0..k {
                    best = best.min(sq_dist(self.norms[i], cn[j], buf[j]) as f64);
                }
                best
            })
            .collect()
    }
}

/// A k-means++ draw to locate: (restart, shard, D² of the rows before the shard, target).
pub type Target = (usize, usize, f64, f64);

/// What the driver asks every shard. Centroids are row-major, `d` wide, one list per restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// The rows with these global indices (each shard gives those it holds).
    Rows {
        /// Global row indices.
        ids: Vec<u64>,
    },
    /// Per restart, the sum of D² to its centroids so far.
    Closest {
        /// Per restart, its centroids so far.
        centers: Vec<Vec<f32>>,
    },
    /// The rows at which k-means++'s draws land: target `(restart, shard, offset, r)` asks
    /// shard `shard` for its first row whose running sum of D² (starting from `offset`, the
    /// D² of all rows before the shard) reaches `r` (its last row when none does).
    Locate {
        /// Per restart, its centroids so far.
        centers: Vec<Vec<f32>>,
        /// The draws.
        targets: Vec<Target>,
    },
    /// Per restart and candidate, the potential the candidate would leave: the sum over the
    /// shard of `min(D², distance² to the candidate)`.
    Potentials {
        /// Per restart, its centroids so far.
        centers: Vec<Vec<f32>>,
        /// Per restart, its candidates.
        candidates: Vec<Vec<f32>>,
    },
    /// One Lloyd step for each running restart: labels under `cur` (and, to count changes,
    /// under `prev`), the sums and counts of each centroid's rows, the inertia.
    Step {
        /// Per restart, the centroids before the update (none at the first step).
        prev: Vec<Option<Vec<f32>>>,
        /// Per restart, the centroids after it.
        cur: Vec<Vec<f32>>,
    },
    /// The `m` rows farthest from their nearest centroid of `centers` (for relocating empty
    /// clusters): (distance², global index, label, row), farthest first.
    Farthest {
        /// The centroids.
        centers: Vec<f32>,
        /// How many rows.
        m: usize,
    },
}

/// One Lloyd step's sums of one shard for one restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSums {
    /// `k × d`: the sum of each centroid's rows (double precision, in row order).
    pub sums: Vec<f64>,
    /// Rows per centroid.
    pub counts: Vec<u64>,
    /// Rows whose nearest centroid changed from `prev` to `cur`.
    pub changed: u64,
    /// Sum of squared distances to the nearest centroid of `cur`.
    pub inertia: f64,
}

/// A shard's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Rows by key (a global index, or a target's position) with their global index.
    Rows(Vec<(u64, u64, Vec<f32>)>),
    /// One sum per restart, or per restart and candidate.
    Sums(Vec<Vec<f64>>),
    /// Per running restart.
    Step(Vec<StepSums>),
    /// Far rows: (distance², global index, label, row).
    Far(Vec<(f32, u64, u32, Vec<f32>)>),
}

/// The nearest of `centers` (row-major) for row `i` of `s`, and its squared distance.
fn label_of(s: &Shard, i: usize, centers: &[f32], cnorms: &[f32], buf: &mut [f32]) -> (u32, f32) {
    let (j, _, _) = nearest(s.row(i), s.norms[i], centers, cnorms, buf);
    let d2 = sq_dist_to(s.row(i), s.norms[i], centers, cnorms, j as usize);
    (j, d2)
}

/// A shard's answer to `req`.
pub fn answer(req: &Request, s: &Shard) -> Response {
    let d = s.d;
    match req {
        Request::Rows { ids } => {
            let end = s.offset + s.n() as u64;
            let rows = ids
                .iter()
                .filter(|&&g| g >= s.offset && g < end)
                .map(|&g| (g, g, s.row((g - s.offset) as usize).to_vec()))
                .collect();
            Response::Rows(rows)
        }
        Request::Closest { centers } => Response::Sums(
            centers
                .iter()
                .map(|c| vec![s.closest(c).iter().sum::<f64>()])
                .collect(),
        ),
        Request::Locate { centers, targets } => {
            let mut out = vec![];
            let mine: Vec<(usize, &Target)> = targets
                .iter()
                .enumerate()
                .filter(|(_, t)| t.1 == s.index)
                .collect();
            let mut by_restart: Vec<Option<Vec<f64>>> = vec![None; centers.len()];
            for (pos, &(r, _, offset, target)) in mine {
                if s.n() == 0 {
                    continue;
                }
                let closest = by_restart[r].get_or_insert_with(|| s.closest(&centers[r]));
                let mut acc = offset;
                let mut at = s.n() - 1;
                for (i, &c) in closest.iter().enumerate() {
                    acc += c;
                    if acc >= target {
                        at = i;
                        break;
                    }
                }
                out.push((pos as u64, s.offset + at as u64, s.row(at).to_vec()));
            }
            Response::Rows(out)
        }
        Request::Potentials {
            centers,
            candidates,
        } => {
            let sums = centers
                .iter()
                .zip(candidates)
                .map(|(c, cand)| {
                    let closest = s.closest(c);
                    let cn = sq_norms(cand, d);
                    let t = cn.len();
                    let mut p = vec![0.0; t];
                    let mut o = vec![0f32; t];
                    for (i, &ci) in closest.iter().enumerate() {
                        dots(s.row(i), cand, &mut o);
                        for j in 0..t {
                            p[j] += (sq_dist(s.norms[i], cn[j], o[j]) as f64).min(ci);
                        }
                    }
                    p
                })
                .collect();
            Response::Sums(sums)
        }
        Request::Step { prev, cur } => {
            let steps = prev
                .iter()
                .zip(cur)
                .map(|(prev, cur)| {
                    let cn = sq_norms(cur, d);
                    let k = cn.len();
                    let pn = prev.as_ref().map(|p| sq_norms(p, d));
                    let mut buf = vec![0f32; k];
                    let mut out = StepSums {
                        sums: vec![0.0; k * d],
                        counts: vec![0; k],
                        changed: 0,
                        inertia: 0.0,
                    };
                    for i in 0..s.n() {
                        let (j, d2) = label_of(s, i, cur, &cn, &mut buf);
                        if let (Some(p), Some(pn)) = (prev, &pn) {
                            if label_of(s, i, p, pn, &mut buf).0 != j {
                                out.changed += 1;
                            }
                        }
                        let j = j as usize;
                        out.counts[j] += 1;
                        out.inertia += d2 as f64;
                        for (t, &v) in out.sums[j * d..(j + 1) * d].iter_mut().zip(s.row(i)) {
                            *t += v as f64;
                        }
                    }
                    out
                })
                .collect();
            Response::Step(steps)
        }
        Request::Farthest { centers, m } => {
            let cn = sq_norms(centers, d);
            let mut buf = vec![0f32; cn.len()];
            let mut far: Vec<(f32, u64, u32, Vec<f32>)> = (0..s.n())
                .map(|i| {
                    let (j, d2) = label_of(s, i, centers, &cn, &mut buf);
                    (d2, s.offset + i as u64, j, vec![])
                })
                .collect();
            far.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            far.truncate(*m);
            for f in &mut far {
                f.3 = s.row((f.1 - s.offset) as usize).to_vec();
            }
            Response::Far(far)
        }
    }
}

/// `ask`, with its error made a [`KMeansError`] and an answer from other than `shards`
/// shards an error.
fn every_shard<Q, A, E: Into<KMeansError>>(
    shards: usize,
    mut ask: impl FnMut(&Q) -> Result<Vec<A>, E>,
) -> impl FnMut(&Q) -> Result<Vec<A>, KMeansError> {
    move |r| {
        let out = ask(r).map_err(Into::into)?;
        if out.len() != shards {
            return Err(KMeansError::new(format!(
                "{} shards answered, {} were asked",
                out.len(),
                shards
            )));
        }
        Ok(out)
    }
}

fn bad(what: &str) -> KMeansError {
    KMeansError::new(format!(
        "a shard answered {what} with the wrong kind of response"
    ))
}

fn sums_of(rs: Vec<Response>) -> Result<Vec<Vec<Vec<f64>>>, KMeansError> {
    rs.into_iter()
        .map(|r| match r {
            Response::Sums(s) => Ok(s),
            _ => Err(bad("a sum")),
        })
        .collect()
}

fn rows_of(rs: Vec<Response>) -> Result<Vec<(u64, u64, Vec<f32>)>, KMeansError> {
    let mut out = vec![];
    for r in rs {
        match r {
            Response::Rows(v) => out.extend(v),
            _ => return Err(bad("a row request")),
        }
    }
    Ok(out)
}

/// One restart's state on the driver.
struct Restart {
    rng: Xoshiro256Plus,
    centers: Vec<f32>,
    /// Per shard, the sum of D² (k-means++).
    shard_sums: Vec<f64>,
    potential: f64,
    /// Lloyd: the last step's sums, the iterations run, whether it stopped.
    step: Option<StepSums>,
    iterations: u64,
    done: bool,
}

impl Lloyd {
    /// [`Lloyd::fit_rows`] of rows held in shards of `sizes` rows each (in row order), `d`
    /// wide: `ask` sends a request to every shard and returns their answers ([`answer`]) in
    /// shard order. Only centroids and sums are held here.
    pub fn fit_sharded<E: Into<KMeansError>>(
        &self,
        sizes: &[usize],
        d: usize,
        ask: impl FnMut(&Request) -> Result<Vec<Response>, E>,
    ) -> Result<LloydFit, KMeansError> {
        let n: usize = sizes.iter().sum();
        self.check(n, d)?;
        let mut ask = every_shard(sizes.len(), ask);
        let (k, runs) = match &self.init {
            Init::Precomputed(_) => (self.k, 1),
            Init::KMeansPlusPlus => (self.k, self.n_runs),
        };
        let mut rs: Vec<Restart> = (0..runs)
            .map(|r| {
                let mut rng = Xoshiro256Plus::seed_from_u64(self.seed);
                for _ in 0..r {
                    rng.jump();
                }
                Restart {
                    rng,
                    centers: vec![],
                    shard_sums: vec![],
                    potential: 0.0,
                    step: None,
                    iterations: 0,
                    done: false,
                }
            })
            .collect();
        match &self.init {
            Init::Precomputed(c) => {
                rs[0].centers = c.as_standard_layout().iter().copied().collect();
            }
            Init::KMeansPlusPlus => self.plus_plus_sharded(&mut rs, n, sizes, d, &mut ask)?,
        }
        self.iterate_sharded(&mut rs, d, &mut ask)?;
        let (run, best) = rs
            .iter()
            .enumerate()
            .min_by(|(a, x), (b, y)| {
                let (xi, yi) = (x.step.as_ref(), y.step.as_ref());
                let (xi, yi) = (
                    xi.map_or(f64::INFINITY, |s| s.inertia),
                    yi.map_or(f64::INFINITY, |s| s.inertia),
                );
                xi.total_cmp(&yi).then(a.cmp(b))
            })
            .expect("at least one restart");
        Ok(LloydFit {
            centroids: Array2::from_shape_vec((k, d), best.centers.clone()).expect("k × d"),
            inertia: best.step.as_ref().map_or(0.0, |s| s.inertia),
            iterations: best.iterations,
            run,
        })
    }

    fn plus_plus_sharded(
        &self,
        rs: &mut [Restart],
        n: usize,
        sizes: &[usize],
        d: usize,
        ask: &mut impl FnMut(&Request) -> Result<Vec<Response>, KMeansError>,
    ) -> Result<(), KMeansError> {
        let k = self.k;
        let trials = 2 + (k as f64).ln().floor() as usize;
        let ids: Vec<u64> = rs
            .iter_mut()
            .map(|r| ((uniform(&mut r.rng) * n as f64) as usize).min(n - 1) as u64)
            .collect();
        let rows = rows_of(ask(&Request::Rows { ids: ids.clone() })?)?;
        for (r, id) in rs.iter_mut().zip(&ids) {
            let row = rows
                .iter()
                .find(|x| x.0 == *id)
                .ok_or_else(|| KMeansError::new(format!("no shard holds row {id}")))?;
            r.centers = row.2.clone();
        }
        let centers = |rs: &[Restart]| rs.iter().map(|r| r.centers.clone()).collect::<Vec<_>>();
        let per_shard = sums_of(ask(&Request::Closest {
            centers: centers(rs),
        })?)?;
        for (i, r) in rs.iter_mut().enumerate() {
            r.shard_sums = per_shard.iter().map(|s| s[i][0]).collect();
            r.potential = r.shard_sums.iter().sum();
        }
        for _ in 1..k {
            // the draws, each located in the shard whose running sum reaches it
            let mut targets = vec![];
            for (ri, r) in rs.iter_mut().enumerate() {
                for _ in 0..trials {
                    let target = uniform(&mut r.rng) * r.potential;
                    let mut offset = 0.0;
                    let mut at = None;
                    for (p, &s) in r.shard_sums.iter().enumerate() {
                        if sizes[p] == 0 {
                            continue;
                        }
                        if offset + s >= target {
                            at = Some(p);
                            break;
                        }
                        offset += s;
                        at = Some(p); // past the end: the last row of the last shard
                    }
                    let p = at.expect("some shard has rows");
                    let before: f64 = r.shard_sums[..p].iter().sum();
                    targets.push((ri, p, before, target));
                }
            }
            let found = rows_of(ask(&Request::Locate {
                centers: centers(rs),
                targets: targets.clone(),
            })?)?;
            let mut cands: Vec<Vec<f32>> = vec![Vec::with_capacity(trials * d); rs.len()];
            for (pos, t) in targets.iter().enumerate() {
                let row = found
                    .iter()
                    .find(|x| x.0 == pos as u64)
                    .ok_or_else(|| KMeansError::new("a k-means++ draw found no row"))?;
                cands[t.0].extend_from_slice(&row.2);
            }
            let pots = sums_of(ask(&Request::Potentials {
                centers: centers(rs),
                candidates: cands.clone(),
            })?)?;
            for (ri, r) in rs.iter_mut().enumerate() {
                let mut best = 0;
                let mut best_pot = f64::INFINITY;
                for t in 0..trials {
                    let pot: f64 = pots.iter().map(|p| p[ri][t]).sum();
                    if pot < best_pot {
                        best_pot = pot;
                        best = t;
                    }
                }
                r.centers
                    .extend_from_slice(&cands[ri][best * d..(best + 1) * d]);
                r.shard_sums = pots.iter().map(|p| p[ri][best]).collect();
                r.potential = best_pot;
            }
        }
        Ok(())
    }

    fn step(
        rs: &mut [Restart],
        prev: &[Option<Vec<f32>>],
        ask: &mut impl FnMut(&Request) -> Result<Vec<Response>, KMeansError>,
    ) -> Result<(), KMeansError> {
        let running: Vec<usize> = (0..rs.len()).filter(|&i| !rs[i].done).collect();
        let req = Request::Step {
            prev: running.iter().map(|&i| prev[i].clone()).collect(),
            cur: running.iter().map(|&i| rs[i].centers.clone()).collect(),
        };
        let answers = ask(&req)?;
        let mut merged: Vec<Option<StepSums>> = vec![None; running.len()];
        for a in answers {
            let Response::Step(steps) = a else {
                return Err(bad("a step"));
            };
            for (m, s) in merged.iter_mut().zip(steps) {
                match m {
                    None => *m = Some(s),
                    Some(m) => {
                        for (t, v) in m.sums.iter_mut().zip(&s.sums) {
                            *t += v;
                        }
                        for (t, v) in m.counts.iter_mut().zip(&s.counts) {
                            *t += v;
                        }
                        m.changed += s.changed;
                        m.inertia += s.inertia;
                    }
                }
            }
        }
        for (&i, m) in running.iter().zip(merged) {
            rs[i].step = m;
        }
        Ok(())
    }

    fn iterate_sharded(
        &self,
        rs: &mut [Restart],
        d: usize,
        ask: &mut impl FnMut(&Request) -> Result<Vec<Response>, KMeansError>,
    ) -> Result<(), KMeansError> {
        let none = vec![None; rs.len()];
        Self::step(rs, &none, ask)?;
        while rs.iter().any(|r| !r.done) {
            let mut prev = vec![None; rs.len()];
            let mut totals = vec![0.0; rs.len()];
            for i in 0..rs.len() {
                if rs[i].done {
                    continue;
                }
                if rs[i].iterations >= self.max_iterations {
                    rs[i].done = true;
                    continue;
                }
                rs[i].iterations += 1;
                let step = rs[i].step.clone().expect("a step ran");
                let (mut sums, mut counts) = (step.sums, step.counts);
                if counts.contains(&0) {
                    self.relocate_sharded(&rs[i].centers, &mut sums, &mut counts, d, ask)?;
                }
                prev[i] = Some(rs[i].centers.clone());
                totals[i] = update_centers(&mut rs[i].centers, &sums, &counts, d).1;
            }
            if rs.iter().all(|r| r.done) {
                break;
            }
            Self::step(rs, &prev, ask)?;
            for (i, r) in rs.iter_mut().enumerate() {
                if prev[i].is_some() {
                    let changed = r.step.as_ref().map_or(0, |s| s.changed);
                    if changed == 0 || totals[i] < self.tolerance {
                        r.done = true;
                    }
                }
            }
        }
        Ok(())
    }

    /// Give each empty cluster one of the rows farthest from their centroids, as
    /// `Run::relocate_empty` does.
    fn relocate_sharded(
        &self,
        centers: &[f32],
        sums: &mut [f64],
        counts: &mut [u64],
        d: usize,
        ask: &mut impl FnMut(&Request) -> Result<Vec<Response>, KMeansError>,
    ) -> Result<(), KMeansError> {
        let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0).collect();
        let m = empty.len() + 2 * counts.len();
        let mut far = vec![];
        for a in ask(&Request::Farthest {
            centers: centers.to_vec(),
            m,
        })? {
            let Response::Far(f) = a else {
                return Err(bad("a farthest-rows request"));
            };
            far.extend(f);
        }
        far.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut far = far.into_iter();
        for j in empty {
            let Some((_, _, from, x)) = far.by_ref().find(|f| counts[f.2 as usize] > 1) else {
                break;
            };
            let from = from as usize;
            for (t, &v) in sums[from * d..(from + 1) * d].iter_mut().zip(&x) {
                *t -= v as f64;
            }
            counts[from] -= 1;
            for (t, &v) in sums[j * d..(j + 1) * d].iter_mut().zip(&x) {
                *t = v as f64;
            }
            counts[j] = 1;
        }
        Ok(())
    }
}

/// One shard of dense double-precision rows, for guided k-means.
#[derive(Debug, Clone)]
pub struct DenseShard<'a> {
    /// Global index of the shard's first row.
    pub offset: u64,
    /// The rows (`n × d`).
    pub x: ndarray::ArrayView2<'a, f64>,
}

/// What guided k-means asks every shard (centroids `k × d`, row-major).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GuidedRequest {
    /// The row least similar to every centroid so far (its largest cosine similarity to the
    /// themes' seeds and to the rows picked before is smallest; ties: the first): where the
    /// next free centroid starts.
    LeastSimilar {
        /// The seeds (`t × d`).
        seeds: Vec<f64>,
        /// The rows picked so far (`e × d`).
        picked: Vec<f64>,
    },
    /// One step: each row's label under `cur` (the centroid of highest similarity), how many
    /// differ from their label under `prev`, and the sums of each centroid's rows.
    Step {
        /// The centroids before the update (none at the first step).
        prev: Option<Vec<f64>>,
        /// The centroids.
        cur: Vec<f64>,
    },
}

/// A shard's answer to a [`GuidedRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GuidedResponse {
    /// The least similar row: (its similarity, global index, row); none in an empty shard.
    Least(Option<(f64, u64, Vec<f64>)>),
    /// Step sums (`k × d`) and the rows whose label changed.
    Step {
        /// The sums of each centroid's rows, in row order.
        sums: Vec<f64>,
        /// Rows whose label changed.
        changed: u64,
    },
}

fn matrix(v: &[f64], d: usize) -> Array2<f64> {
    Array2::from_shape_vec((v.len() / d.max(1), d), v.to_vec()).expect("rows × d")
}

fn labels_under(x: &ndarray::ArrayView2<f64>, c: &Array2<f64>) -> Vec<usize> {
    x.dot(&c.t())
        .rows()
        .into_iter()
        .map(super::rows::argmax)
        .collect()
}

/// A shard's answer to a guided request.
pub fn guided_answer(req: &GuidedRequest, s: &DenseShard) -> GuidedResponse {
    let d = s.x.ncols();
    match req {
        GuidedRequest::LeastSimilar { seeds, picked } => {
            let seeds = matrix(seeds, d);
            let mut nearest: Vec<f64> =
                s.x.dot(&seeds.t())
                    .rows()
                    .into_iter()
                    .map(|r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)))
                    .collect();
            for p in picked.chunks(d.max(1)) {
                let p = ndarray::ArrayView1::from(p);
                for (i, v) in nearest.iter_mut().enumerate() {
                    *v = v.max(s.x.row(i).dot(&p));
                }
            }
            let mut pick = None;
            for (i, &v) in nearest.iter().enumerate() {
                if pick.is_none_or(|p: usize| v < nearest[p]) {
                    pick = Some(i);
                }
            }
            GuidedResponse::Least(
                pick.map(|i| (nearest[i], s.offset + i as u64, s.x.row(i).to_vec())),
            )
        }
        GuidedRequest::Step { prev, cur } => {
            let cur = matrix(cur, d);
            let labels = labels_under(&s.x, &cur);
            let changed = prev.as_ref().map_or(0, |p| {
                let before = labels_under(&s.x, &matrix(p, d));
                before.iter().zip(&labels).filter(|(a, b)| a != b).count() as u64
            });
            let sums = super::kmeans::CentroidSums::partial(s.x, &labels, cur.nrows()).sums;
            GuidedResponse::Step {
                sums: sums.into_iter().collect(),
                changed,
            }
        }
    }
}

/// [`super::kmeans::guided_fit`] over rows held in shards of `sizes` rows, `d` wide: `ask`
/// sends a request to every shard and returns their [`guided_answer`]s in shard order.
pub fn guided_fit_sharded<E: Into<KMeansError>>(
    seeds: &Array2<f64>,
    extra: usize,
    weight: f64,
    max_iterations: u64,
    sizes: &[usize],
    ask: impl FnMut(&GuidedRequest) -> Result<Vec<GuidedResponse>, E>,
) -> Result<Array2<f64>, KMeansError> {
    let (t, d) = seeds.dim();
    let k = t + extra;
    let mut c = Array2::<f64>::zeros((k, d));
    c.slice_mut(ndarray::s![..t, ..]).assign(seeds);
    let mut ask = every_shard(sizes.len(), ask);
    let seed_rows: Vec<f64> = seeds.iter().copied().collect();
    let mut picked: Vec<f64> = vec![];
    for e in 0..extra {
        let mut best: Option<(f64, u64, Vec<f64>)> = None;
        for a in ask(&GuidedRequest::LeastSimilar {
            seeds: seed_rows.clone(),
            picked: picked.clone(),
        })? {
            let GuidedResponse::Least(l) = a else {
                return Err(bad("a least-similar request"));
            };
            if let Some(l) = l {
                if best.as_ref().is_none_or(|b| l.0 < b.0) {
                    best = Some(l);
                }
            }
        }
        let (_, _, row) = best.ok_or_else(|| KMeansError::new("no rows to start a centroid at"))?;
        c.row_mut(t + e)
            .assign(&ndarray::ArrayView1::from(&row[..]));
        picked.extend_from_slice(&row);
    }
    let mut prev: Option<Vec<f64>> = None;
    for _ in 0..max_iterations {
        let cur: Vec<f64> = c.iter().copied().collect();
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut changed = 0;
        for a in ask(&GuidedRequest::Step {
            prev: prev.clone(),
            cur: cur.clone(),
        })? {
            let GuidedResponse::Step {
                sums: s,
                changed: n,
            } = a
            else {
                return Err(bad("a step"));
            };
            sums += &matrix(&s, d);
            changed += n;
        }
        if prev.is_some() && changed == 0 {
            break;
        }
        c = super::kmeans::guided_update(sums, &c, seeds, weight);
        prev = Some(cur);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::lloyd::tests::{blobs, same_partition};
    use ndarray::Axis;

    fn labels(x: &Array2<f32>, c: &Array2<f32>) -> Vec<usize> {
        x.axis_iter(Axis(0))
            .map(|r| {
                let d: Vec<f32> = c
                    .axis_iter(Axis(0))
                    .map(|c| r.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum())
                    .collect();
                (0..d.len()).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap()
            })
            .collect()
    }

    /// The sharded fit of `x` cut into shards of `sizes`, every request answered in memory.
    fn sharded(p: &Lloyd, x: &Array2<f32>, sizes: &[usize]) -> LloydFit {
        let d = x.ncols();
        let data = x.as_slice().unwrap();
        let mut offset = 0;
        let shards: Vec<Shard> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let s = Shard::new(i, offset as u64, &data[offset * d..(offset + n) * d], d);
                offset += n;
                s
            })
            .collect();
        p.fit_sharded(sizes, d, |req| {
            // through JSON, as the Python module sends them
            let req: Request = serde_json::from_str(&serde_json::to_string(req).unwrap()).unwrap();
            Ok::<_, KMeansError>(shards.iter().map(|s| answer(&req, s)).collect())
        })
        .unwrap()
    }

    #[test]
    fn shards_give_the_fit_of_the_whole() {
        let (x, _) = blobs(5, 60, 8, 0.3, 7);
        let p = Lloyd::params(5).n_runs(4).seed(3);
        let whole = p.fit_rows(x.view()).unwrap();
        for sizes in [vec![300], vec![100, 200], vec![7, 0, 93, 150, 50]] {
            let s = sharded(&p, &x, &sizes);
            assert_eq!(s.run, whole.run, "{sizes:?}");
            assert_eq!(s.iterations, whole.iterations, "{sizes:?}");
            assert!(
                (s.inertia - whole.inertia).abs() <= 1e-6 * whole.inertia,
                "{sizes:?}"
            );
            let a = labels(&x, &s.centroids);
            let b = labels(&x, &whole.centroids);
            assert!(same_partition(&a, &b), "{sizes:?}");
            assert_eq!(a, b, "the same cluster ids, {sizes:?}");
            for (u, v) in s.centroids.iter().zip(whole.centroids.iter()) {
                assert!((u - v).abs() <= 1e-5, "{sizes:?}: {u} vs {v}");
            }
        }
    }

    #[test]
    fn empty_clusters_are_relocated_as_the_whole_fit_does() {
        // two far groups and k = 3 from a start with one centroid nowhere near any row
        let (x, _) = blobs(2, 40, 4, 0.2, 11);
        let start = Array2::from_shape_fn((3, 4), |(i, j)| {
            if i == 2 {
                1e3 + j as f32
            } else {
                x[[i * 40, j]]
            }
        });
        let p = Lloyd::params(3).init(Init::Precomputed(start));
        let whole = p.fit_rows(x.view()).unwrap();
        let s = sharded(&p, &x, &[30, 50]);
        assert_eq!(labels(&x, &s.centroids), labels(&x, &whole.centroids));
        assert_eq!(s.iterations, whole.iterations);
    }

    #[test]
    fn guided_shards_give_the_guided_fit_of_the_whole() {
        let (x, _) = blobs(4, 30, 6, 0.3, 5);
        let mut x = x.mapv(f64::from);
        crate::math::rows::normalize_rows(&mut x);
        let mut seeds = Array2::from_shape_fn((2, 6), |(i, j)| x[[i * 30, j]] + 0.1 * j as f64);
        crate::math::rows::normalize_rows(&mut seeds);
        let whole = crate::math::kmeans::guided_fit(&x, &seeds, 2, 0.3, 100);
        for sizes in [vec![120], vec![50, 0, 70], vec![1, 59, 60]] {
            let mut off = 0;
            let shards: Vec<DenseShard> = sizes
                .iter()
                .map(|&n| {
                    let s = DenseShard {
                        offset: off as u64,
                        x: x.slice(ndarray::s![off..off + n, ..]),
                    };
                    off += n;
                    s
                })
                .collect();
            let c = guided_fit_sharded(&seeds, 2, 0.3, 100, &sizes, |req| {
                let req: GuidedRequest =
                    serde_json::from_str(&serde_json::to_string(req).unwrap()).unwrap();
                Ok::<_, KMeansError>(shards.iter().map(|s| guided_answer(&req, s)).collect())
            })
            .unwrap();
            for (a, b) in c.iter().zip(whole.iter()) {
                assert!((a - b).abs() < 1e-12, "{sizes:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_shard_count_mismatch_is_an_error() {
        let p = Lloyd::params(2);
        let e = p
            .fit_sharded(&[10, 10], 3, |_| Ok::<_, KMeansError>(vec![]))
            .unwrap_err();
        assert!(
            e.to_string().contains("0 shards answered, 2 were asked"),
            "{e}"
        );
    }
}
