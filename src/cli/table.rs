//! Plain aligned text tables for terminal output.

/// Renders rows under a header, columns padded to their widest cell.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// Milliseconds for people: `850ms`, `12.4s`, `3m 05s`.
pub fn duration(ms: Option<f64>) -> String {
    let Some(ms) = ms else {
        return "-".into();
    };
    if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else {
        let seconds = (ms / 1000.0).round() as u64;
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    }
}

/// The last 8 characters of an execution id: its random part (ids are UUIDv7, whose
/// first characters are a timestamp shared by executions started together), enough
/// to tell executions apart and to pass to `wfc show`.
pub fn short_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}
