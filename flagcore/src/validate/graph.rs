//! Reference graphs: segments that use segments, flags that require flags. Both must be
//! acyclic and shallow, because evaluation follows them recursively.

use crate::document::{Condition, Flag, Segment};
use crate::error::{ValidationError, ValidationErrorKind as Kind};

pub(super) fn check_segments(
    segments: &[(String, Segment)],
    max_depth: usize,
    errors: &mut Vec<ValidationError>,
) {
    let edges: Vec<Vec<usize>> = segments
        .iter()
        .map(|(_, segment)| {
            segment
                .rules
                .iter()
                .flatten()
                .filter_map(|condition| match condition {
                    Condition::InSegment(s) | Condition::NotInSegment(s) => Some(*s),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let names: Vec<&str> = segments.iter().map(|(n, _)| n.as_str()).collect();
    check(&edges, &names, "segments", "segment", max_depth, errors);
}

pub(super) fn check_prerequisites(
    flags: &[(String, Flag)],
    max_depth: usize,
    errors: &mut Vec<ValidationError>,
) {
    let edges: Vec<Vec<usize>> = flags
        .iter()
        .map(|(_, flag)| flag.prerequisites.iter().map(|(f, _)| *f).collect())
        .collect();
    let names: Vec<&str> = flags.iter().map(|(n, _)| n.as_str()).collect();
    check(&edges, &names, "flags", "prerequisite", max_depth, errors);
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    OnPath,
    Done,
}

/// Depth-first search without recursion (a hostile document may chain thousands of nodes):
/// reports each cycle once, and the node where a chain first gets deeper than `max_depth`.
fn check(
    edges: &[Vec<usize>],
    names: &[&str],
    section: &str,
    what: &str,
    max_depth: usize,
    errors: &mut Vec<ValidationError>,
) {
    let mut mark = vec![Mark::New; edges.len()];
    let mut depth = vec![1usize; edges.len()];
    // One stack for every root: a new one per root was an allocation per flag.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..edges.len() {
        if mark[root] != Mark::New {
            continue;
        }
        stack.push((root, 0));
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&child) = edges[node].get(*next) {
                *next += 1;
                match mark[child] {
                    Mark::New => {
                        mark[child] = Mark::OnPath;
                        stack.push((child, 0));
                    }
                    Mark::OnPath => {
                        let start = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut cycle: Vec<&str> =
                            stack[start..].iter().map(|(n, _)| names[*n]).collect();
                        cycle.push(names[child]);
                        errors.push(ValidationError::new(
                            Kind::Cycle,
                            &format!("{section}.{}", names[node]),
                            format!("{what} cycle: {}", cycle.join(" -> ")),
                        ));
                    }
                    Mark::Done => {}
                }
            } else {
                stack.pop();
                mark[node] = Mark::Done;
                let deepest = edges[node]
                    .iter()
                    .filter(|c| mark[**c] == Mark::Done)
                    .map(|c| depth[*c])
                    .max()
                    .unwrap_or(0);
                depth[node] = deepest + 1;
                if depth[node] == max_depth + 1 {
                    errors.push(ValidationError::new(
                        Kind::Limit,
                        &format!("{section}.{}", names[node]),
                        format!("{what} chain deeper than the limit of {max_depth} (max_reference_depth)"),
                    ));
                }
            }
        }
    }
}
