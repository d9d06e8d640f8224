//! The docs' links resolve. Every relative link of README.md, CONTRIBUTING.md,
//! CHANGELOG.md and docs/*.md names a file or folder that exists, and every `#anchor`, in
//! the same page or in another Markdown file, names a heading there, by the slugs GitHub
//! gives headings. Links inside code blocks and inline code are not links; `http(s)` and
//! `mailto` links are not followed. And every page under docs/ is linked from README.md,
//! so none is out of reach.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The pages whose links are checked, relative to the repository: the top-level ones,
/// then docs/*.md in name order (docs/results/ is history, not checked).
fn pages() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    let mut pages = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
        .map(String::from)
        .to_vec();
    pages.extend(docs);
    pages
}

/// How many `c` start `text`.
fn run_of(text: &str, c: u8) -> usize {
    text.bytes().take_while(|b| *b == c).count()
}

/// `text` with the lines of every fenced code block (its fences too) emptied, so that
/// neither headings nor links are read inside one. Line numbers are kept.
fn without_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The open fence: its character and length.
    let mut fence: Option<(u8, usize)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let marker = trimmed.bytes().next().filter(|b| b"`~".contains(b));
        let run = marker.map_or(0, |m| run_of(trimmed, m));
        let closes = match fence {
            Some((m, n)) => marker == Some(m) && run >= n && trimmed[run..].trim().is_empty(),
            None => false,
        };
        match fence {
            None if indent < 4 && run >= 3 => fence = marker.map(|m| (m, run)),
            Some(_) if closes => fence = None,
            None => out.push_str(line),
            Some(_) => {}
        }
        out.push('\n');
    }
    out
}

