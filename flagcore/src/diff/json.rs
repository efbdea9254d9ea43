//! The `--json` form of a report (docs/format.md §7.7), written by hand so its members
//! keep the documented order.

use std::fmt::Write as _;

use serde_json::Value;

use super::DiffReport;

pub(super) fn report(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"{{"old_version":{},"new_version":{},"flags":["#,
        report.old_version, report.new_version
    );
    for (f, flag) in report.flags.iter().enumerate() {
        if f > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"flag":{},"change":"{}","evaluated":{},"changed":{},"transitions":["#,
            string(&flag.flag),
            flag.change,
            flag.evaluated,
            flag.changed
        );
        for (t, transition) in flag.transitions.iter().enumerate() {
            if t > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"from":{},"to":{},"count":{}}}"#,
                variant(transition.from.as_deref()),
                variant(transition.to.as_deref()),
                transition.count
            );
        }
        out.push_str(r#"],"structural":["#);
        for (s, change) in flag.structural.iter().enumerate() {
            if s > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"path":{},"what":{}}}"#,
                string(&change.path),
                string(&change.what)
            );
        }
        out.push_str("]}");
    }
    out.push_str(r#"],"segments":["#);
    for (s, segment) in report.segments.iter().enumerate() {
        if s > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"segment":{},"contexts":{},"changed":{}}}"#,
            string(&segment.segment),
            segment.contexts,
            segment.changed
        );
    }
    out.push_str("]}");
    out
}

fn string(text: &str) -> String {
    Value::from(text).to_string()
}

fn variant(name: Option<&str>) -> String {
    name.map_or_else(|| "null".to_owned(), string)
}
