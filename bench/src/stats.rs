//! The few statistics the figures need: medians and nearest-rank percentiles.

/// The nearest-rank `p`-th percentile (0 < p <= 100) of `values`; `None` if empty.
///
/// Nearest rank keeps every reported figure one that was really measured: the p99 of
/// 600 tick intervals is the 594th smallest.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median; for an even count the lower of the two middle values (a measured one).
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// How the project compares with a reference: reference time / project time, so
/// above 1 means the project is faster and 0.9 means it takes 1/0.9 = 1.11 times as long.
pub fn speed_ratio(reference_seconds: f64, project_seconds: f64) -> f64 {
    reference_seconds / project_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).rev().collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&values, 0.1), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn p99_of_600_intervals_is_the_594th() {
        let values: Vec<f64> = (1..=600).map(f64::from).collect();
        assert_eq!(percentile(&values, 99.0), Some(594.0));
    }

    #[test]
    fn median_of_an_even_count_is_measured() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    }

    #[test]
    fn ratio_above_one_means_the_project_is_faster() {
        assert_eq!(speed_ratio(2.0, 1.0), 2.0);
        assert!(speed_ratio(1.0, 1.2) < 0.9);
    }
}
