//! A shard: one of N parts of a job — a sweep's points, a run's replications, a sizing's
//! evaluations — run on its own machine and merged later. Given as "I/N", or read from the batch
//! engine that started the process ("auto"): a Slurm job array or a Kubernetes Indexed Job.

/// A shard "i/n" (1-based): which of n parts of the work to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1 to `count`.
    pub index: usize,
    /// How many shards there are.
    pub count: usize,
}

/// The environment variable that gives the shard count of a Kubernetes Indexed Job (its
/// `completions`), when `--shards N` does not.
pub const SHARDS_VARIABLE: &str = "CAPSIM_SHARDS";

impl Shard {
    /// Read "2/4".
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("expected a shard like \"2/4\" (this one of how many) or \"auto\", got \"{text}\"");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Read "2/4", or "auto": the shard of the process's batch engine, read with `var` (the
    /// process environment, or a test's), with `shards` the count given on the command line.
    pub fn parse_or_detect(text: &str, shards: Option<usize>, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        if text.trim() == "auto" {
            Shard::detect(shards, var)
        } else if shards.is_some() {
            Err(format!("--shards goes with --shard auto; \"{text}\" already gives the count"))
        } else {
            Shard::parse(text)
        }
    }

    /// The shard of the batch engine that started this process:
    /// - a Slurm job array: `SLURM_ARRAY_TASK_ID` between `SLURM_ARRAY_TASK_MIN` and `_MAX`
    ///   (step 1), the count `_MAX − _MIN + 1` (checked against `SLURM_ARRAY_TASK_COUNT`), so
    ///   `--array=0-3` and `--array=1-4` are both shards 1/4 to 4/4;
    /// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (from 0), the count from `shards` or
    ///   [`SHARDS_VARIABLE`].
    pub fn detect(shards: Option<usize>, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let number = |name: &str| -> Result<Option<usize>, String> {
            var(name)
                .map(|text| {
                    text.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("{name} should be a whole number, got \"{text}\""))
                })
                .transpose()
        };
        let shard = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let (min, max) = match (number("SLURM_ARRAY_TASK_MIN")?, number("SLURM_ARRAY_TASK_MAX")?) {
                (Some(min), Some(max)) if min <= id && id <= max => (min, max),
                (Some(min), Some(max)) => {
                    return Err(format!(
                        "SLURM_ARRAY_TASK_ID {id} lies outside SLURM_ARRAY_TASK_MIN..MAX = {min}..{max}"
                    ))
                }
                _ => {
                    return Err(
                        "a Slurm array task needs SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX (set by sbatch --array)".into(),
                    )
                }
            };
            if let Some(step) = number("SLURM_ARRAY_TASK_STEP")?.filter(|&s| s != 1) {
                return Err(format!(
                    "the Slurm array steps by {step}: give capsim a contiguous array (--array={min}-{max})"
                ));
            }
            let count = max - min + 1;
            if let Some(told) = number("SLURM_ARRAY_TASK_COUNT")?.filter(|&c| c != count) {
                return Err(format!(
                    "the Slurm array has {told} tasks between {min} and {max}: give capsim a contiguous array (--array={min}-{max})"
                ));
            }
            if let Some(n) = shards.filter(|&n| n != count) {
                return Err(format!(
                    "--shards {n} disagrees with the Slurm array's {count} tasks ({min}..{max})"
                ));
            }
            Shard {
                index: id - min + 1,
                count,
            }
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = match shards {
                Some(n) => n,
                None => number(SHARDS_VARIABLE)?.ok_or_else(|| {
                    format!(
                        "JOB_COMPLETION_INDEX is {index} (a Kubernetes Indexed Job) but the shard count is unknown: pass --shards N or set {SHARDS_VARIABLE} to the Job's completions"
                    )
                })?,
            };
            if index >= count {
                return Err(format!(
                    "JOB_COMPLETION_INDEX {index} is not below the shard count {count} (indices run from 0 to completions − 1)"
                ));
            }
            Shard { index: index + 1, count }
        } else {
            return Err(
                "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give the shard as I/N"
                    .into(),
            );
        };
        Ok(shard)
    }

    /// Whether point `i` (0-based) belongs to this shard: points are dealt round robin, so every
    /// shard gets low and high load alike.
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }

    /// This shard's slice of `total` replications: contiguous, the sizes differing by at most
    /// one (replications cost alike, and a merge reads each shard's in order).
    pub fn slice(&self, total: u32) -> std::ops::Range<u32> {
        let at = |i: usize| (u64::from(total) * i as u64 / self.count as u64) as u32;
        at(self.index - 1)..at(self.index)
    }

    /// As written: "2/4".
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn shards_deal_points_round_robin_and_cover_each_once() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for point in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.owns(point)).count(), 1);
        }
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err());
    }

    #[test]
    fn replication_slices_are_contiguous_cover_each_once_and_differ_by_at_most_one() {
        for total in [0u32, 1, 3, 7, 20, 101] {
            for count in 1..=6 {
                let slices: Vec<_> = (1..=count).map(|index| Shard { index, count }.slice(total)).collect();
                assert_eq!(slices[0].start, 0);
                assert_eq!(slices[count - 1].end, total);
                for pair in slices.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                }
                let sizes: Vec<u32> = slices.iter().map(|s| s.end - s.start).collect();
                assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
            }
        }
    }

    #[test]
    fn a_slurm_array_from_zero_or_from_one_gives_shards_one_to_n() {
        let from_zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(Shard::detect(None, from_zero).unwrap(), Shard { index: 1, count: 4 });
        let from_one = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
        ]);
        assert_eq!(
            Shard::parse_or_detect("auto", None, from_one).unwrap(),
            Shard { index: 4, count: 4 }
        );
    }

    #[test]
    fn a_slurm_array_with_gaps_or_steps_is_refused_by_name() {
        let gaps = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ]);
        assert!(Shard::detect(None, gaps)
            .unwrap_err()
            .contains("contiguous array (--array=1-7)"));
        let steps = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "6"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ]);
        assert!(Shard::detect(None, steps).unwrap_err().contains("steps by 2"));
        let other_count = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
        ]);
        assert!(Shard::detect(Some(3), other_count)
            .unwrap_err()
            .contains("--shards 3 disagrees"));
    }

    #[test]
    fn a_kubernetes_indexed_job_counts_from_zero_and_needs_its_count() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2"), (SHARDS_VARIABLE, "4")]);
        assert_eq!(Shard::detect(None, k8s).unwrap(), Shard { index: 3, count: 4 });
        let no_count = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(Shard::detect(Some(3), &no_count).unwrap(), Shard { index: 3, count: 3 });
        assert!(Shard::detect(None, &no_count)
            .unwrap_err()
            .contains("pass --shards N or set CAPSIM_SHARDS"));
        assert!(Shard::detect(Some(2), &no_count)
            .unwrap_err()
            .contains("not below the shard count 2"));
    }

    #[test]
    fn auto_outside_a_batch_engine_says_what_it_looked_for() {
        let why = Shard::parse_or_detect("auto", None, env(&[])).unwrap_err();
        assert!(
            why.contains("SLURM_ARRAY_TASK_ID") && why.contains("JOB_COMPLETION_INDEX"),
            "{why}"
        );
        assert!(Shard::parse_or_detect("2/4", Some(4), env(&[]))
            .unwrap_err()
            .contains("--shards goes with --shard auto"));
    }
}
