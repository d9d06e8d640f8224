//! `scripts/build-times` end to end on two tiny workspaces: each is built cold in a fresh
//! target directory, its lab test package chosen as the script chooses it (the model crate
//! where the tree has `lab/model`, else `keda-kafka-lab`), and one Markdown row per tree.
//! The timings themselves are figures, not asserted (the real run is quoted in
//! docs/architecture.md).

use std::path::Path;
use std::process::Command;

/// A git repository holding a workspace with the given lab packages (`(folder, name)`),
/// no dependencies, its lock file made offline.
fn tiny_tree(dir: &Path, packages: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    let members: Vec<String> = packages.iter().map(|(f, _)| format!("{f:?}")).collect();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    for (folder, name) in packages {
        let src = dir.join(folder).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            dir.join(folder).join("Cargo.toml"),
            format!("[package]\nname = {name:?}\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        std::fs::write(src.join("lib.rs"), "#[test]\nfn one() {}\n").unwrap();
    }
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("cargo", &["generate-lockfile", "--offline"]);
    run("git", &["init", "--quiet"]);
    run("git", &["add", "."]);
    run(
        "git",
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "--quiet",
            "-m",
            "tiny",
        ],
    );
}

#[test]
fn build_times_builds_each_tree_cold_and_prints_one_row_each() {
    let work = std::env::temp_dir().join(format!("build-times-{}", std::process::id()));
    let (split, whole) = (work.join("split"), work.join("whole"));
    tiny_tree(
        &split,
        &[
            ("lab", "keda-kafka-lab"),
            ("lab/model", "keda-kafka-lab-model"),
        ],
    );
    tiny_tree(&whole, &[("lab", "keda-kafka-lab")]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/build-times");
    let out = Command::new(script)
        .arg("--tree")
        .arg(&split)
        .arg("--before")
        .arg(&whole)
        .arg("--scratch")
        .arg(work.join("scratch"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("the script runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 3, "a header and two trees:\n{stdout}");
    assert!(
        rows[1].contains("`cargo test --no-run -p keda-kafka-lab-model`"),
        "{stdout}"
    );
    assert!(
        rows[2].contains("`cargo test --no-run -p keda-kafka-lab`"),
        "{stdout}"
    );
    for row in &rows[1..] {
        let seconds: Vec<&str> = row.split('|').skip(3).take(2).map(str::trim).collect();
        assert!(
            seconds.iter().all(|s| s
                .strip_suffix(" s")
                .is_some_and(|n| n.parse::<u64>().is_ok())),
            "{row}"
        );
    }
    // The fresh target directories are removed after each build.
    let left = std::fs::read_dir(work.join("scratch"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(left, 0, "{stdout}");
    std::fs::remove_dir_all(&work).unwrap();
}

/// docs/architecture.md quotes the real run that docs/results/build-times.md keeps: the
/// model's tests and the workspace, after and before the split, and the difference.
#[test]
fn the_architecture_page_quotes_the_measured_build_times() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let results = read("docs/results/build-times.md");
    let seconds = |row: usize| -> (u64, u64) {
        let line = results
            .lines()
            .filter(|l| l.starts_with("| ") && l.ends_with(" s |"))
            .nth(row)
            .unwrap_or_else(|| panic!("no row {row} in {results}"));
        let cells: Vec<u64> = line
            .split('|')
            .skip(3)
            .take(2)
            .map(|c| c.trim().trim_end_matches(" s").parse().unwrap())
            .collect();
        (cells[0], cells[1])
    };
    let ((tests_after, build_after), (tests_before, build_before)) = (seconds(0), seconds(1));
    let page = read("docs/architecture.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for quoted in [
        format!("empty target directory in {tests_after} s, against {tests_before} s"),
        format!(
            "builds cold in {build_after} s, {} s more than before",
            build_after as i64 - build_before as i64
        ),
        format!(
            "`cargo test --no-run -p keda-kafka-lab-model` | {tests_after} s | {build_after} s |"
        ),
        format!("`cargo test --no-run -p keda-kafka-lab` | {tests_before} s | {build_before} s |"),
    ] {
        assert!(
            page.contains(&quoted),
            "docs/architecture.md lacks {quoted:?}"
        );
    }
}
