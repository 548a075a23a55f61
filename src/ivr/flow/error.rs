//! Load errors, and finding the source line each one points at.
//!
//! yaml_serde reports locations only for syntax errors; once a document parses, the values no
//! longer know where they came from. Flow authors need "137.yaml:42: node `case_menu`: …", so
//! [`SourceMap`] re-reads the text and finds the line of a node's key (and of a field inside the
//! node) by indentation. It is a best effort for block-style YAML, which is how flows are
//! written; anything it cannot place falls back to the node's line, then to line 1.

use std::fmt;

/// One problem in one flow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowError {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub node: Option<String>,
    pub kind: FlowErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowErrorKind {
    /// Not YAML, or the top level of the file has the wrong shape.
    Syntax(String),
    /// A field names a node that does not exist.
    UnknownTarget {
        field: String,
        target: String,
    },
    /// `start:` names a node that does not exist.
    UnknownStart(String),
    /// No path from `start` leads to the node.
    Unreachable,
    /// A prompt id with no recorded prompt.
    MissingPrompt(String),
    /// A menu key with nothing after the colon.
    KeyWithoutTarget(String),
    /// A field that is missing, not allowed on this node type, or has a bad value.
    BadValue {
        field: String,
        reason: String,
    },
    UnknownQueue(String),
    /// A variable read that no node ever sets.
    UnknownVariable(String),
    /// Two files declare the same line.
    DuplicateLine(String),
    /// Nodes that lead to each other without ever waiting for the caller or the engine.
    Loop(Vec<String>),
}

