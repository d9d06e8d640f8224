//! `lab check-manifests`: read the files, run the checks, print findings, notes and
//! skipped checks; fail when there is a finding.

use std::path::{Path, PathBuf};

use crate::manifests::{self, Context};

pub struct CheckArgs {
    pub files: Vec<PathBuf>,
    pub dockerfile: PathBuf,
    pub keda_namespace: String,
    pub strimzi: Option<String>,
    pub origin_base: Option<PathBuf>,
    pub rules: bool,
}

pub fn check_manifests(args: CheckArgs) -> anyhow::Result<()> {
    if args.rules {
        print_rules();
        return Ok(());
    }
    let mut documents = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let origin_base = args
            .origin_base
            .clone()
            .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).to_path_buf());
        documents.extend(
            manifests::documents(&text, &file.display().to_string(), &origin_base)
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
            .unwrap_or_else(|| crate::pins::pins().strimzi.clone()),
        dockerfile,
    };
    let report = manifests::check(&documents, &context);
    for finding in &report.findings {
        eprintln!("{finding}");
    }
    for note in &report.notes {
        println!("note (lab replay would refuse this): {note}");
    }
    for (rule, why) in &report.skipped {
        println!("skipped {rule}: {why}");
    }
    anyhow::ensure!(
        report.findings.is_empty(),
        "{} finding(s) in the manifests",
        report.findings.len()
    );
    println!(
        "manifests: {} documents checked against KEDA {}, Strimzi {} and Kubernetes {}: no findings{}",
        documents.len(),
        crate::pins::pins().keda,
        context.strimzi,
        crate::pins::pins().kubernetes_max,
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} check(s) skipped", report.skipped.len())
        }
    );
    Ok(())
}

fn print_rules() {
    for rule in crate::keda::rules::RULES
        .iter()
        .chain(crate::manifests::rules::RULES)
    {
        println!(
            "{}\n    checks:  {}\n    source:  {} ({})\n    fix:     {}",
            rule.id, rule.checks, rule.source, rule.versions, rule.fix
        );
    }
}
