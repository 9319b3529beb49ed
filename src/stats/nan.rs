//! Reading back numbers that JSON wrote as `null`: serde_json writes NaN and infinity as `null`,
//! so a result read back from its JSON (a merged sweep's points) takes `null` as NaN. For fields
//! with `#[serde(deserialize_with = …)]`.

use serde::{Deserialize, Deserializer};

/// A number, or NaN for `null`.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A list of numbers, NaN for each `null`.
pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Two numbers, NaN for each `null`.
pub fn pair<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [a, b] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
}

/// A list of pairs of numbers, NaN for each `null`.
pub fn pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f64; 2]>, D::Error> {
    Ok(Vec::<[Option<f64>; 2]>::deserialize(d)?
        .into_iter()
        .map(|[a, b]| [a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)])
        .collect())
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(deserialize_with = "super::number")]
        x: f64,
        #[serde(deserialize_with = "super::numbers")]
        xs: Vec<f64>,
    }

    #[test]
    fn null_reads_back_as_nan() {
        let row: Row = serde_json::from_str(r#"{"x": null, "xs": [1.5, null]}"#).unwrap();
        assert!(row.x.is_nan());
        assert_eq!(row.xs[0], 1.5);
        assert!(row.xs[1].is_nan());
        let row: Row = serde_json::from_str(r#"{"x": 2, "xs": []}"#).unwrap();
        assert_eq!(row.x, 2.0);
    }
}
