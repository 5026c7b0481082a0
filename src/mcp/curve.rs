//! A recorded cook's curve as a model can read it: a cook of hours holds thousands of points
//! (one per 0.1 °C move, at most one per 10 s), far more than a model should be fed. The curve
//! is cut into at most N equal slices of time; each slice is one row: its start in minutes,
//! the lowest and the highest controlled temperature in it (so a dip when cold food went in
//! stays visible, where every n-th point would skip it), and the mean of each other column
//! (the target; an oven's probe and humidity).

use serde_json::{json, Map, Value};

/// The rows `get_cook` gives by default.
pub(super) const DEFAULT_POINTS: usize = 60;

/// The fewest and the most rows a caller may ask for.
pub(super) const POINTS_RANGE: (usize, usize) = (10, 240);

/// `curve` (`{"columns": ["seconds", c1, c2, …], "points": [[s, v1, v2, …], …]}`, as the
/// store gives it) in at most `slices` rows of `["minutes", "c1_min", "c1_max", "c2", …]`,
/// values to 0.1; `null` readings are left out of a slice, a slice without readings is
/// skipped.
pub(super) fn downsample(curve: &Value, slices: usize) -> Value {
    let columns: Vec<&str> = curve["columns"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let points: Vec<&Vec<Value>> = curve["points"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_array).collect())
        .unwrap_or_default();
    let readings = columns.len().saturating_sub(1);
    let mut names = vec!["minutes".to_owned()];
    if let Some(first) = columns.get(1) {
        names.push(format!("{first}_min"));
        names.push(format!("{first}_max"));
    }
    names.extend(columns.iter().skip(2).map(|c| (*c).to_owned()));
    let seconds = |p: &Vec<Value>| p.first().and_then(Value::as_f64).unwrap_or(0.0);
    let end = points.last().map_or(0.0, |p| seconds(p));
    let slices = slices.max(1);
    // Whole minutes per slice, so the rows read as a clock does.
    let minutes = ((end / 60.0) / slices as f64).ceil().max(1.0);
    let width = minutes * 60.0;
    let mut rows = Vec::new();
    let mut start = 0;
    while start < points.len() {
        let slice = (seconds(points[start]) / width).floor();
        let stop = points[start..]
            .iter()
            .position(|p| (seconds(p) / width).floor() != slice)
            .map_or(points.len(), |n| start + n);
        let values = |column: usize| -> Vec<f64> {
            points[start..stop]
                .iter()
                .filter_map(|p| p.get(column).and_then(Value::as_f64))
                .collect()
        };
        let mut row = vec![json!(slice * minutes)];
        let mut any = false;
        for column in 1..=readings {
            let found = values(column);
            any |= !found.is_empty();
            if column == 1 {
                let min = found.iter().copied().reduce(f64::min);
                let max = found.iter().copied().reduce(f64::max);
                row.push(tenth(min));
                row.push(tenth(max));
            } else {
                let mean =
                    (!found.is_empty()).then(|| found.iter().sum::<f64>() / found.len() as f64);
                row.push(tenth(mean));
            }
        }
        if any {
            rows.push(Value::Array(row));
        }
        start = stop;
    }
    let mut out = Map::new();
    out.insert("columns".into(), json!(names));
    out.insert("slice_minutes".into(), json!(minutes));
    out.insert("points_recorded".into(), json!(points.len()));
    out.insert("points".into(), Value::Array(rows));
    Value::Object(out)
}

fn tenth(value: Option<f64>) -> Value {
    value.map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_of_points_become_a_few_rows_that_keep_the_dip() {
        // Three hours, a point every 10 s: heating to 60, a dip to 52 at 90 min, back to 60.
        let points: Vec<Value> = (0..1080)
            .map(|i| {
                let s = i * 10;
                let t = if s < 1800 {
                    20.0 + 40.0 * f64::from(s) / 1800.0
                } else if s == 5400 {
                    52.0
                } else {
                    60.0
                };
                json!([s, t, 60])
            })
            .collect();
        let curve = json!({"columns": ["seconds", "water_temperature", "target_temperature"],
            "points": points});
        let out = downsample(&curve, 60);
        assert_eq!(
            out["columns"],
            json!([
                "minutes",
                "water_temperature_min",
                "water_temperature_max",
                "target_temperature"
            ])
        );
        assert_eq!(out["slice_minutes"], 3.0);
        assert_eq!(out["points_recorded"], 1080);
        let rows = out["points"].as_array().unwrap();
        assert!(rows.len() <= 60, "{}", rows.len());
        // The first 3 minutes: from 20 °C to 23.8 °C (at 170 s) on the way up.
        assert_eq!(rows[0], json!([0.0, 20.0, 23.8, 60.0]));
        let dip = rows.iter().find(|r| r[0] == 90.0).unwrap();
        assert_eq!(dip[1], 52.0, "{dip}");
        assert_eq!(dip[2], 60.0, "{dip}");
    }

    #[test]
    fn an_oven_curve_keeps_its_columns_and_gaps() {
        let curve = json!({"columns": ["seconds", "temperature", "target_temperature",
            "probe_temperature", "humidity"],
            "points": [[0, 25, 200, null, 40], [30, 80, 200, null, 35], [600, 190, 200, 30.04, null]]});
        let out = downsample(&curve, 60);
        assert_eq!(out["columns"].as_array().unwrap().len(), 6);
        assert_eq!(out["slice_minutes"], 1.0);
        let rows = out["points"].as_array().unwrap();
        assert_eq!(rows[0], json!([0.0, 25.0, 80.0, 200.0, null, 37.5]));
        assert_eq!(rows[1], json!([10.0, 190.0, 190.0, 200.0, 30.0, null]));
        assert_eq!(downsample(&json!({}), 60)["points"], json!([]));
    }
}