/// Where the first run of exactly `run` backticks starts in `text`, within its paragraph
/// (a code span does not cross a blank line).
fn closing(text: &str, run: usize) -> Option<usize> {
    let paragraph = text.split("\n\n").next().unwrap_or("");
    let bytes = paragraph.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let n = run_of(&paragraph[i..], b'`');
            if n == run {
                return Some(i);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    None
}

/// `text` with every inline code span (a run of backticks up to the next run of the same
/// length, across a line break too) replaced by a space; a run that is never closed is
/// kept as it is, as Markdown does.
fn without_code_spans(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if c != '`' {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let run = run_of(&text[i..], b'`');
        match closing(&text[i + run..], run) {
            Some(end) => {
                out.push(' ');
                i += run + end + run;
            }
            None => {
                out.push_str(&text[i..i + run]);
                i += run;
            }
        }
    }
    out
}

/// The targets of the inline links and images of `text` (`[text](target)`,
/// `![alt](<target> "title")`) and of its link reference definitions (`[label]: target`).
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        let inside = &rest[..rest.find(')').unwrap_or(rest.len())];
        let target = inside.split_whitespace().next().unwrap_or("");
        out.push(target.trim_matches(['<', '>']).to_owned());
    }
    for line in text.lines() {
        let definition = line
            .trim_start()
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("]:"))
            .filter(|(label, _)| !label.is_empty() && !label.contains(']'));
        if let Some((_, target)) = definition {
            out.push(target.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    out
}

/// Every link of the page `page` (relative to the repository), outside code.
fn links_of(page: &str) -> Vec<String> {
    links(&without_code_spans(&without_fences(&read(
        &root().join(page),
    ))))
}

/// The text of an ATX heading line (`## Title ##` -> `Title`), or `None`.
fn heading(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(' ');
    let hashes = run_of(rest, b'#');
    if line.len() - rest.len() > 3 || !(1..=6).contains(&hashes) {
        return None;
    }
    let title = &rest[hashes..];
    if !title.is_empty() && !title.starts_with([' ', '\t']) {
        return None;
    }
    let title = title.trim();
    // A closing sequence of #s counts only after a space (`## C#` keeps its #).
    let stripped = title.trim_end_matches('#');
    if stripped.is_empty() || stripped.ends_with([' ', '\t']) {
        Some(stripped.trim_end())
    } else {
        Some(title)
    }
}

/// GitHub's anchor for a heading: the text as rendered (a link's target dropped),
/// lowercased; every character that is not a letter, a digit, a space, a hyphen or an
/// underscore dropped; each space a hyphen.
fn slug(title: &str) -> String {
    let mut text = title.to_owned();
    while let Some(open) = text.find("](") {
        let close = text[open..].find(')').map_or(text.len(), |c| open + c + 1);
        text.replace_range(open..close, "");
    }
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of every heading of `text` outside code blocks, in order; a slug met again
/// gets `-1`, `-2`... as on GitHub.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for title in without_fences(text).lines().filter_map(heading) {
        let base = slug(title);
        let count = seen.entry(base.clone()).or_insert(0);
        out.push(match *count {
            0 => base,
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    out
}

/// What is wrong with the link `target` of `page`, if anything. `anchors_of` caches each
/// Markdown file's anchors.
fn problem(
    page: &str,
    target: &str,
    anchors_of: &mut BTreeMap<PathBuf, Vec<String>>,
) -> Option<String> {
    if target.is_empty() {
        return Some(format!("{page}: a link without a target"));
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let here = root().join(page);
    let file = match path {
        "" => here,
        path => here.parent().unwrap().join(path),
    };
    if !file.exists() {
        return Some(format!("{page}: {target}: no such file or folder"));
    }
    // Anchors into other kinds of files (a line of source) are not headings.
    let anchor = anchor.filter(|_| path.is_empty() || path.ends_with(".md"))?;
    let known = anchors_of
        .entry(file.clone())
        .or_insert_with(|| anchors(&read(&file)));
    if known.iter().any(|a| a == anchor) {
        None
    } else {
        Some(format!(
            "{page}: {target}: no heading with anchor #{anchor} (its anchors: {})",
            known.join(", ")
        ))
    }
}

#[test]
fn every_link_of_the_docs_resolves_to_a_file_and_a_heading() {
    let mut anchors_of = BTreeMap::new();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        for target in links_of(&page) {
            checked += 1;
            broken.extend(problem(&page, &target, &mut anchors_of));
        }
    }
    assert!(checked > 100, "the links were read: {checked}");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_under_docs_is_linked_from_the_readme() {
    let linked = links_of("README.md");
    let unlinked: Vec<String> = pages()
        .into_iter()
        .filter(|page| page.starts_with("docs/"))
        .filter(|page| {
            !linked
                .iter()
                .any(|t| t.split('#').next() == Some(page.as_str()))
        })
        .collect();
    assert!(
        unlinked.is_empty(),
        "not linked from README.md: {unlinked:?}"
    );
}

/// The reader itself, on what GitHub does with the same Markdown.
#[test]
fn anchors_and_links_are_read_as_github_reads_them() {
    let text = "# Title\n\
                ## `lab tune`: which settings to use\n\
                ## TLS and SCRAM: overlays/secure\n\
                ## The settings behind \"3 at 100 ms\" ##\n\
                ## Title\n   ### C#\n####### seven\n\
                ```sh\n# a comment, not a heading\n[not](a-link.md)\n```\n\
                See [a](a.md#x), ![b](<b.png> \"title\") and `[c](c.md)` or ``[d](d.md)``,\n\
                `across\na line [e](e.md)` and [f](f.md).\n[ref]: g.md\n";
    assert_eq!(
        anchors(text),
        [
            "title",
            "lab-tune-which-settings-to-use",
            "tls-and-scram-overlayssecure",
            "the-settings-behind-3-at-100-ms",
            "title-1",
            "c",
        ]
    );
    assert_eq!(
        links(&without_code_spans(&without_fences(text))),
        ["a.md#x", "b.png", "f.md", "g.md"]
    );
}
