//! Kubernetes resource quantities (k8s.io/apimachinery pkg/api/resource/quantity.go
//! ParseQuantity): a signed decimal number with an optional exponent (`1e3`) or suffix,
//! binary (`Ki Mi Gi Ti Pi Ei`) or decimal (`n u m k M G T P E`), read as milli-units as
//! `MilliValue` gives them (rounded up, as the HPA's requests are).

/// `text` in milli-units (`"10m"` -> 10, `"0.5"` -> 500, `"16Mi"` -> 16 777 216 000);
/// `None` when it is no quantity.
pub fn milli(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((m, e)) if suffix.is_empty() => (m, e.parse::<i32>().ok()?),
        Some(_) => return None,
        None => (number, 0),
    };
    let unsigned = mantissa.strip_prefix(['+', '-']).unwrap_or(mantissa);
    let well_formed = !unsigned.is_empty()
        && unsigned != "."
        && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && unsigned.bytes().filter(|b| *b == b'.').count() <= 1;
    if !well_formed {
        return None;
    }
    let value: f64 = mantissa.parse().ok()?;
    let scale: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return None,
    };
    let milli = value * scale * 10f64.powi(exponent) * 1000.0;
    (milli.is_finite() && milli.abs() < i64::MAX as f64).then(|| milli.ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_milli_value_reads_them() {
        assert_eq!(milli("10m"), Some(10));
        assert_eq!(milli("0.5"), Some(500));
        assert_eq!(milli("2"), Some(2000));
        assert_eq!(milli("16Mi"), Some(16 * 1024 * 1024 * 1000));
        assert_eq!(milli("1e3"), Some(1_000_000));
        assert_eq!(milli("1k"), Some(1_000_000));
        assert_eq!(milli("100u"), Some(1), "rounded up, as MilliValue rounds");
        for bad in ["", "m", "1x", "1.2.3", "Mi", "1e3Mi", "one"] {
            assert_eq!(milli(bad), None, "{bad}");
        }
    }
}