impl fmt::Display for FlowErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowErrorKind::Syntax(m) => write!(f, "{m}"),
            FlowErrorKind::UnknownTarget { field, target } => {
                write!(f, "`{field}` goes to unknown node `{target}`")
            }
            FlowErrorKind::UnknownStart(s) => write!(f, "start node `{s}` does not exist"),
            FlowErrorKind::Unreachable => write!(f, "no path from the start node reaches it"),
            FlowErrorKind::MissingPrompt(p) => write!(f, "prompt `{p}` has no recording"),
            FlowErrorKind::KeyWithoutTarget(k) => write!(f, "menu key `{k}` has no target"),
            FlowErrorKind::BadValue { field, reason } => write!(f, "`{field}`: {reason}"),
            FlowErrorKind::UnknownQueue(q) => write!(f, "queue `{q}` is not configured"),
            FlowErrorKind::UnknownVariable(v) => write!(f, "variable `{v}` is never set"),
            FlowErrorKind::DuplicateLine(l) => write!(f, "line `{l}` is declared by another file"),
            FlowErrorKind::Loop(nodes) => {
                write!(f, "loop that never waits: {}", nodes.join(" -> "))
            }
        }
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(node) = &self.node {
            write!(f, "node `{node}`: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for FlowError {}

/// Line numbers of top-level keys, nodes and fields in one flow file.
pub(crate) struct SourceMap<'a> {
    lines: Vec<&'a str>,
}

/// The key of a `key: value` (or `key:`) line, unquoted; `None` for other lines.
fn line_key(trimmed: &str) -> Option<&str> {
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    for quote in ['"', '\''] {
        if let Some(rest) = trimmed.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..].starts_with(':').then(|| &rest[..end]);
        }
    }
    let colon = trimmed.find(':')?;
    let after = &trimmed[colon + 1..];
    (after.is_empty() || after.starts_with(' ')).then(|| trimmed[..colon].trim_end())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start();
    !trimmed.is_empty() && !trimmed.starts_with('#')
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        SourceMap {
            lines: text.lines().collect(),
        }
    }

    /// 0-based index of the first line after `parent` (or from the top when `None`) whose key is
    /// `key`, at the indentation of `parent`'s first child, within `parent`'s block.
    fn child(&self, parent: Option<usize>, key: &str) -> Option<usize> {
        let (from, parent_indent) = match parent {
            Some(p) => (p + 1, Some(indent(self.lines.get(p)?))),
            None => (0, None),
        };
        let mut child_indent = None;
        for (i, line) in self.lines.iter().enumerate().skip(from) {
            if !is_content(line) {
                continue;
            }
            let here = indent(line);
            if parent_indent.is_some_and(|p| here <= p) {
                return None;
            }
            let level = *child_indent.get_or_insert(here);
            if here == level && line_key(line.trim_start()) == Some(key) {
                return Some(i);
            }
        }
        None
    }

    /// 0-based index of the first line anywhere inside `parent`'s block with key `key`.
    fn nested(&self, parent: usize, key: &str) -> Option<usize> {
        let parent_indent = indent(self.lines.get(parent)?);
        for (i, line) in self.lines.iter().enumerate().skip(parent + 1) {
            if !is_content(line) {
                continue;
            }
            if indent(line) <= parent_indent {
                return None;
            }
            if line_key(line.trim_start()) == Some(key) {
                return Some(i);
            }
        }
        None
    }

    /// 1-based line of a top-level key, or 1.
    pub(crate) fn top(&self, key: &str) -> usize {
        self.child(None, key).map_or(1, |i| i + 1)
    }

    fn node_index(&self, node: &str) -> Option<usize> {
        self.child(self.child(None, "nodes"), node)
    }

    /// 1-based line of a node's key, or of `nodes:`.
    pub(crate) fn node(&self, node: &str) -> usize {
        self.node_index(node)
            .map_or_else(|| self.top("nodes"), |i| i + 1)
    }

    /// 1-based line of a problem's field inside a node: `keys.1` is found at its key `1`,
    /// `set.kind` at `set` (flow-style mappings share a line), `prompts` also as `prompt`.
    pub(crate) fn locate(&self, node: &str, field: &str) -> usize {
        let Some(n) = self.node_index(node) else {
            return self.node(node);
        };
        let last = field.rsplit('.').next().unwrap_or(field);
        let first = field.split('.').next().unwrap_or(field);
        let alias = field.strip_suffix('s').unwrap_or(field);
        [field, last, first, alias]
            .iter()
            .find_map(|key| self.nested(n, key))
            .map_or(n + 1, |i| i + 1)
    }

    /// For yaml_serde's "duplicate entry with key \"x\"" message about a node: the node and the
    /// 1-based line of its second definition.
    pub(crate) fn duplicate(&self, message: &str) -> Option<(String, usize)> {
        let rest = message.split("duplicate entry with key \"").nth(1)?;
        let key = &rest[..rest.find('"')?];
        // Only node names: a repeated field inside a node keeps yaml_serde's own location.
        self.node_index(key)?;
        let mut lines = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| is_content(l) && line_key(l.trim_start()) == Some(key));
        let (second, _) = lines.nth(1)?;
        Some((key.to_owned(), second + 1))
    }

    /// 1-based line of a field of a top-level section (e.g. `hours: monday:`), or the section's.
    pub(crate) fn section_field(&self, section: &str, field: &str) -> usize {
        let top = self.child(None, section);
        top.and_then(|s| self.child(Some(s), field))
            .or(top)
            .map_or(1, |i| i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "line: \"137\"\nstart: a\n# comment\nnodes:\n  a:\n    type: menu\n    keys:\n      \"1\": b\n      '2': c\n  b:\n    type: hangup\n  c: {type: hangup}\nhours:\n  friday: closed\n";

    #[test]
    fn finds_nodes_fields_and_sections() {
        let map = SourceMap::new(TEXT);
        assert_eq!(map.top("start"), 2);
        assert_eq!(map.node("a"), 5);
        assert_eq!(map.node("b"), 10);
        assert_eq!(map.node("c"), 12);
        assert_eq!(map.locate("a", "1"), 8);
        assert_eq!(map.locate("a", "2"), 9);
        assert_eq!(map.locate("a", "type"), 6);
        assert_eq!(map.locate("b", "keys"), 10);
        assert_eq!(map.locate("a", "keys.2"), 9);
        assert_eq!(map.locate("a", "types"), 6);
        assert_eq!(map.locate("a", "set.kind"), 5);
        assert_eq!(map.section_field("hours", "friday"), 14);
        assert_eq!(map.node("missing"), 4);
    }

    #[test]
    fn display_names_file_line_and_node() {
        let err = FlowError {
            file: "137.yaml".into(),
            line: 8,
            node: Some("a".into()),
            kind: FlowErrorKind::UnknownTarget {
                field: "keys.1".into(),
                target: "x".into(),
            },
        };
        assert_eq!(
            err.to_string(),
            "137.yaml:8: node `a`: `keys.1` goes to unknown node `x`"
        );
    }
}
