//! How a tune spends its simulations: every candidate on every seed (`exhaustive`), or a
//! race (`raced`, successive halving): all candidates on a few seeds, the best third on
//! more, and so on until the finalists have every seed. Seeds are the same for every
//! candidate (seed k is the same traffic for all), so candidates are compared on equal
//! draws, and a candidate's figures over its first seeds are those a full run would start
//! with.

use std::fmt;
use std::str::FromStr;

use super::figures::SeedScore;
use super::Objective;

/// The search's way through the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Successive halving: a third goes on after each round.
    #[default]
    Raced,
    /// Every candidate over every seed.
    Exhaustive,
}

/// After each round but the last, this share of the candidates goes on (at least
/// [`FINALISTS`]).
pub const KEEP: f64 = 1.0 / 3.0;
/// The fewest candidates a round passes on.
pub const FINALISTS: usize = 8;
/// The fewest seeds of a race's first round: one seed's ranking is mostly noise.
const FIRST_ROUND_SEEDS: u64 = 2;

impl Strategy {
    /// The seeds each candidate has after each round: the last is `seeds`. A race's first
    /// round has `seeds` / 3^k (at least two) for the largest such k, each next round three
    /// times as many.
    pub fn rounds(self, seeds: u64) -> Vec<u64> {
        match self {
            Strategy::Exhaustive => vec![seeds],
            Strategy::Raced => {
                let mut rounds = vec![seeds];
                let mut divisor = 3u64;
                while seeds.div_ceil(divisor) >= FIRST_ROUND_SEEDS {
                    let fewer = seeds.div_ceil(divisor);
                    if fewer < *rounds.last().unwrap_or(&seeds) {
                        rounds.push(fewer);
                    }
                    divisor *= 3;
                }
                rounds.reverse();
                rounds
            }
        }
    }

    /// How many of `n` candidates go on to the next round.
    pub fn kept(self, n: usize) -> usize {
        match self {
            Strategy::Exhaustive => n,
            Strategy::Raced => ((n as f64 * KEEP).ceil() as usize).max(FINALISTS).min(n),
        }
    }

    /// The simulations the rounds take for `candidates` (the most: none refused).
    pub fn simulations(self, candidates: usize, seeds: u64) -> u64 {
        let (mut total, mut alive, mut had) = (0, candidates, 0);
        for seeds in self.rounds(seeds) {
            total += alive as u64 * (seeds - had);
            had = seeds;
            alive = self.kept(alive);
        }
        total
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Raced => "raced",
            Strategy::Exhaustive => "exhaustive",
        })
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "raced" => Ok(Strategy::Raced),
            "exhaustive" => Ok(Strategy::Exhaustive),
            other => Err(format!("unknown search '{other}': raced or exhaustive")),
        }
    }
}

/// How sure the ranking of two candidates is, seed by seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wins {
    /// Seeds both were simulated on.
    pub seeds: usize,
    /// Of those, the share on which the first ranks ahead (a tie counts half), 0..=1.
    pub share: f64,
}

impl Wins {
    /// `a` against `b` on the seeds both have: on each, the objective met first, then
    /// fewer replica-seconds, fewer scale changes, lower p95 lag (the ranking's order,
    /// applied to that seed's own figures).
    pub fn of(a: &[SeedScore], b: &[SeedScore], objective: &Objective) -> Option<Self> {
        let seeds = a.len().min(b.len());
        if seeds == 0 {
            return None;
        }
        let key = |s: &SeedScore| {
            (
                !objective.seed_met(s),
                s.replica_seconds,
                s.scale_changes,
                s.p95_lag,
            )
        };
        let won: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| match key(x).cmp(&key(y)) {
                std::cmp::Ordering::Less => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Greater => 0.0,
            })
            .sum();
        Some(Self {
            seeds,
            share: won / seeds as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_race_triples_its_seeds_each_round_and_ends_on_all() {
        assert_eq!(Strategy::Raced.rounds(10), [2, 4, 10]);
        assert_eq!(Strategy::Raced.rounds(20), [3, 7, 20]);
        assert_eq!(Strategy::Raced.rounds(5), [2, 5]);
        assert_eq!(Strategy::Raced.rounds(2), [2]);
        assert_eq!(Strategy::Raced.rounds(1), [1]);
        assert_eq!(Strategy::Exhaustive.rounds(10), [10]);
        assert_eq!(Strategy::Raced.kept(500), 167);
        assert_eq!(Strategy::Raced.kept(12), 8);
        assert_eq!(Strategy::Raced.kept(5), 5);
        // 500 x 2 + 167 x 2 + 56 x 6, against 500 x 10.
        assert_eq!(Strategy::Raced.simulations(500, 10), 1670);
        assert_eq!(Strategy::Exhaustive.simulations(500, 10), 5000);
        assert_eq!("exhaustive".parse(), Ok(Strategy::Exhaustive));
        assert!("fast".parse::<Strategy>().unwrap_err().contains("'fast'"));
    }

    #[test]
    fn wins_count_seed_by_seed_in_the_ranking_s_order() {
        let objective = Objective {
            max_p95_lag: 10.0,
            max_p95_delay_s: None,
        };
        let s = |lag, rs| SeedScore {
            p95_lag: lag,
            p95_delay_ms: 0,
            replica_seconds: rs,
            scale_changes: 1,
        };
        // Seed 1: a cheaper; seed 2: b misses the bound; seed 3: a tie; seed 4: b cheaper.
        let a = [s(5, 100), s(5, 300), s(5, 100), s(5, 200)];
        let b = [s(5, 200), s(50, 100), s(5, 100), s(5, 100)];
        let wins = Wins::of(&a, &b, &objective).unwrap();
        assert_eq!((wins.seeds, wins.share), (4, 2.5 / 4.0));
        assert_eq!(Wins::of(&a[..2], &b, &objective).unwrap().seeds, 2);
        assert!(Wins::of(&[], &b, &objective).is_none());
    }
}
