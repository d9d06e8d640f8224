//! `lab check-manifests`: read the files, run the checks, print findings, notes and
//! skipped checks; fail when there is a finding.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use lab_manifests::Context;

/// Check the manifests: KEDA's rules, strict custom resources, and what a cluster enforces that schema validators miss.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// YAML files (for example the output of `kubectl kustomize k8s`).
    #[arg(required_unless_present = "rules")]
    pub files: Vec<PathBuf>,
    /// The Dockerfile whose targets the images must match.
    #[arg(long, default_value = "Dockerfile")]
    pub dockerfile: PathBuf,
    /// The namespace keda-operator runs in (it resolves trigger hosts from there).
    #[arg(long, default_value = "keda")]
    pub keda_namespace: String,
    /// The Strimzi release whose supported Kafka versions apply (default: the pinned one).
    #[arg(long)]
    pub strimzi: Option<String>,
    /// Directory of the kustomization that rendered FILES with
    /// `buildMetadata: [originAnnotations]` (origin paths are relative to it; default:
    /// each file's directory).
    #[arg(long)]
    pub origin_base: Option<PathBuf>,
    /// Print every rule with its upstream source and exit.
    #[arg(long)]
    pub rules: bool,
    /// Fail on advice too (settings KEDA accepts that users regret).
    #[arg(long)]
    pub strict: bool,
}

pub fn check_manifests(args: CheckArgs) -> anyhow::Result<()> {
    if args.rules {
        print_rules();
        return Ok(());
    }
    let mut documents = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let origin_base = args
            .origin_base
            .clone()
            .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
        documents.extend(
            lab_manifests::documents(&text, &file.display().to_string(), &origin_base)
                .map_err(|e| anyhow::anyhow!(e))?,
        );
    }
    let dockerfile = match std::fs::read_to_string(&args.dockerfile) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("cannot read {}: {e}", args.dockerfile.display()),
    };
    let context = Context {
        keda_namespace: args.keda_namespace,
        strimzi: args
            .strimzi
            .unwrap_or_else(|| lab_model::pins::pins().strimzi.clone()),
        dockerfile,
    };
    let report = lab_manifests::check(&documents, &context);
    for finding in &report.findings {
        eprintln!("{finding}");
    }
    for note in &report.notes {
        println!("note (lab replay would refuse this): {note}");
    }
    for (rule, why) in &report.skipped {
        println!("skipped {rule}: {why}");
    }
    println!(
        "checked {} document(s): {}",
        report.checked.len(),
        report.checked.join(", ")
    );
    for (kind, n, why) in &report.left_alone {
        println!("left alone: {kind} ({n}): {why}");
    }
    for advice in &report.advice {
        let rule = advice.rule.rule();
        println!(
            "advice: {}: {}: {} [{}]: {}\n    source: {}\n    change: {}",
            advice.file,
            advice.object,
            advice.field,
            rule.id,
            advice.message,
            rule.source,
            advice.fix
        );
    }
    anyhow::ensure!(
        report.findings.is_empty(),
        "{} finding(s) in the manifests",
        report.findings.len()
    );
    anyhow::ensure!(
        !args.strict || report.advice.is_empty(),
        "{} advice (--strict fails on advice)",
        report.advice.len()
    );
    println!(
        "manifests: {} documents checked against KEDA {}, Strimzi {} and Kubernetes {}: no findings, {} advice{}",
        documents.len(),
        lab_model::pins::pins().keda,
        context.strimzi,
        lab_model::pins::pins().kubernetes_max,
        report.advice.len(),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} check(s) skipped", report.skipped.len())
        }
    );
    Ok(())
}

fn print_rules() {
    for rule in lab_model::rules::RuleId::ALL.iter().map(|r| r.rule()) {
        println!(
            "{}\n    checks:  {}\n    source:  {} ({})\n    fix:     {}",
            rule.id, rule.checks, rule.source, rule.versions, rule.fix
        );
    }
}
